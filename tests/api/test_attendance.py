"""Daily attendance through the REST API: counting in school days, checks, idempotency, rights."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ledger.school_calendar import fallback_years

from .attendance_helpers import E, P, U, counts, post_day, set_calendar_day, stored


def test_a_weekend_neither_breaks_nor_extends_a_run(client, as_user):
    assert counts(client, as_user, "2025-03-07", {1: U, 2: P}) == {1: 1, 2: 0}      # Friday
    assert counts(client, as_user, "2025-03-10", {1: U, 2: P}) == {1: 2, 2: 0}      # Monday


def test_national_day_2025_is_skipped_and_the_makeup_saturday_counts(client, as_user):
    assert counts(client, as_user, "2025-09-30", {1: U}) == {1: 1}
    assert counts(client, as_user, "2025-10-09", {1: U}) == {1: 2}     # 10-01..10-08 are holidays
    assert counts(client, as_user, "2025-10-10", {1: U}) == {1: 3}
    assert counts(client, as_user, "2025-10-11", {1: U}) == {1: 4}     # 调休: Saturday is a school day
    holiday = post_day(client, as_user, "2025-10-03", {1: U})
    assert holiday.status_code == 422 and "不是该校的上课日" in holiday.json["errors"]["date"]


def test_an_excused_day_pauses_the_run(client, as_user):
    """Issue 10 §2: leave (请假) neither counts nor ends the run: the case pauses."""
    assert counts(client, as_user, "2025-03-03", {1: U}) == {1: 1}
    assert counts(client, as_user, "2025-03-04", {1: E}) == {1: 0}
    assert counts(client, as_user, "2025-03-05", {1: U}) == {1: 2}
    assert counts(client, as_user, "2025-03-06", {1: P}) == {1: 0}
    assert counts(client, as_user, "2025-03-07", {1: U}) == {1: 1}   # a present day ends it


def test_the_schools_own_days_off_and_extra_days(client, app, as_user):
    set_calendar_day(app, "zx", date(2025, 3, 11), False, "期中放假")
    set_calendar_day(app, "town", date(2025, 3, 13), False, "台风停课")   # town-wide: every school
    set_calendar_day(app, "zx", date(2025, 3, 15), True, "补课（周六）")
    assert counts(client, as_user, "2025-03-10", {1: U}) == {1: 1}
    assert post_day(client, as_user, "2025-03-11", {1: U}).json["errors"]["date"].endswith("学校放假）")
    assert counts(client, as_user, "2025-03-12", {1: U}) == {1: 2}     # the term-break day is skipped
    assert counts(client, as_user, "2025-03-14", {1: U}) == {1: 3}     # so is the town's closure
    assert counts(client, as_user, "2025-03-15", {1: U}) == {1: 4}     # the extra Saturday counts
    assert post_day(client, as_user, "2025-03-13", {3: U}, user="pfg", school="fg").status_code == 422


def test_resending_a_day_changes_nothing(client, app, as_user):
    first = post_day(client, as_user, "2025-03-03", {1: U, 2: P}).json
    assert (first["recorded"], first["changed"]) == (2, 2)
    again = post_day(client, as_user, "2025-03-03", {1: U, 2: P}).json
    assert again == {"recorded": 2, "changed": 0, "outcomes": [], "cases_started": [], "messages_sent": [],
                     "case_errors": [], "pending": []}
    assert stored(app) == [(1, date(2025, 3, 3), U), (2, date(2025, 3, 3), P)]


def test_a_correction_to_present_is_applied_and_counts_as_a_return(client, app, as_user):
    assert counts(client, as_user, "2025-03-03", {1: U}) == {1: 1}
    assert counts(client, as_user, "2025-03-04", {1: U}) == {1: 2}
    corrected = post_day(client, as_user, "2025-03-04", {1: P}).json["outcomes"]
    assert corrected == [{"child_id": 1, "status": P, "consecutive_unexcused": 0, "returned": True}]
    assert stored(app)[-1] == (1, date(2025, 3, 4), P)
    later = post_day(client, as_user, "2025-03-05", {1: P}).json["outcomes"]
    assert later == [{"child_id": 1, "status": P, "consecutive_unexcused": 0, "returned": False}]


def test_present_after_excused_and_unexcused_days_is_a_return(client, as_user):
    post_day(client, as_user, "2025-03-03", {1: U, 2: E})
    post_day(client, as_user, "2025-03-04", {1: E, 2: E})
    outcomes = post_day(client, as_user, "2025-03-05", {1: P, 2: P}).json["outcomes"]
    assert [(o["child_id"], o["returned"]) for o in outcomes] == [(1, True), (2, False)]


def test_bad_rows_are_all_reported_and_nothing_is_stored(client, app, as_user):
    response = post_day(client, as_user, "2025-03-03", [
        {"child_id": 1, "status": U}, {"child_id": 99, "status": U}, {"child_id": 3, "status": P},
        {"child_id": 2, "status": "late"}, {"child_id": "x", "status": P}, {"child_id": 1, "status": P}])
    assert response.status_code == 422
    assert response.json["errors"] == {
        "records.1": "儿童 99 不存在或不在该校", "records.2": "儿童 3 不存在或不在该校",
        "records.3": "儿童 2 的状态 'late' 无效（应为 present、absent_excused 或 absent_unexcused）",
        "records.4": "学生ID 缺失或不是整数", "records.5": "儿童 1 重复出现（另见 records.0）"}
    assert stored(app) == []


def test_a_future_date_is_refused(client, app, as_user):
    tomorrow = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    response = post_day(client, as_user, tomorrow.isoformat(), {1: U})
    assert response.status_code == 422 and "未来的日期" in response.json["errors"]["date"]
    assert stored(app) == []


def test_head_teachers_report_their_own_class_only(client, app, as_user):
    assert counts(client, as_user, "2025-03-03", {1: U}, user="ht31") == {1: 1}
    other_class = post_day(client, as_user, "2025-03-03", {2: P, 1: P}, user="ht31")
    assert other_class.status_code == 422
    assert other_class.json["errors"] == {"records.0": "儿童 2 不在您的班级"}
    assert counts(client, as_user, "2025-03-03", {2: P}, user="regzx") == {2: 0}    # the registrar: any class
    assert stored(app) == [(1, date(2025, 3, 3), U), (2, date(2025, 3, 3), P)]


def test_a_head_teacher_cannot_tell_another_class_from_another_school_or_nobody(client, app, as_user):
    """Issue 8: for a reporter limited to classes, a child of another class (2), of another
    school (3) and an id that is nobody (99) all get the same answer."""
    response = post_day(client, as_user, "2025-03-03", {2: P, 3: P, 99: P}, user="ht31")
    assert response.status_code == 422
    assert response.json["errors"] == {"records.0": "儿童 2 不在您的班级", "records.1": "儿童 3 不在您的班级",
                                       "records.2": "儿童 99 不在您的班级"}
    assert stored(app) == []


def test_people_outside_the_school_are_refused(client, as_user):
    for user in ("ht11", "pfg", "vsjt", "leader", "admin"):
        response = post_day(client, as_user, "2025-03-03", {1: U}, user=user)
        assert response.status_code == 403, user
    assert client.post("/api/v1/attendance", json={"school_code": "zx", "date": "2025-03-03",
                                                   "records": [{"child_id": 1, "status": U}]}).status_code == 401
    malformed = client.post("/api/v1/attendance", headers=as_user("pzx"), json={"school_code": "zx", "date": "3月3日"})
    assert malformed.status_code == 422 and set(malformed.json["errors"]) == {"date", "records"}


def test_outside_chinesecalendars_years_weekdays_are_school_days_and_it_is_logged(client, as_user, caplog):
    assert fallback_years([2003, 2025, 2027]) == [2003, 2027]
    with caplog.at_level(logging.WARNING, logger="engine.calendar"):
        assert counts(client, as_user, "2003-03-07", {1: U}) == {1: 1}     # a Friday
        assert counts(client, as_user, "2003-03-10", {1: U}) == {1: 2}     # Monday: the weekend skipped
    assert "no statutory holiday data for 2003" in caplog.text
    assert post_day(client, as_user, "2003-03-08", {1: U}).status_code == 422   # Saturday


def test_in_the_callers_transaction_the_events_wait_for_the_commit(app, town):
    """Records and their case events commit together (an outbox); nothing reaches a case
    before the commit, and a rolled-back report leaves no event behind."""
    from sqlalchemy import select

    from ledger.attendance import apply_handoffs, record_day
    from ledger.attendance_models import CaseHandoff
    engine = app.extensions["baoxue.engine"]
    try:
        with engine.db.transaction() as session:
            record_day(session, "zx", date(2025, 3, 6), [{"child_id": 1, "status": U}], "pzx")
            raise RuntimeError("the caller's transaction fails")
    except RuntimeError:
        pass
    events = []
    for day, status in ((date(2025, 3, 7), U), (date(2025, 3, 10), U), (date(2025, 3, 11), P)):
        with engine.db.transaction() as session:
            result = record_day(session, "zx", day, [{"child_id": 1, "status": status}], "pzx")
        with engine.db.read() as session:
            events += [(r.kind, r.child_id, r.day, r.count, r.first_day, r.status)
                       for r in session.scalars(select(CaseHandoff).where(CaseHandoff.id.in_(result.handoff_ids)))]
        apply_handoffs(engine, result)
    assert events == [("absence", 1, date(2025, 3, 7), 1, date(2025, 3, 7), "pending"),
                      ("absence", 1, date(2025, 3, 10), 2, date(2025, 3, 7), "pending"),
                      ("returned", 1, date(2025, 3, 11), 0, None, "pending")]
    assert stored(app)[-1] == (1, date(2025, 3, 11), P)


def test_a_present_day_keeps_no_reason_left_from_an_absence(town, client, as_user, app):
    from sqlalchemy import select

    from ledger.attendance_models import AttendanceRecord
    post_day(client, as_user, "2025-03-07", [{"child_id": 1, "status": U, "reason": "不明原因"}])
    post_day(client, as_user, "2025-03-07", [{"child_id": 1, "status": P, "reason": "不明原因"}])
    with app.extensions["baoxue.engine"].db.read() as session:
        row = session.scalars(select(AttendanceRecord)).one()
        assert (row.status, row.reason) == (P, None)
