"""Timer events that count working or school days (property ``dueDays``), and the edge of
"due": a timer due at exactly ``now`` fires on the next sweep, never in a loop."""
from __future__ import annotations

import ast
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.calendar import BusinessCalendar, add_working_days
from engine.definitions import validate_bundle
from engine.persistence.models import TimerJob
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .conftest import BPMN
from .helpers import deploy, open_tasks

ZONE = ZoneInfo("Asia/Shanghai")
CALENDAR = BusinessCalendar(ZONE)


def working_day_policy(task):
    """A due policy counting dueIn days as dueDays (what ledger.due does, without a school)."""
    raw = task.properties.get("dueIn")
    if not raw:
        return None
    days = TimerEventDefinition.parse_iso_duration(ast.literal_eval(raw)).get("days", 0)
    return CALENDAR.due_after(task.now, days, task.properties.get("dueDays", "calendar"))


@pytest.fixture
def engine(make_engine, clock):
    clock.set(datetime(2025, 9, 26, 10, 0, tzinfo=ZONE))     # Friday; Sunday 09-28 is a make-up working day
    return make_engine(due_policy=working_day_policy)


def jobs(engine):
    with engine.db.read() as session:
        return [(j.element_id, j.status, j.due_at.astimezone(ZONE)) for j in session.scalars(
            select(TimerJob).order_by(TimerJob.id))]


def test_a_working_day_timer_fires_after_the_third_working_day(engine, clock):
    deploy(engine, "working_days.bpmn")
    started = engine.runtime.start("working_days", {})
    # Fri 09-26 → Sun 09-28 (调休), Mon 09-29, Tue 09-30: due at the end of Tuesday.
    assert jobs(engine) == [("overdue", "waiting", datetime(2025, 9, 30, 23, 59, 59, tzinfo=ZONE))]
    assert engine.timers.fire_due(datetime(2025, 9, 30, 23, 0, tzinfo=ZONE)) == 0   # calendar P3D would have fired
    assert engine.timers.fire_due(datetime(2025, 10, 1, 0, 1, tzinfo=ZONE)) == 1
    assert sorted(t.element_id for t in open_tasks(engine, started.instance_id)) == ["oversee", "review"]
    assert engine.timers.fire_due(datetime(2025, 10, 20, tzinfo=ZONE)) == 0          # non-interrupting: once


def test_without_the_property_the_duration_is_calendar_time(engine, clock):
    xml = (BPMN / "working_days.bpmn").read_text().replace(
        '<spiffworkflow:property name="dueDays" value="working"/>', '')
    engine.repository.deploy({"calendar_days.bpmn": xml.encode()}, actor="t")
    engine.runtime.start("working_days", {})
    assert jobs(engine)[0][2] == datetime(2025, 9, 29, 10, 0, tzinfo=ZONE)


@pytest.mark.parametrize("timer, value, message", [
    ("timeDuration", "working_hours", 'dueDays "working_hours" must be one of'),
    ("timeDate", "working", "applies to a timeDuration only"),
    ("timeDuration", "school", "counts school days"),
])
def test_deploy_refuses_a_bad_days_property(engine, timer, value, message):
    xml = (BPMN / "working_days.bpmn").read_text().replace('value="working"', f'value="{value}"')
    if timer == "timeDate":
        xml = xml.replace('<bpmn:timeDuration>"P3D"</bpmn:timeDuration>',
                          '<bpmn:timeDate>"2025-10-01T00:00:00+08:00"</bpmn:timeDate>')
    else:
        xml = xml.replace('"P3D"', '"P1DT2H"') if value == "school" else xml
    errors = validate_bundle({"w.bpmn": xml.encode()}).errors
    assert [e.element_id for e in errors] == ["overdue"] and message in errors[0].message


def test_a_timer_due_exactly_now_waits_for_the_next_sweep(engine, clock):
    deploy(engine, "timers.bpmn")
    engine.runtime.start("timers", {"wait_for": "P1D"})
    [remind, _] = sorted(jobs(engine), key=lambda j: j[2])
    assert engine.timers.fire_due(remind[2]) == 0             # SpiffWorkflow fires strictly after
    assert engine.timers.fire_due(remind[2] + timedelta(seconds=1)) == 1


def test_add_working_days_is_the_scripts_calendar():
    assert add_working_days("2025-09-30", 3) == "2025-10-11"        # 10-01..08 off; Sat 10-11 is 调休
    assert add_working_days("2025-10-10T18:00:00+08:00", 1) == "2025-10-11"   # 调休 Saturday
    assert add_working_days(date(2025, 10, 4), 0) == "2025-10-09"   # a day off counts from the next working day
    with pytest.raises(ValueError):
        add_working_days("2025-10-10", -1)
    with pytest.raises(ValueError):
        add_working_days("not a date", 1)


def test_a_timer_after_an_event_based_gateway_counts_its_own_working_days(engine, clock):
    """SpiffWorkflow waits on the gateway (its events' definitions moved into it): the timer
    catch event's ``dueDays`` still applies (projections._timer_properties)."""
    from tests.diagrams import flows, process_file
    from .helpers import deploy_diagram
    body = ('<bpmn:startEvent id="start"/><bpmn:eventBasedGateway id="wait"/>'
            '<bpmn:intermediateCatchEvent id="ping"><bpmn:signalEventDefinition/></bpmn:intermediateCatchEvent>'
            '<bpmn:intermediateCatchEvent id="late"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="dueDays" value="working"/></spiffworkflow:properties></bpmn:extensionElements>'
            '<bpmn:timerEventDefinition><bpmn:timeDuration>"P3D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
            '</bpmn:intermediateCatchEvent><bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>'
            + flows("start>wait", "wait>ping", "wait>late", "ping>end2", "late>end"))
    deploy_diagram(engine, process_file("gateway_days", body))
    engine.runtime.start("gateway_days", {})
    assert jobs(engine) == [("wait", "waiting", datetime(2025, 9, 30, 23, 59, 59, tzinfo=ZONE))]
