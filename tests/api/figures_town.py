"""A town whose figures were worked out by hand (issue 15 "Figures"; ledger.figures).

The clock starts 2025-09-01; the figures are read on 2025-11-10 (so October is a finished
month). Units as tests/api/town.py: schools zx (classes zx-3-1, zx-3-2) and fg (fg-1-1);
villages v-jt, v-fg. Children 1-4 come from town.py (born 2016-05-0N: 9 years old in October).

| child | school | village | flags | status story |
|---|---|---|---|---|
| 1 | zx | v-jt | | case A (**real engine**): begun 09-10 (absence run from 09-08), report filed 09-19 → 疑似辍学 (the town's notice open); notice served and struck off 10-15 returned_after_report → 在校 |
| 2 | zx | v-fg | | case B (real): begun 10-20, phone call open and overdue at October's end |
| 3 | fg | v-fg | | inserted events of case 9001: 09-25 疑似辍学; 10-08 returned → 在校; 11-03 疑似辍学 again |
| 4 | — | v-jt | | 失学 (not_enrolled) throughout |
| 5 | zx | v-jt | disability, born 2012-03-01 (13) | 辍学 throughout; case D (real): begun 10-01, at the dropout report (town tier) at October's end |
| 6 | fg | v-fg | disability | 送教上门 |
| 7 | zx | v-fg | disability | 因身体原因不具备学习条件 (group D) |
| 8 | fg | v-jt | | 转出 (group D) |
| 9 | fg | v-jt | | inserted event 10-10 notice_expired: 在校 → 辍学 |

October 2025, the town (as of 2025-11-01 00:00):
* statuses at the month's end: 1 在校, 2 在校, 3 在校, 4 失学, 5 辍学, 6 送教上门, 7 D, 8 D, 9 辍学.
* 辍学率 = out of school {4, 5, 9} ÷ counted {1,2,3,4,5,6,9} = 3/7 = 42.9%.
* 劝返率: stock on 10-01 = {1 (疑似), 3 (疑似), 5 (辍学)}, entered in October {9}: 4; back to
  在校 in October {3 (10-08), 1 (10-15)}: 2/4 = 50.0%.
* 巩固率: on the rolls on 09-01 {1, 2, 3, 6, 9} (4 失学, 5 辍学, 7, 8 group D are not); none
  left lawfully; not out of school at the end {1, 2, 3, 6}: 4/5 = 80.0%.
* 残疾儿童安置率: disabled {5, 6, 7}, 7 excluded (不具备学习条件): placed {6} of {5, 6}: 1/2 = 50.0%.
* open cases at the end: B (child 2, 9 years, school tier: only the phone call) and D (child 5,
  13 years, town tier: the dropout report is open); A closed 10-15: 2 cases.
* overdue tasks: B's phone call (due the next day, open): 1, at zx (its class zx-3-2).
* median days from first absence to return: child 3, case 9001 unknown to the engine, from its
  first event 09-25 to 10-08 = 13; child 1, from the absence run's first day 09-08 to 10-15 =
  37: median (13 + 37) / 2 = 25.0 days.
* re-dropout within 90 days: of {1, 3} back in October, 3 was 疑似辍学 again on 11-03: 1/2 =
  50.0%; both returns are under 90 days old on 11-10: watching 2.

Per unit (October): 辍学率 zx {1,2,5}→{5} 1/3 = 33.3, fg {3,6,9}→{9} 1/3 = 33.3, v-jt
{1,4,5,9}→{4,5,9} 3/4 = 75.0, v-fg {2,3,6}→0 0/3 = 0.0. 劝返率 zx {1,5}→{1} 1/2, fg {3,9}→{3}
1/2, v-jt {1,5,9}→{1} 1/3 = 33.3, v-fg {3}→{3} 1/1 = 100.0. 巩固率 zx 2/2 = 100.0, fg {3,6,9}
2/3 = 66.7, v-jt {1,9} 1/2 = 50.0, v-fg {2,3,6} 3/3 = 100.0. 安置率 zx {5} 0/1 = 0.0, fg {6}
1/1 = 100.0, v-jt {5} 0/1, v-fg {6} 1/1.

September 2025, the town (as of 2025-10-01 00:00): 辍学率 {4, 5} of 7 (1 and 3 are 疑似: counted,
not out) = 2/7 = 28.6%; 劝返率: stock on 09-01 {5}, entered {1 (09-19), 3 (09-25)}, none back:
0/3 = 0.0%; open cases: A only, at the town tier (its dropout report opened 09-12).
"""
from __future__ import annotations

import json
from datetime import date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from api.app import create_app
from api.settings import Settings
from api.wiring import build_engine
from engine.clock import FixedClock

from engine.persistence.models import HumanTask
from ledger.accounts import create_user
from ledger.attendance_models import CaseHandoff
from ledger.child_status import apply_case_events
from ledger.models import Child
from ledger.status_models import CaseEventRecord

from .town import PASSWORD, build_town

ZONE = ZoneInfo("Asia/Shanghai")

# A persuasion case cut to its tiers (the real diagram needs attendance days to move): the
# school's call, the village's check, the dropout report, the town's notice, the strike-off. It
# throws the same case_event messages as processes/persuasion.bpmn.
PERSUASION = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_fig" targetNamespace="http://baoxue.local/bpmn">
  <bpmn:message id="msg_case_event" name="case_event"/>
  <bpmn:collaboration id="collab_fig"><bpmn:participant id="p_fig" processRef="persuasion"/></bpmn:collaboration>
  <bpmn:process id="persuasion" name="劝返（统计测试）" isExecutable="true">
    <bpmn:laneSet id="lanes_fig">
      <bpmn:lane id="lane_ht" name="head_teacher"><bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>phone_call</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>dropout_report</bpmn:flowNodeRef><bpmn:flowNodeRef>filed</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_vs" name="village_secretary"><bpmn:flowNodeRef>village_check</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_tg" name="town_government"><bpmn:flowNodeRef>issue_notice</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_p" name="principal"><bpmn:flowNodeRef>strike_off</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>closed</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="phone_call" name="电话联系监护人">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="dueIn" value="&quot;P1D&quot;"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="village_check" name="入户核实原因"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="dropout_report" name="填报辍学情况报告单"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
    <bpmn:intermediateThrowEvent id="filed" name="报告单已报送">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:messageEventDefinition id="med_filed" messageRef="msg_case_event">
        <bpmn:extensionElements><spiffworkflow:messagePayload>{"child_id": child_id, "event": "report_filed"}</spiffworkflow:messagePayload></bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateThrowEvent>
    <bpmn:userTask id="issue_notice" name="签发限期返校通知书"><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f5b</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="strike_off" name="销号"><bpmn:incoming>f5b</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
    <bpmn:intermediateThrowEvent id="closed" name="结案">
      <bpmn:incoming>f6</bpmn:incoming><bpmn:outgoing>f7</bpmn:outgoing>
      <bpmn:messageEventDefinition id="med_closed" messageRef="msg_case_event">
        <bpmn:extensionElements><spiffworkflow:messagePayload>{"child_id": child_id, "event": "closed", "outcome": "returned_after_report"}</spiffworkflow:messagePayload></bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="phone_call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="phone_call" targetRef="village_check"/>
    <bpmn:sequenceFlow id="f3" sourceRef="village_check" targetRef="dropout_report"/>
    <bpmn:sequenceFlow id="f4" sourceRef="dropout_report" targetRef="filed"/>
    <bpmn:sequenceFlow id="f5" sourceRef="filed" targetRef="issue_notice"/>
    <bpmn:sequenceFlow id="f5b" sourceRef="issue_notice" targetRef="strike_off"/>
    <bpmn:sequenceFlow id="f6" sourceRef="strike_off" targetRef="closed"/>
    <bpmn:sequenceFlow id="f7" sourceRef="closed" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""

MORE_CHILDREN = {  # id: (class, school, village, birth, status, flags)
    5: ("zx-3-1", "zx", "v-jt", date(2012, 3, 1), "dropped_out", "disability"),
    6: ("fg-1-1", "fg", "v-fg", date(2015, 4, 6), "home_teaching", "disability,left_behind"),
    7: ("zx-3-2", "zx", "v-fg", date(2014, 7, 7), "exempt_health", "disability"),
    8: ("fg-1-1", "fg", "v-jt", date(2016, 8, 8), "transferred", ""),
    9: ("fg-1-1", "fg", "v-jt", date(2016, 9, 9), "enrolled", ""),
}
STATUS_OF_TOWN_CHILDREN = {4: "not_enrolled"}
INSERTED_EVENTS = [  # (child, instance, day, event, before, after)
    (3, 9001, "2025-09-25", "report_filed", "enrolled", "suspected_dropout"),
    (9, 9002, "2025-10-10", "notice_expired", "enrolled", "dropped_out"),
    (3, 9001, "2025-10-08", "returned", "suspected_dropout", "enrolled"),
    (3, 9003, "2025-11-03", "report_filed", "enrolled", "suspected_dropout"),
]
READ_ON = "2025-11-10"


def at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), ZONE)


def build(engine, clock) -> SimpleNamespace:
    """Build the town above on ``engine`` (whose clock is ``clock``, a FixedClock); leaves the
    clock at READ_ON. Returns the real cases' ids (a, b, d)."""
    build_town(engine)
    now = clock()
    with engine.db.transaction() as session:
        create_user(session, "county", "县教育局", PASSWORD, now=now, roles=[("county_bureau", "town")])
        for child_id, status in STATUS_OF_TOWN_CHILDREN.items():
            session.get(Child, child_id).enrolment_status = status
        for child_id, (klass, school, village, born, status, flags) in MORE_CHILDREN.items():
            session.add(Child(id=child_id, name=f"测试儿童{child_id}", gender="女", birth_date=born,
                              id_number=f"44010120150101{child_id:03d}X"[:18], class_code=klass, school_code=school,
                              village_code=village, enrolment_status=status, special_groups=flags, created_at=now))
    engine.repository.deploy({"persuasion.bpmn": PERSUASION.encode()}, actor="admin")
    run = engine.runtime

    def step(instance_id: int, element_id: str, actor: str, day: str) -> None:
        clock.set(at(day))
        run.complete_task(_open_task(engine, instance_id, element_id).id, {}, actor=actor)
        apply_case_events(engine)

    clock.set(at("2025-09-10"))
    a = run.start("persuasion", {"child_id": 1}, business_key="child:1", actor="ht31").instance_id
    step(a, "phone_call", "ht31", "2025-09-10")
    step(a, "village_check", "vsjt", "2025-09-12")
    step(a, "dropout_report", "ht31", "2025-09-19")
    clock.set(at("2025-10-01", 9))
    d = run.start("persuasion", {"child_id": 5}, business_key="child:5", actor="pzx").instance_id
    step(d, "phone_call", "ht31", "2025-10-01")
    step(d, "village_check", "vsjt", "2025-10-02")
    step(a, "issue_notice", "town", "2025-10-15")     # the child is back the day the notice is served
    step(a, "strike_off", "pzx", "2025-10-15")
    clock.set(at("2025-10-20"))
    b = run.start("persuasion", {"child_id": 2}, business_key="child:2", actor="ht32").instance_id
    with engine.db.transaction() as session:
        # Case A began with an absence run whose first day was 09-08 (the attendance hand-off).
        session.add(CaseHandoff(child_id=1, kind="absence", day=date(2025, 9, 10), count=3, first_day=date(2025, 9, 8),
                                reported_by="ht31", status="done", result=json.dumps({"child_id": 1, "instance_id": a}),
                                created_at=at("2025-09-10"), done_at=at("2025-09-10")))
        for number, (child_id, instance_id, day, event, before, after) in enumerate(INSERTED_EVENTS):
            session.add(CaseEventRecord(message_id=900_000 + number, instance_id=instance_id, child_id=child_id,
                                        event=event, status_before=before, status_after=after, at=at(day)))
            session.get(Child, child_id).enrolment_status = after
    clock.set(at(READ_ON))
    return SimpleNamespace(a=a, b=b, d=d)


def _open_task(engine, instance_id: int, element_id: str) -> HumanTask:
    with engine.db.read() as session:
        return session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open",
                                                       HumanTask.element_id == element_id)).one()


@pytest.fixture
def fig_app(db_url, tmp_path):
    """The app on the town above (SQLite and PostgreSQL); ``extensions["figures.cases"]``: a, b, d."""
    settings = Settings.from_env(database_url=db_url, var_dir=tmp_path, secret_key="test-secret",
                                 timezone="Asia/Shanghai")
    clock = FixedClock(datetime(2025, 9, 1, 8, 0, tzinfo=ZONE))
    engine = build_engine(settings, clock=clock)
    engine.migrate()
    app = create_app(settings, engine=engine)
    app.extensions["figures.cases"] = build(engine, clock)
    yield app
    engine.close()
