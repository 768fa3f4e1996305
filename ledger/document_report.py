"""《义务教育阶段学生辍学情况报告单》 as data (DOMAIN-REFERENCE §3.3; issue 10 §6).

What the school typed (``dropout_report``: cause, whereabouts, reason, suggestion) plus
what the system knows and nobody should retype:

* the last day at school and the consecutive unexcused school days come from attendance
  (``ledger.absence_runs``), counted on the last day reported up to the day the report was
  filed (DOMAIN.md "Three-tier persuasion": counts are consecutive unexcused school days);
* the cause category is the report's own choice, else the case's ``cause`` (recorded by the
  call, visit or village check; codes in ``CAUSES``);
* the measures are the recorded attempts (``ledger.attempts``) before the filing, with the
  dates they happened;
* the principal's number and date come from ``confirm_report`` (decision ``confirm``); the
  receipt from the town's own ``receive_report`` step (who completed it, and when).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from .absence_runs import absence_runs
from .attendance_models import PRESENT, AttendanceRecord
from .document_case import Case, cn_date
from .school_calendar import school_calendar

CAUSES = {"poverty": "家庭经济困难", "weariness": "厌学", "psychological": "心理问题", "family": "家庭原因",
          "working_away": "外出务工", "child_labour": "被招用务工", "early_marriage": "早婚早育",
          "left_with_parents": "随父母外出", "illness": "因病", "disability": "残疾",
          "studying_elsewhere": "在外地就读", "moved_away": "迁出本县", "abroad": "出国出境", "deceased": "死亡",
          "unknown": "原因不明", "other": "其他"}


def report(case: Case, *, upto: int | None = None) -> dict:
    """The report as filed last before audit sequence ``upto`` (all of it without):
    {filed_seq, filed_on, report_no, sent_on, confirmed_by, last_attended_on, absent_days,
    cause, cause_code, reason, whereabouts, suggestion, filed_by, returns: [{on, by, reason}],
    measures: [{measure, date, time, people, method, met, attitude, result, next_step}]};
    dates as 2025年10月17日. Raises LookupError when no report was filed before ``upto``."""
    filed = case.latest("dropout_report", before=upto)
    if filed is None:
        raise LookupError("no dropout report filed")
    confirmed = next((s for s in reversed(case.all("confirm_report"))
                      if s["seq"] > filed["seq"] and (upto is None or s["seq"] <= upto)
                      and s["submitted"].get("report_decision", "confirm") == "confirm"), None)
    got, sure = filed["submitted"], (confirmed or {}).get("submitted", {})
    last, days = attendance_facts(case, date.fromisoformat(case.done_on(filed)))
    cause = got.get("report_cause") or _recorded_cause(case, filed["seq"])
    returns = [{"on": cn_date(case.done_on(s)), "by": case.person(s["actor"]),
                "reason": s["submitted"].get("report_return_reason", "")}
               for s in case.all("confirm_report") if s["submitted"].get("report_decision") == "return"
               and (upto is None or s["seq"] < upto)]
    return {"filed_seq": filed["seq"], "filed_on": cn_date(case.done_on(filed)),
            "report_no": sure.get("report_no", ""), "sent_on": cn_date(sure.get("report_sent_on")),
            "confirmed_by": case.person(confirmed["actor"]) if confirmed else "",
            "last_attended_on": cn_date(last), "absent_days": days,
            "cause": CAUSES.get(cause, cause), "cause_code": cause, "reason": got.get("report_reason", ""),
            "whereabouts": case.title(filed, "report_whereabouts"), "suggestion": got.get("report_suggestion", ""),
            "filed_by": case.person(filed["actor"]), "returns": returns,
            "measures": [{"measure": a.measure, "date": cn_date(a.on), "time": a.time, "people": a.people,
                          "method": a.method_title, "met": a.met, "attitude": a.attitude_title,
                          "result": a.result, "next_step": a.next_step}
                         for a in case.attempts(before=filed["seq"])]}


def receipt(case: Case, *, after: int) -> dict:
    """The town's receipt of a report confirmed at sequence ``after``: {received_by,
    received_on}, blanks while ``receive_report`` is not done."""
    got = next((s for s in case.all("receive_report") if s["seq"] > after), None)
    if got is None:
        return {"received_by": "", "received_on": ""}
    return {"received_by": case.person(got["actor"]),
            "received_on": cn_date(got["submitted"].get("receipt_on") or case.done_on(got))}


def attendance_facts(case: Case, filed_on: date) -> tuple[date | None, int | None]:
    """(last day the child was present, consecutive unexcused school days) from the
    attendance ledger, on the last day reported for the child up to ``filed_on``. (None,
    None) when nothing was reported: the report then leaves blanks, never a typed guess."""
    row = case.row or {}
    if not row.get("id") or not row.get("school_code"):
        return None, None
    with case.engine.db.read() as session:
        day = session.scalar(select(AttendanceRecord.date).where(
            AttendanceRecord.child_id == row["id"], AttendanceRecord.date <= filed_on)
            .order_by(AttendanceRecord.date.desc()).limit(1))
        if day is None:
            return None, None
        run = absence_runs(session, school_calendar(session, case.zone), row["school_code"], day, [row["id"]])[row["id"]]
        before = run.first_day or day
        last = session.scalar(select(AttendanceRecord.date).where(
            AttendanceRecord.child_id == row["id"], AttendanceRecord.status == PRESENT,
            AttendanceRecord.date < before).order_by(AttendanceRecord.date.desc()).limit(1))
    return last, run.count


def _recorded_cause(case, before: int) -> str:
    """The cause last recorded before the report, latest step first (village check, visit,
    call): read from the steps, since the case's top-level data need not hold a cause set
    inside the persuade subprocess. "" when none was recorded."""
    recorded = [s for s in case.steps if s["seq"] < before and s["submitted"].get("cause")]
    return recorded[-1]["submitted"]["cause"] if recorded else ""
