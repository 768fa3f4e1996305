"""Chinese messages for form validation errors (jsonschema), shown next to each field."""
from __future__ import annotations

from jsonschema import ValidationError

_TYPES = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否", "array": "列表",
          "object": "对象"}
_FORMATS = {"date": "日期（YYYY-MM-DD）", "date-time": "日期时间", "email": "电子邮箱", "time": "时间"}


def form_message(error: ValidationError) -> str:
    """One short Chinese sentence for a jsonschema error (the field is shown beside it)."""
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
    if v in ("enum", "oneOf", "anyOf"):
        return "请从选项中选择"
    if v == "const":
        return "请确认此项" if value is True else "取值不正确"
    if v == "format":
        return f"格式不正确，应为{_FORMATS.get(value, value)}"
    if v == "pattern":
        return "格式不正确"
    if v == "additionalProperties":
        return "包含表单中没有的字段"
    if v == "x-protected":
        return "此项由系统设定，不能通过表单修改"
    if v == "x-notAfterToday":
        return f"日期不能晚于今天（{value}）"
    if v == "x-notBeforeToday":
        return f"日期不能早于今天（{value}）"
    if v == "x-notBefore":
        return f"日期不能早于 {value}"
    if v in ("minItems", "maxItems"):
        return f"请选择{'至少' if v == 'minItems' else '最多'} {value} 项"
    return "填写内容不符合要求"
