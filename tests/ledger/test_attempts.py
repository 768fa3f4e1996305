"""ledger.attempts: attempt rows read by the shared field convention, tolerant of forms that
do not have those fields yet (DOMAIN-REFERENCE §3.5: time, person, method, result)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ledger.attempts import from_steps

ZONE = ZoneInfo("Asia/Shanghai")
AT = datetime(2025, 10, 9, 12, 0, tzinfo=ZONE)


def step(seq, element_id, submitted, actor="ht31"):
    return {"seq": seq, "element_id": element_id, "actor": actor, "at": AT, "submitted": submitted}


def test_the_convention_fields_make_the_row_and_the_order_is_the_real_dates():
    rows = from_steps([
        step(9, "home_visit", {"visit_on": "2025-10-09", "visit_time": "15:00", "visit_participants": "班主任、德育处主任",
                               "visit_method": "home_visit", "visit_met": "父亲", "visit_attitude": "refusing",
                               "visit_result": "父亲不同意返校", "visit_next_step": "报村委会"}),
        step(3, "phone_call", {"call_on": "2025-09-29", "call_time": "16:30", "call_method": "phone",
                               "call_attitude": "hesitant", "call_result": "答应考虑"}),
        step(12, "leader_decision", {"decision": "continue"}),     # not an attempt: skipped
    ], ZONE)
    assert [(r.element_id, r.on, r.time, r.method_title, r.attitude_title, r.result) for r in rows] == [
        ("phone_call", "2025-09-29", "16:30", "电话", "犹豫观望", "答应考虑"),
        ("home_visit", "2025-10-09", "15:00", "家访", "拒绝送返", "父亲不同意返校")]
    assert rows[1].met == "父亲" and rows[1].next_step == "报村委会" and rows[1].people == "班主任、德育处主任"


def test_missing_fields_fall_back_to_the_completion_and_older_forms():
    rows = from_steps([step(5, "village_check", {"cause": "weariness", "grid_workers": "网格员两名"}, actor="vsjt"),
                       step(6, "joint_persuasion", {"joint_on": "not a date"}, actor="vsjt")],
                      ZONE, person=lambda username: username.upper())
    assert [(r.on, r.people, r.method, r.result) for r in rows] == [
        ("2025-10-09", "网格员两名", "door_check", "核实原因：weariness"),
        ("2025-10-09", "VSJT", "joint", "")]
