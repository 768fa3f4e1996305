"""``/admin/access-log``: the administrator reads who saw, revealed, changed, printed or
exported which personal record (DOMAIN.md "Personal data"; issue 13 "Access": every view of
a case or a child by inspectors and the leader is logged, and the log is visible to the
administrator). Read-only: no page or endpoint edits or deletes a row; the page says whether
the log's chain still verifies (``ledger.access_log.verify_access_log``).
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import func, or_, select

from ledger.access_log import verify_access_log
from ledger.case_list.filters import EARLIEST, LATEST
from ledger.form_choices import display_names
from ledger.models import AccessLog

from .common import admins_only, engine, page_number, page_url

bp = Blueprint("access_log", __name__, url_prefix="/admin")
bp.before_request(admins_only("访问日志仅限系统管理员查看。"))

PER_PAGE = 50
ACTIONS = {"view": "查看", "reveal": "显示完整信息", "change": "修改", "export": "导出", "print": "打印"}
VIEWS = {"case": "案件页", "case_events": "案件审计记录", "task": "待办任务", "element_runs": "流程图环节记录",
         "trace_export": "案件追溯数据", "trace_print": "案件追溯单", "photo": "照片", "inbox": "待办列表",
         "case_list": "案件列表"}
SUBJECTS = {"child": "儿童", "instance": "案件", "attendance": "考勤", "calendar": "校历", "user": "账号"}
FIELD_WORDS = {"name": "姓名", "gender": "性别", "id_number": "身份证号", "phone": "电话", "address": "住址",
               "birth_date": "出生日期", "guardian": "监护人", "guardian_phone": "监护人电话"}
FILTERS = ("username", "subject", "case", "action", "from", "to")


def _filters() -> tuple[dict, dict, dict]:
    """(the filters as typed, their parsed values, errors by field) from the query string."""
    typed = {k: request.args.get(k, "").strip()[:64] for k in FILTERS}
    parsed, errors = dict(typed), {}
    for key in ("from", "to"):
        if typed[key]:
            try:
                parsed[key] = date.fromisoformat(typed[key])
            except ValueError:
                errors[key] = "日期格式应为 年-月-日（如 2026-12-01）"
            else:
                if not EARLIEST <= parsed[key] <= LATEST:
                    errors[key] = f"日期应在 {EARLIEST.year} 年至 {LATEST.year} 年之间"
    if typed["case"] and not typed["case"].lstrip("#").isdigit():
        errors["case"] = "案件号应为数字"
    if typed["action"] and typed["action"] not in ACTIONS:
        errors["action"] = "未知的操作类型"
    if not errors and typed["from"] and typed["to"] and parsed["from"] > parsed["to"]:
        errors["to"] = "结束日期不能早于开始日期"
    return typed, parsed, errors


@bp.get("/access-log")
def access_log():
    """Newest first, 50 a page; filters: ``username``, ``subject`` (``child:12``,
    ``instance:5``, or a prefix such as ``child:``), ``case`` (a case number: the looks at that
    case, which are filed under its child), ``action``, ``from``/``to`` (local dates,
    inclusive). A bad filter: the page again with the reason beside it (422)."""
    typed, parsed, errors = _filters()
    eng = engine()
    rows, total, page = [], 0, page_number(request.args.get("page"))
    with eng.db.read() as session:
        chain = verify_access_log(session)
        if not errors:
            query = select(AccessLog)
            if typed["username"]:
                query = query.where(AccessLog.username == typed["username"])
            if typed["subject"]:
                query = query.where(AccessLog.subject.startswith(typed["subject"], autoescape=True))
            if typed["action"]:
                query = query.where(AccessLog.action == typed["action"])
            if typed["case"]:   # a look at a case is filed under its child: find it by the case in the detail
                number = int(typed["case"].lstrip("#"))
                query = query.where(or_(AccessLog.subject == f"instance:{number}",
                                        AccessLog.detail.like(f'%"instance_id": {number},%'),
                                        AccessLog.detail.like(f'%"instance_id": {number}}}%')))
            if typed["from"]:
                query = query.where(AccessLog.at >= _local_start(parsed["from"], eng.zone))
            if typed["to"]:
                query = query.where(AccessLog.at < _local_start(parsed["to"] + timedelta(days=1), eng.zone))
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = list(session.scalars(query.order_by(AccessLog.id.desc()).offset((page - 1) * PER_PAGE)
                                        .limit(PER_PAGE)))
        names = display_names(session, {r.username for r in rows})
    pages = max(1, -(-total // PER_PAGE))
    filters = {k: v for k, v in typed.items() if v}
    return render_template(
        "admin_access_log.html", rows=[_entry(r, names) for r in rows], filters=typed, errors=errors,
        actions=ACTIONS, total=total, chain_ok=chain.ok, page=page, pages=pages,
        prev_url=page_url("/admin/access-log", filters, page - 1) if page > 1 else None,
        next_url=page_url("/admin/access-log", filters, page + 1) if page < pages else None), 422 if errors else 200


def _local_start(day: date, zone) -> datetime:
    return datetime.combine(day, time(0), zone)


def _entry(row: AccessLog, names: dict) -> dict:
    try:
        detail = json.loads(row.detail or "{}")
    except ValueError:
        detail = {}
    detail = detail if isinstance(detail, dict) else {}
    kind, _, number = row.subject.partition(":")
    link = {"child": f"/children/{number}", "instance": f"/instances/{number}"}.get(kind) if number.isdigit() else None
    instance_id = detail.get("instance_id")
    shown = SUBJECTS.get(kind, "") + (f" #{number}" if number else "") if kind in SUBJECTS else \
        ("案件列表" if row.subject == "cases" else row.subject)
    return {"at": row.at, "username": row.username, "name": names.get(row.username),
            "action": ACTIONS.get(row.action, row.action), "subject": shown, "subject_link": link,
            "what": VIEWS.get(detail.get("view"), "" if row.subject == "cases" else detail.get("view") or ""),
            "instance_id": instance_id if isinstance(instance_id, int) else None,
            "fields": "、".join(FIELD_WORDS.get(str(f), str(f)) for f in detail.get("fields") or []),
            "reason": detail.get("reason")}
