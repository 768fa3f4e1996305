"""Scenarios for the faults a review of issue 10 found (persuasion fidelity), each through
the real attendance ingestion and the REST API on the real engine (SQLite and PostgreSQL).
Calendar as in test_persuasion (National Day 10-01..10-08 off, Sat 10-11 a make-up day)."""
from __future__ import annotations

from .documents_case import school_and_village_fail
from .forms_data import OVERSEE, REPORT, SEND_BACK


# --- the principal's send-backs of the dropout report are bounded by escalation (§6) -----

def test_a_second_send_back_tells_the_deputy_and_each_further_one_the_leader(scenario):
    town = scenario
    case_id = school_and_village_fail(town)
    town.at("2025-10-13", 9)
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", SEND_BACK)              # 1st: back to the head teacher only
    assert town.names("ht31") == ["dropout_report"]
    assert town.names("deputy") == [] and town.names("leader") == []
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", {**SEND_BACK, "report_return_reason": "原因写得太简单"})
    # 2nd: the head teacher revises again, and the task-force deputy is told beside it.
    assert town.names("ht31") == ["dropout_report"] and town.names("deputy") == ["send_back_oversee"]
    task = town.task("deputy", "send_back_oversee")
    detail = town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers("deputy")).json
    assert "2 次" in detail["instructions"] and "原因写得太简单" in detail["instructions"]
    assert task["due_at"].startswith("2025-10-14T")                # 1 working day
    town.complete("deputy", "send_back_oversee", {**OVERSEE, "supervised_on": "2025-10-13"})
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", SEND_BACK)              # 3rd: the leader
    assert town.names("leader") == ["send_back_decide"] and town.names("deputy") == []
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", SEND_BACK)              # 4th: the leader again, one task each
    assert town.names("leader") == ["send_back_decide", "send_back_decide"]
    town.complete("ht31", "dropout_report", REPORT)
    town.complete("pzx", "confirm_report", {"report_decision": "confirm", "report_no": "蛟中报〔2025〕5号",
                                            "report_sent_on": "2025-10-13"})
    assert sorted(town.names("town")) == ["issue_notice", "receive_report"]
    order = [t[:2] for t in town.tasks_in_order(case_id) if t[0].startswith("send_back")]
    assert order == [("send_back_oversee", "task_force_deputy"), ("send_back_decide", "task_force_leader"),
                     ("send_back_decide", "task_force_leader")]
    assert town.history_verified(case_id)


# --- early marriage: under 14 by the register's birth date, not by a typed box (§4) ------

def born(town, birth: str, child_id: int = 1) -> None:
    from datetime import date

    from sqlalchemy import update

    from ledger.models import Child
    with town.engine.db.transaction() as session:
        session.execute(update(Child).where(Child.id == child_id).values(birth_date=date.fromisoformat(birth)))


def test_early_marriage_under_14_by_the_register_is_a_mandatory_report(scenario):
    from .test_support_measures import village
    town = scenario
    born(town, "2011-10-11")              # 13 on the village check (Fri 10-10); 14 the next day
    case = village(town, cause="early_marriage", cause_detail="家人说已满 15 岁，已订婚", plan_measures=["other"])
    assert town.names("police") == ["mandatory_report"]
    task = town.task("police", "mandatory_report")
    detail = town.client.get(f"/api/v1/tasks/{task['task_id']}", headers=town.headers("police")).json
    assert "现年 **13 周岁**" in detail["instructions"] or "现年 13 周岁" in detail["instructions"]
    assert town.engine.runtime.variables(case.id, "village_check")["child_age"] == 13


def test_early_marriage_of_a_child_of_14_by_the_register_is_no_mandatory_report(scenario):
    from .test_support_measures import village
    town = scenario
    born(town, "2011-09-01")              # 14 since 2025-09-01, whatever the village typed
    case = village(town, cause="early_marriage", cause_detail="13 岁，已订婚", plan_measures=["other"])
    assert town.names("police") == []
    assert town.names("pzx") == ["plan_ack"]
    ack = town.task("pzx", "plan_ack")
    detail = town.client.get(f"/api/v1/tasks/{ack['task_id']}", headers=town.headers("pzx")).json
    assert "已满十四周岁（14 周岁）" in detail["instructions"]
    assert ("mandatory_report", "police_liaison", "town") not in town.tasks_in_order(case.id)
