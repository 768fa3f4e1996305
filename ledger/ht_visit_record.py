"""The term record of a home-teaching case's visits (学期送教记录, issue 11): every visit of
the term as the teacher recorded it (date, time, class periods, content, the child's
response, the guardian's confirmation, photos), the visits that did not take place, and
each month against the county norm. Plain dicts for ``api.web.ht_documents``; no Flask here.

Terms end with January and July, as the process's term reviews do: the first term of school
year Y-(Y+1) runs from August Y to January Y+1 (``2025-2026-1``), the second from February
to July Y+1 (``2025-2026-2``). A month closed by the process is counted as the process
counted it (``month_checks``: the figures its shortfall tasks were sent with); the month in
progress is counted from the visits recorded so far (``home_teaching.month_figures``) and
not judged yet. Visits are listed by the date they took place.
"""
from __future__ import annotations

from .document_case import Case, cn_date
from .home_teaching import VISIT_ELEMENTS, month_figures

NOT_HELD = "未能送教"


def term_of(day: str) -> str:
    """``2025-2026-1`` for an ISO date (or month) in August 2025 ... January 2026."""
    year, month = int(day[:4]), int(day[5:7])
    if month >= 8:
        return f"{year}-{year + 1}-1"
    return f"{year - 1}-{year}-{1 if month == 1 else 2}"


def term_label(term: str) -> str:
    first, second, half = term.split("-")
    return f"{first}—{second}学年第{'一' if half == '1' else '二'}学期"


def term_months(term: str) -> list[str]:
    """The term's months, ``["2025-08", ..., "2026-01"]``."""
    first, second, half = (int(part) for part in term.split("-"))
    if half == 1:
        return [f"{first}-{m:02d}" for m in range(8, 13)] + [f"{second}-01"]
    return [f"{second}-{m:02d}" for m in range(2, 8)]


def is_term(term: str) -> bool:
    parts = term.split("-")
    return (len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4
            and int(parts[1]) == int(parts[0]) + 1 and parts[2] in ("1", "2"))


def visits(case: Case, photos: dict[str, list[dict]] | None = None) -> list[dict]:
    """Every recorded visit of the case, in the order recorded: {held, on, time, periods,
    content, response, guardian, teacher, scheduled, photos, reason, recorded_by, recorded_on}.
    ``photos``: the case's photos by task id (``task_photos.listed``); a visit's ``photos``
    are its own (``[{id, position, url, ...}]``, [] without them)."""
    found = []
    for step in case.steps:
        if step["element_id"] not in VISIT_ELEMENTS:
            continue
        given = step["submitted"]
        held = given.get("visit_held") is True
        guardian = "监护人不在场"
        if given.get("visit_guardian_present"):
            guardian = f"{given.get('visit_guardian_name', '')}（在场，已签名确认）" \
                if given.get("visit_guardian_confirmed") else f"{given.get('visit_guardian_name', '')}（在场，未签名）"
        found.append({"held": held, "on": given.get("visit_on") or case.done_on(step),
                      "time": "–".join(filter(None, (given.get("visit_start"), given.get("visit_end")))),
                      "periods": int(given.get("visit_periods") or 0) if held else 0,
                      "content": given.get("visit_content", ""), "response": given.get("visit_response", ""),
                      "guardian": guardian if held else "",
                      # who completed the visit task; a visit recorded before the form lost its
                      # free-text teacher field keeps the name typed then
                      "teacher": given.get("visit_teacher") or case.person(step["actor"]),
                      "scheduled": step["element_id"] == "visit",
                      "photos": (photos or {}).get(step.get("task_id"), []),
                      "reason": given.get("visit_missed_reason", ""), "recorded_by": case.person(step["actor"]),
                      "recorded_on": case.done_on(step)})
    return found


def terms(case: Case, month_checks: list[dict]) -> list[str]:
    """The terms with a recorded visit or a counted month, oldest first."""
    days = [v["on"] for v in visits(case)] + [m["month"] for m in month_checks]
    return sorted({term_of(day) for day in days if day})


def term_record(case: Case, term: str, data: dict, today: str, photos: dict | None = None) -> dict:
    """The record of ``term`` (``is_term``): {term, term_label, child, visits (held, by date),
    missed, months: [{month, visits, periods, short_visits, met, open}], totals (of the closed
    months): {visits, periods, months, months_met, required_visits, required_periods}, norm:
    (visits, periods)}.
    ``data``: the case's variables (norm, month_checks); ``today``: ISO date (the open month);
    ``photos``: the case's photos by task id (``visits``)."""
    months = set(term_months(term))
    norm = (data.get("norm_visits_per_month") or 0, data.get("norm_periods_per_visit") or 0)
    recorded = [v for v in visits(case, photos) if v["on"][:7] in months]
    held = sorted((v for v in recorded if v["held"]), key=lambda v: (v["on"], v["time"]))
    counted = [dict(m, open=False) for m in data.get("month_checks") or [] if m.get("month") in months]
    current = today[:7]
    if current in months and current not in {m["month"] for m in counted} and data.get("case_status") == "teaching":
        figures = month_figures([{"periods": v["periods"]} for v in held if v["on"][:7] == current], *norm)
        counted.append({**figures, "month": current, "met": None, "open": True})
    closed = [m for m in counted if not m["open"]]
    totals = {"visits": sum(m["visits"] for m in closed), "periods": sum(m["periods"] for m in closed),
              "months": len(closed), "months_met": sum(1 for m in closed if m["met"]),
              "required_visits": norm[0] * len(closed), "required_periods": norm[0] * norm[1] * len(closed)}
    for visit in held:
        visit["date"] = cn_date(visit["on"])
    return {"term": term, "term_label": term_label(term), "child": case.child(), "visits": held,
            "missed": [v for v in recorded if not v["held"]], "months": counted, "totals": totals, "norm": norm}
