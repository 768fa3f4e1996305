"""Chinese for the API's error texts (the OpenAPI document promises Chinese reasons).

The engine and marshmallow speak English; a REST client's user reads Chinese. ``zh(text)``
gives ``"中文 (english)"`` for the texts they produce (the English kept for a client that
matched on it), or the text itself when it is already Chinese or unknown here.
"""
from __future__ import annotations

import re

# (pattern, Chinese template with the pattern's groups), tried in order.
_PATTERNS = [(re.compile(p), t) for p, t in (
    (r"^Missing data for required field\.$", "此项为必填项"),
    (r"^Field may not be null\.$", "此项不能为空"),
    (r"^Unknown field\.$", "不认识的字段"),
    (r"^Not a valid integer\.$", "应为整数"),
    (r"^Not a valid number\.$", "应为数字"),
    (r"^Not a valid string\.$", "应为文本"),
    (r"^Not a valid boolean\.$", "应为是或否（true/false）"),
    (r"^Not a valid date\.$", "应为有效日期（YYYY-MM-DD）"),
    (r"^Not a valid datetime\.$", "应为有效的日期时间（ISO 8601）"),
    (r"^Not a valid list\.$", "应为列表"),
    (r"^Not a valid mapping type\.$", "应为对象"),
    (r"^Invalid input type\.$", "输入类型不正确"),
    (r"^Invalid value\.$", "值不正确"),
    (r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$", "应在 {0} 至 {1} 之间"),
    (r"^Must be greater than or equal to (\S+)\.$", "不能小于 {0}"),
    (r"^Must be less than or equal to (\S+)\.$", "不能大于 {0}"),
    (r"^Must be one of: (.+)\.$", "应为以下之一：{0}"),
    (r"^Length must be between (\d+) and (\d+)\.$", "长度应在 {0} 至 {1} 个字之间"),
    (r"^Shorter than minimum length (\d+)\.$", "至少 {0} 个字"),
    (r"^Longer than maximum length (\d+)\.$", "不能超过 {0} 个字"),
    (r"^request is invalid$", "请求内容有误，请按各字段的说明修改"),
    (r"^form data is invalid$", "表单填写有误，请按各字段的说明修改"),
    (r"^form data must be a JSON object$", "表单内容应为 JSON 对象"),
    (r"^task \S+ is already (completed|cancelled|withdrawn)$", "该任务已办结或已撤回，不能再办理"),
    (r"^task \S+ is (?:already )?claimed by (\S+)$", "该任务已由 {0} 认领"),
    (r"^task \S+ is not open.*$", "该任务当前不能办理（已办结或尚未就绪）"),
    (r"^task \S+ is (\w+)$", "该任务当前状态为 {0}，不能办理"),
    (r"^incident \S+ is already (\w+)$", "该故障已处理（{0}）"),
    (r"^instance \S+ is suspended: .*$", "案件已暂停，恢复后才能办理"),
    (r"^instance \S+ is in error: .*$", "案件出错待处理，须先由系统管理员重试或处理其故障"),
    (r"^instance \S+ is (\w+): cannot (\w+)$", "案件当前状态为 {0}，不能执行此操作（{1}）"),
    (r"^instance \S+ is (\w+): only running instances move$", "案件状态为 {0}，只有未办结的案件可以迁移"),
    (r"^instance \S+ is (\w+)$", "该案件当前状态为 {0}，不能执行此操作"),
    (r"^a reason is required$", "请填写原因"),
    (r"^required$", "此项为必填项"),
    (r"^(\S+) has no version (\d+)$", "流程 {0} 没有第 {1} 版"),
    (r"^the instance is on version (\d+) already$", "案件已在第 {0} 版，请选择另一个版本"),
    (r"^an open instance of (\S+) with business key (\S+).*$", "已有一个进行中的案件（{0}，{1}）"),
)]
_CJK = re.compile(r"[\u4e00-\u9fff]")


def zh(text) -> str:
    """``"中文 (english)"`` for a known English error text; anything else unchanged."""
    if not isinstance(text, str) or _CJK.search(text):
        return text
    for pattern, template in _PATTERNS:
        match = pattern.match(text)
        if match:
            return f"{template.format(*match.groups())} ({text})"
    return text


def zh_errors(errors):
    """``zh`` over the values of a ``{field: text}`` map (a list of texts joined by "；")."""
    if not isinstance(errors, dict):
        return errors
    return {name: "；".join(zh(str(t)) for t in value) if isinstance(value, list) else zh(value)
            for name, value in errors.items()}


# The deploy's checks (engine.definitions) speak English around the diagram's own (often
# Chinese) names, so these are matched whatever the text holds. The English stays after.
_DEPLOY = [(re.compile(p, re.S), t) for p, t in (
    (r'^lane "(.*)" \((.+)\): "(.*)" is not a known role code.*$', "泳道「{0}」({1}) 不是已知的角色代码"),
    (r'^lane (\S+) has no name.*$', "泳道 {0} 没有名称（应为角色代码）"),
    (r'^(.+): form file "(.+)" \((\w+)\) was not found.*$', "{0}：找不到表单文件「{1}」"),
    (r'^(.+): form file "(.+)" \((\w+)\) is not valid JSON.*$', "{0}：表单文件「{1}」不是有效的 JSON"),
    (r'^(.+): form file "(.+)" \((\w+)\) is not a valid JSON Schema: (.+)$', "{0}：表单文件「{1}」不是有效的 JSON Schema：{3}"),
    (r'^(.+): form file "(.+)" \((\w+)\) (.+)$', "{0}：表单文件「{1}」有误"),
    (r'^the file is not valid JSON: (.+)$', "文件不是有效的 JSON：{0}"),
    (r'^the file is not a valid JSON Schema: (.+)$', "文件不是有效的 JSON Schema：{0}"),
    (r'^malformed XML: (.+)$', "XML 格式错误：{0}"),
    (r'^XML Schema: (.+)$', "不符合 BPMN 规范（XML Schema）：{0}"),
    (r'^sequence flow (\S+) from (\S+) points to targetRef "(.*)", but no element has that id$',
     "连线 {0}（从 {1} 出发）指向不存在的元素「{2}」"),
    (r'^(.+): (\w+): timer expression (.+) is evaluated as Python: write "(.+)" \(quoted\)$',
     "{0}：{1} 的表达式按 Python 求值，时长须加引号写成 \"{3}\""),
    (r'^(.+): (\w*[sS]cript) does not compile: (.+)$', "{0}：脚本（{1}）有语法错误：{2}"),
    (r'^(.+): (.+) does not compile: (.+)$', "{0}：{1} 有语法错误：{2}"),
    (r'^SpiffWorkflow could not parse this element: (.+)$', "SpiffWorkflow 无法解析此元素：{0}"),
    (r'^call activity (\S+) calls process "(.+)", which is not in these files$', "调用活动 {0} 调用的流程「{1}」不存在"),
    (r'^no executable process.*$', "没有可执行的流程"),
)]


def zh_deploy(text) -> str:
    """``"中文 (english)"`` for a deploy check's message (``{file, element_id, line,
    message}``); a message already in Chinese alone, or unknown here, unchanged."""
    if not isinstance(text, str) or _CJK.match(text):
        return text
    for pattern, template in _DEPLOY:
        match = pattern.match(text)
        if match:
            return f"{template.format(*match.groups())} ({text})"
    return text


def zh_deploy_report(report: dict) -> dict:
    """``zh_deploy`` over the messages of a dry run's ``errors`` and ``warnings``."""
    for key in ("errors", "warnings"):
        report[key] = [{**item, "message": zh_deploy(item.get("message"))} for item in report.get(key) or []]
    return report
