"""The case list's filters: parsed from a query string or a form, checked, explained in Chinese.

One parser for ``GET /api/v1/process-instances`` and the ``/instances`` page, so both refuse
the same values with the same words. Every bad value is an ``InvalidInput`` whose ``errors``
name the field (422); nothing is stored by a list, so nothing changes on an error.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from engine.errors import InvalidInput
from engine.persistence.models import ProcessDefinition

from ..case_outcomes import OUTCOMES
from ..models import OrgUnit
from ..privacy import mask_name

STATUSES = {"running": "办理中", "waiting": "等待中（定时或消息）", "suspended": "已暂停", "completed": "已办结",
            "error": "出错待处理", "terminated": "已终止"}
# The engine's stored status "active" is running or waiting; the older filter value stays valid.
LEGACY_STATUSES = {"active": "进行中（办理中或等待中）"}
SORTS = {"started": "发起时间", "closed": "结案时间", "due": "最近期限", "id": "案件编号"}
ORDERS = ("asc", "desc")
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200
MAX_ID = 2**31 - 1
_NUMBER = re.compile(r"[0-9]{1,10}")      # ASCII digits only: int() takes "٣" and 5000 digits
CASE_NUMBER = re.compile(r"#?([0-9]{1,20})")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
DATE_FIELDS = (("started_from", "发起日期（起）"), ("started_to", "发起日期（止）"),
               ("closed_from", "结案日期（起）"), ("closed_to", "结案日期（止）"))


@dataclass
class CaseFilter:
    """What the case list shows. ``child`` is kept as typed; it is read as ``case_number`` (an
    instance id, "12" or "#12"), a masked name (``child_pattern``: 张*明, each * one character)
    or a full name (``child_name``, matched exactly on the real name, never shown)."""
    process_key: str | None = None
    version: int | None = None
    status: str | None = None
    outcome: str | None = None
    org_unit: str | None = None           # CONTRACT.md: a task's org unit
    school: str | None = None
    village: str | None = None
    child_id: int | None = None           # CONTRACT.md: the child's register id
    child: str | None = None
    step: str | None = None
    overdue: bool | None = None
    started_from: date | None = None
    started_to: date | None = None
    closed_from: date | None = None
    closed_to: date | None = None
    sort: str = "started"
    order: str = "desc"
    page: int | None = 1                  # None: every line (the export)
    per_page: int = DEFAULT_PER_PAGE
    case_number: int | None = field(default=None, repr=False)
    child_name: str | None = field(default=None, repr=False)
    child_pattern: str | None = field(default=None, repr=False)

    @classmethod
    def from_query(cls, args) -> "CaseFilter":
        """From text values (a query string, a form); empty values are no filter. Raises
        InvalidInput with ``errors`` {field: 中文} for every bad value at once."""
        errors: dict[str, str] = {}
        text = {key: str(args.get(key) if args.get(key) is not None else "").strip() for key in FIELDS}
        flt = cls()
        for key in ("process_key", "org_unit", "school", "village", "step"):
            if len(text[key]) > 255:
                errors[key] = "不能超过 255 个字"
            else:
                setattr(flt, key, text[key] or None)
        for key, name, low, high in (("version", "版本号", 1, MAX_ID), ("child_id", "儿童编号", 1, MAX_ID),
                                     ("page", "页码", 1, 10_000), ("per_page", "每页条数", 1, MAX_PER_PAGE)):
            raw = text[key]
            if not raw:
                continue
            if not _NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
                errors[key] = f"{name}应为 {low} 至 {high} 之间的整数"
            else:
                setattr(flt, key, int(raw))
        if flt.version is not None and not flt.process_key and "version" not in errors:
            errors["version"] = "按版本筛选时须同时选择流程"
        if text["status"] and text["status"] not in STATUSES and text["status"] not in LEGACY_STATUSES:
            errors["status"] = "没有这种状态，可选：" + "、".join(STATUSES.values()) + f"（{'/'.join(STATUSES)}）"
        else:
            flt.status = text["status"] or None
        if text["outcome"] and text["outcome"] not in OUTCOMES:
            errors["outcome"] = "没有这种结案结果"
        else:
            flt.outcome = text["outcome"] or None
        for key, allowed in (("sort", SORTS), ("order", ORDERS)):
            if text[key] and text[key] not in allowed:
                errors[key] = ("没有这种排序，可选：" + "、".join(SORTS.values()) + f"（{'/'.join(SORTS)}）"
                               if key == "sort" else "排序方向应为升序（asc）或降序（desc）")
            elif text[key]:
                setattr(flt, key, text[key])
        if text["overdue"].lower() not in _TRUE | _FALSE:
            errors["overdue"] = "应为是或否（1/0）"
        else:
            flt.overdue = True if text["overdue"].lower() in _TRUE else None
        _read_child(flt, text["child"], errors)
        _read_dates(flt, text, errors)
        if errors:
            raise InvalidInput("筛选条件不正确 (invalid filter)", errors=errors)
        return flt

    def check(self, session) -> None:
        """The filters that name stored things: a known process (and version of it), a school
        and a village that exist as such. InvalidInput naming each unknown one."""
        errors = {}
        if self.process_key and session.scalar(select(ProcessDefinition.id).where(
                ProcessDefinition.process_key == self.process_key).limit(1)) is None:
            errors["process_key"] = "没有这个流程"
        elif self.version is not None and session.scalar(select(ProcessDefinition.id).where(
                ProcessDefinition.process_key == self.process_key, ProcessDefinition.version == self.version)) is None:
            errors["version"] = f"该流程没有第 {self.version} 版"
        for key, kind, name in (("school", "school", "学校"), ("village", "village", "村（社区）")):
            code = getattr(self, key)
            if code and session.scalar(select(OrgUnit.kind).where(OrgUnit.code == code)) != kind:
                errors[key] = f"没有这个{name}"
        if errors:
            raise InvalidInput("筛选条件不正确 (invalid filter)", errors=errors)

    def public(self) -> dict:
        """The filters as shown and logged: set values only, dates as text, a full name masked
        (the access log and the page's address never carry a child's name)."""
        shown = {}
        for key in FIELDS:
            value = getattr(self, key)
            if key == "child" and self.child_name:
                value = mask_name(self.child_name)
            if value not in (None, "") and not (key in ("sort", "order", "page", "per_page")
                                                 and value == getattr(CaseFilter, key)):
                shown[key] = value.isoformat() if isinstance(value, date) else value
        return shown

    def as_dict(self) -> dict:
        return asdict(self)


FIELDS = ("process_key", "version", "status", "outcome", "org_unit", "school", "village", "child_id", "child",
           "step", "overdue", "started_from", "started_to", "closed_from", "closed_to", "sort", "order", "page",
           "per_page")


def _read_child(flt: CaseFilter, raw: str, errors: dict) -> None:
    if not raw:
        return
    if len(raw) > 64:
        errors["child"] = "不能超过 64 个字"
        return
    flt.child = raw
    number = CASE_NUMBER.fullmatch(raw)
    if number:
        if not 0 < int(number.group(1)) <= MAX_ID:
            errors["child"] = "案件编号超出范围"
        flt.case_number = int(number.group(1))
    elif "*" in raw:
        if raw.strip("*") == "" and len(raw) > 1:
            errors["child"] = "请至少写出姓名中的一个字"
        flt.child_pattern = raw
    else:
        flt.child_name = raw


# Dates a filter may name: a local day at the ends of ``date``'s range overflows in UTC.
EARLIEST, LATEST = date(1990, 1, 1), date(2199, 12, 31)


def _read_dates(flt: CaseFilter, text: dict, errors: dict) -> None:
    for key, name in DATE_FIELDS:
        if not text[key]:
            continue
        try:
            setattr(flt, key, date.fromisoformat(text[key]) if len(text[key]) == 10 else None)
        except ValueError:
            pass
        if getattr(flt, key) is None:
            errors[key] = f"{name}应为有效日期（YYYY-MM-DD）"
        elif not EARLIEST <= getattr(flt, key) <= LATEST:   # beyond what a local day converts to
            setattr(flt, key, None)
            errors[key] = f"{name}应在 {EARLIEST.year} 年至 {LATEST.year} 年之间"
    for low, high, name in (("started_from", "started_to", "发起"), ("closed_from", "closed_to", "结案")):
        if getattr(flt, low) and getattr(flt, high) and getattr(flt, low) > getattr(flt, high):
            errors[high] = f"{name}日期的止日早于起日"


def day_bounds(day: date, zone) -> tuple[datetime, datetime]:
    """The local calendar day ``day`` in ``zone`` as [start, next day's start), aware datetimes."""
    start = datetime.combine(day, time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)


def like_pattern(masked: str) -> str:
    """A masked name (张*明, 李*) as a LIKE pattern (张_明): each * stands for one character;
    LIKE's own wildcards in what was typed are escaped with ``\\``."""
    escaped = masked.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "_")
