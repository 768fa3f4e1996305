"""Chinese messages for form validation errors (jsonschema), shown next to each field."""
from __future__ import annotations

from jsonschema import ValidationError

_TYPES = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否", "array": "列表",
          "object": "对象"}
_FORMATS = {"date": "日期（YYYY-MM-DD）", "date-time": "日期时间", "email": "电子邮箱", "time": "时间"}
# What a ``pattern`` asks for, in words (the forms' shared patterns); any other pattern names the
# format note of the field's title (``证书编号（18位）``) when it has one.
_PATTERNS = {"^([01][0-9]|2[0-3]):[0-5][0-9]$": "时间（HH:MM，24小时制，例如 16:30）"}


# Case variables that forms name as date bounds (``x-notBefore: {"call_on": "$first_absence"}``).
CASE_DATES = {"first_absence": "首次无故缺课日", "returned_on": "返校日期", "done_on": "学籍恢复日期",
              "notice_issued_on": "通知书签发日期", "notice_served_on": "通知书送达日期",
              "report_sent_on": "报告单报送日期", "call_on": "电话联系日期", "visit_on": "家访日期",
              "village_on": "入户核实日期", "legal_on": "法治教育日期", "joint_on": "联合劝返日期",
              "referral_on": "移交日期", "struck_off_on": "销号日期",
              "report_filed_on": "班主任填报报告单的日期", "plan_on": "发现原因、制定方案的日期", "last_attempt_on": "最近一次劝返记录的日期",
              "report_received_on": "镇政府签收报告单的日期", "receipt_on": "镇政府签收报告单的日期",
              "cosign_on": "德育处会签日期", "suspension_applied_on": "休学申请日期", "approval_on": "审批日期",
              "year_start": "学年开始日", "year_end": "学年最后一天",
              "deadline_latest": "最迟截止日期（学年开始后 180 天）"}


# Case variables that forms name as number floors (``x-notBelow``): the county's home-teaching
# norm (ledger.home_teaching), given to each case at its start.
CASE_MINIMA = {"norm_visits_per_month": "县定送教标准（每月送教次数）",
               "norm_periods_per_visit": "县定送教标准（每次课时数）"}


def _bound_label(error: ValidationError) -> str:
    """What the date or time must not precede, in words: a case variable's name, or the
    sibling field's title in the form without its format note (``开始时间（时:分）`` →
    ``开始时间``; ``engine.runtime.formvalidation._order_bound``)."""
    bound = getattr(error, "bound", "")
    if bound.startswith("$"):
        return CASE_DATES.get(bound[1:], "")
    field = ((error.schema or {}).get("properties") or {}).get(bound) if isinstance(error.schema, dict) else None
    title = field.get("title", "") if isinstance(field, dict) else ""
    return title.split("（", 1)[0] if title.endswith("）") and not title.startswith("（") else title


def _pattern_message(pattern, schema) -> str:
    """"格式不正确" with what the field expects: the pattern's words, else the format note of the
    field's title (the part in full-width brackets), else nothing more."""
    wanted = _PATTERNS.get(pattern)
    title = schema.get("title", "") if isinstance(schema, dict) else ""
    if not wanted and isinstance(title, str) and title.endswith("）") and "（" in title:
        wanted = title[title.rindex("（") + 1:-1]
    return f"格式不正确，应为{wanted}" if wanted else "格式不正确"


def _choice_titles(schema) -> dict:
    """{value: title} of a string schema's ``oneOf`` choices."""
    options = schema.get("oneOf") if isinstance(schema, dict) else None
    return {o["const"]: o.get("title", o["const"]) for o in options or [] if isinstance(o, dict) and "const" in o}


REASON = "x-reason"


def form_message(error: ValidationError) -> str:
    """One short Chinese sentence for a jsonschema error (the field is shown beside it). A
    schema may give its own (``"x-reason"``: why a value is refused there, e.g. a field that
    contradicts another, ``then: {properties: {visit_guardian_name: {"not": {}, "x-reason":
    "监护人不在场，不能填写在场监护人姓名"}}}``)."""
    if isinstance(error.schema, dict) and isinstance(error.schema.get(REASON), str):
        return error.schema[REASON]
    v, value = error.validator, error.validator_value
    if v == "required":
        return "此项为必填项"
    if v == "type":
        wanted = value if isinstance(value, str) else (value[0] if value else "")
        return f"请填写{_TYPES.get(wanted, wanted)}"
    if v == "minLength":
        return "此项为必填项" if value == 1 else f"至少填写 {value} 个字"
    if v == "maxLength":
        return f"最多填写 {value} 个字"
    if v == "minimum":
        return f"不能小于 {value}"
    if v == "maximum":
        return f"不能大于 {value}"
    if v == "not":
        return "与其他填写项矛盾，请核对"
    if v in ("enum", "oneOf", "anyOf"):
        return "请从选项中选择"
    if v == "const":
        return "请确认此项" if value is True else "取值不正确"
    if v == "format":
        return f"格式不正确，应为{_FORMATS.get(value, value)}"
    if v == "pattern":
        return _pattern_message(value, error.schema)
    if v == "additionalProperties":
        return "包含表单中没有的字段"
    if v == "x-protected":
        return "此项由系统设定，不能通过表单修改"
    if v == "x-notAfterToday":
        return f"日期不能晚于今天（{value}）"
    if v == "x-notBeforeToday":
        return f"日期不能早于今天（{value}）"
    if v == "x-notAfterDays":
        return f"日期不能晚于 {value}，请核对年份"
    if v == "x-notBefore":
        label = _bound_label(error)
        return f"不能早于{label}（{value}）" if label else f"日期不能早于 {value}"
    if v == "x-notAfter":
        label = _bound_label(error)
        return f"不能晚于{label}（{value}）" if label else f"日期不能晚于 {value}"
    if v == "x-after":
        label = _bound_label(error)
        return f"应晚于{label}（{value}）" if label else f"应晚于 {value}"
    if v == "x-notBelow":
        bound = getattr(error, "bound", "")
        label = CASE_MINIMA.get(bound[1:], "") if isinstance(bound, str) and bound.startswith("$") else ""
        return f"低于{label}：至少 {value}" if label else f"不能小于 {value}"
    if v == "x-choicesByCase":
        titles = _choice_titles(error.schema)
        allowed = "、".join(titles.get(c, c) for c in value) if isinstance(value, list) else ""
        return f"与案件登记的情况不符，请选择：{allowed}" if allowed else "与案件登记的情况不符"
    if v == "x-choicesFrom":
        return "不是可选的人员，请从列表中选择"
    if v in ("minItems", "maxItems"):
        return f"请选择{'至少' if v == 'minItems' else '最多'} {value} 项"
    return "填写内容不符合要求"
