"""Issue 10 §1, §4, §8: the outcome depends on how far the case went, intermittent absence,
and the child's 就学状态 follows the case. Real attendance ingestion and the REST API on the
real engine (SQLite and PostgreSQL); the calendar is test_persuasion's (National Day
10-01..10-08 off, Sat 10-11 a make-up school day)."""
from __future__ import annotations

import re

from ledger.case_outcomes import OUTCOMES, STATUSES
from ledger.child_status import history, outcomes
from ledger.models import Child
from ledger.register import history as register_history
from tests.web.conftest import sign_in

from .forms_data import CALL, REGISTRY, STRIKE, VISIT, WEEK
from .harness import P, U
from .test_persuasion import start_case, through_notice


def status_of(town, child_id=1) -> str:
    with town.engine.db.read() as session:
        return session.get(Child, child_id).enrolment_status


def changes(town, child_id=1) -> list[tuple]:
    """(old, new, actor, case id, event) of each status change of the child."""
    with town.engine.db.read() as session:
        return [(r.status_before, r.status_after, r.actor, r.instance_id, r.event) for r in history(session, child_id)]


def closures(town, child_id=1) -> list[tuple]:
    with town.engine.db.read() as session:
        return [(r.instance_id, r.outcome, r.status_after) for r in outcomes(session, child_id)]


def weekly_checks(town, days=("2025-10-23", "2025-10-30", "2025-11-06", "2025-11-13"), hours=(18, 20, 22, 23)):
    """The four weeks of follow-up after a strike-off at 16:00 on Thu 10-16."""
    for day, hour in zip(days, hours):
        assert town.pass_until(day, hour) == 1
        town.complete("ht31", "weekly_check", {**WEEK, "week_checked_on": day})


def test_a_child_back_before_the_report_was_never_a_dropout(scenario):
    town = scenario
    case = start_case(town)
    town.complete("ht31", "phone_call", CALL)
    town.report("2025-09-30", {1: P})
    assert status_of(town) == "enrolled" and changes(town) == []
    assert town.names("regzx") == [] and town.names("livelihood") == [] and town.names("ht31") == []
    # 10 school days after Tue 09-30 (the holiday skipped, the make-up Sat 10-11 counted): end of Tue 10-21.
    assert town.pass_until("2025-10-21", 20) == 0
    assert town.pass_until("2025-10-22", 8) == 1
    assert town.case(1).status == "completed"
    assert closures(town) == [(case.id, "returned_before_report", "enrolled")]
    assert OUTCOMES["returned_before_report"].label == "劝返成功（未辍学）"
    assert [t[0] for t in town.tasks_in_order(case.id)] == ["phone_call"]
    assert changes(town) == []                               # 在校 throughout: nothing in the history


def test_the_watch_period_is_a_local_setting(scenario, monkeypatch):
    monkeypatch.setenv("BAOXUE_RETURN_WATCH_DAYS", "3")
    town = scenario
    case = start_case(town)
    town.complete("ht31", "phone_call", CALL)
    town.report("2025-09-30", {1: P})                        # 3 school days: 10-09, 10-10, 10-11
    assert town.pass_until("2025-10-11", 20) == 0
    assert town.pass_until("2025-10-12", 8) == 1
    assert closures(town) == [(case.id, "returned_before_report", "enrolled")]


def test_the_status_follows_the_case_through_report_deadline_and_return(scenario):
    town = scenario
    case = through_notice(town)
    assert status_of(town) == "suspected_dropout"             # the principal filed the report
    assert changes(town) == [("enrolled", "suspected_dropout", "pzx", case.id, "report_filed")]
    town.report_days("2025-10-13", "2025-10-15", {1: U})
    town.pass_until("2025-10-16", 8)                         # the notice's deadline (end of 10-15) passed
    assert status_of(town) == "dropped_out"
    assert changes(town)[-1] == ("suspected_dropout", "dropped_out", "timer", case.id, "notice_expired")
    town.report("2025-10-16", {1: P})                        # back: 在校 again, the registry is checked next
    assert status_of(town) == "enrolled"
    assert changes(town)[-1] == ("dropped_out", "enrolled", "pzx", case.id, "returned")
    assert town.names("regzx") == ["restore_registry"]
    # The registry never changed: the registrar says so instead of restoring it.
    town.complete("regzx", "restore_registry", {**REGISTRY, "registry_action": "unchanged", "done_on": "2025-10-16"})
    town.complete("livelihood", "strike_off", {**STRIKE, "struck_off_on": "2025-10-16"})
    weekly_checks(town)
    assert town.case(1).status == "completed"
    assert closures(town) == [(case.id, "returned_after_notice", "enrolled")]
    assert [c[:2] for c in changes(town)] == [
        ("enrolled", "suspected_dropout"), ("suspected_dropout", "dropped_out"), ("dropped_out", "enrolled")]
    assert town.history_verified(case.id)
    with town.engine.db.read() as session:   # the register's one history keeps the case's moves too
        register = [(r.actor, r.field, r.old_value, r.new_value, r.instance_id, r.reason)
                    for r in reversed(register_history(session, 1))]
    assert register == [("system", "enrolment_status", "enrolled", "suspected_dropout", case.id, f"案件 {case.id}：报告单已报送"),
                        ("system", "enrolment_status", "suspected_dropout", "dropped_out", case.id, f"案件 {case.id}：返校期限届满"),
                        ("system", "enrolment_status", "dropped_out", "enrolled", case.id, f"案件 {case.id}：学生返校")]


def test_a_return_after_the_report_restores_the_registry(scenario):
    town = scenario
    case = through_notice(town)
    town.report("2025-10-13", {1: P})
    assert status_of(town) == "enrolled" and town.names("regzx") == ["restore_registry"]
    assert [c[:2] for c in changes(town)] == [("enrolled", "suspected_dropout"), ("suspected_dropout", "enrolled")]
    returned = [e for e in town.audit(case.id, "message_received") if e.data["name"] == "returned"]
    assert returned[0].data["payload"]["status"] == "suspected_dropout"


def test_the_child_page_shows_the_status_history(scenario):
    town = scenario
    through_notice(town)
    town.report("2025-10-13", {1: P})
    browser = town.app.test_client()
    assert sign_in(browser, "pzx").status_code == 302
    html = browser.get("/children/1").get_data(as_text=True)
    assert "就学状态变更记录" in html
    assert "在校 → 疑似辍学" in html and "疑似辍学 → 在校" in html
    assert "报告单已报送" in html and "学生返校" in html
    # Who acted reads as a person's name or plain Chinese, never an account or an engine id.
    whos = re.findall(r'<td data-label="办理人">([^<]*)</td>', html)
    actors = {c[2] for c in changes(town)}
    assert whos and not any(w in actors or "instance:" in w or w == "" for w in whos), (whos, actors)


def test_absent_every_other_day_reaches_the_home_visit_and_present_days_are_no_return(scenario):
    town = scenario
    case = start_case(town)                                  # Mon 09-29
    town.complete("ht31", "phone_call", CALL)
    pattern = [("2025-09-30", P), ("2025-10-09", U), ("2025-10-10", P), ("2025-10-11", U), ("2025-10-13", P),
               ("2025-10-14", U), ("2025-10-15", P)]
    for day, status in pattern:
        town.report(day, {1: status})
        if status == U:
            town.complete("ht31", "phone_call", {**CALL, "call_on": day, "call_promised_return": day})  # same-day call
    assert town.names("ht31") == []
    fifth = town.report("2025-10-16", {1: U})                # 5 unexcused days within 20 school days
    assert fifth["messages_sent"][0]["reached"] == [case.id]
    town.complete("ht31", "phone_call", {**CALL, "call_on": "2025-10-16", "call_promised_return": "2025-10-17"})
    assert town.names("ht31") == ["home_visit"]              # the cumulative rule, not the run of 1
    quiet = town.report("2025-10-17", {1: P})                # the pattern holds: not a return
    assert quiet["messages_sent"] == [] and town.names("ht31") == ["home_visit"]
    town.complete("ht31", "home_visit", {**VISIT, "visit_on": "2025-10-17"})
    results = town.report_days("2025-10-20", "2025-11-03", {1: P})
    sent = [r["messages_sent"] for r in results]
    assert sent[:-1] == [[]] * (len(sent) - 1)               # still 5 within the window
    assert sent[-1][0]["message"] == "returned"              # 11-03: 09-29 left the window
    assert len(town.cases(1)) == 1 and status_of(town) == "enrolled"
    started = town.audit(case.id, "instance_started")[0].data["variables"]
    assert started["intermittent_days"] == 5


def test_intermittent_absence_opens_a_new_case_as_a_dropout_tendency(scenario, monkeypatch):
    monkeypatch.setenv("BAOXUE_RETURN_WATCH_DAYS", "1")
    monkeypatch.setenv("BAOXUE_INTERMITTENT_DAYS", "2")
    town = scenario
    first = start_case(town)
    town.complete("ht31", "phone_call", CALL)
    town.report("2025-09-30", {1: P})
    town.pass_until("2025-10-10", 8)                         # the one-day watch ended: closed
    assert closures(town) == [(first.id, "returned_before_report", "enrolled")]
    again = town.report("2025-10-10", {1: U})                # the 2nd unexcused day within 20
    [started] = again["cases_started"]
    variables = town.audit(started["instance_id"], "instance_started")[0].data["variables"]
    assert variables["trigger"] == "tendency" and "间断性缺课" in variables["tendency_reason"]
    assert variables["recent_absences"] == 2
    task = town.task("ht31", "phone_call")
    detail = town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers("ht31")).json
    assert "辍学倾向" in detail["instructions"]
    town.complete("ht31", "phone_call", {**CALL, "call_on": "2025-10-10", "call_promised_return": "2025-10-13"})
    assert town.names("ht31") == ["home_visit"]


def test_every_outcome_and_status_is_documented_in_the_one_list():
    assert set(OUTCOMES) >= {"returned_before_report", "returned_after_report", "returned_after_notice",
                             "home_teaching", "transferred", "suspended", "moved_away", "deceased"}
    assert "referred_to_county" not in OUTCOMES              # a stage of an open case (test_county_referral)
    assert all(o.status is None or o.status in STATUSES for o in OUTCOMES.values())
    assert {"enrolled", "suspected_dropout", "dropped_out", "home_teaching", "suspended", "transferred"} <= set(STATUSES)


def test_a_status_another_procedure_set_is_never_overwritten_by_the_case(scenario):
    from .forms_data import CONFIRM, REPORT
    from .test_persuasion import through_village
    town = scenario
    case = through_village(town)
    town.report("2025-10-11", {1: U})
    with town.engine.db.transaction() as session:
        session.get(Child, 1).enrolment_status = "transferred"     # e.g. a transfer recorded meanwhile
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", CONFIRM)
    assert status_of(town) == "transferred" and changes(town) == []
    with town.engine.db.read() as session:
        from ledger.status_models import CaseEventRecord
        [row] = session.query(CaseEventRecord).all()
    assert (row.instance_id, row.event, row.status_after) == (case.id, "report_filed", "transferred")
    assert "another procedure" in row.note


def test_a_case_event_the_ledger_could_not_apply_is_a_finding_of_baoxue_check(scenario):
    from ledger.checks import case_event_unapplied
    from ledger.child_status import apply_case_events
    town = scenario
    with town.engine.db.transaction() as session:
        town.engine.messages.enqueue(session, "case_event", {"child_id": 999}, {"child_id": 999, "event": "returned"},
                                     sender="instance:1")
    assert apply_case_events(town.engine) == 0           # no such child: left, never guessed
    [finding] = case_event_unapplied(town.engine)
    assert finding.check == "case_event_unapplied" and "999" in finding.message


def test_a_return_after_a_long_run_and_an_unreported_day_is_a_return_not_a_pattern(scenario):
    """5 days in a row, a day nobody reported, then present: a real return (the intermittent
    rule is about short runs, the unreported day neither ends nor extends the run)."""
    town = scenario
    through_notice(town)
    back = town.report("2025-10-14", {1: P})                 # 10-13 not reported
    assert back["messages_sent"][0]["message"] == "returned"
    assert town.names("regzx") == ["restore_registry"] and status_of(town) == "enrolled"
