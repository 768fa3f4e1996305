"""Timer values have bounds: a "P99999999Y" deadline would hold a server thread for hours in
SpiffWorkflow's month loop. Refused at deploy when written in the diagram; when it comes from
a variable, the step fails as an incident an administrator can fix and retry."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.definitions import validate_bundle
from engine.errors import StepFailed
from engine.timer_bounds import TimerValueOutOfBounds
from ledger.due import make_due_policy

from .helpers import deploy as deploy_file, open_tasks, task_named
from .test_validation import (DUE_PROCESS, FORMS_DIR, TIMER_LINE, assert_error, check_compiles, deploy,
                              edit)

DURATION = '<bpmn:timeDuration>"P3D"</bpmn:timeDuration>'


@pytest.mark.parametrize("timer, fragment", [
    ('<bpmn:timeDuration>"P99999999Y"</bpmn:timeDuration>', '"P99999999Y" is longer than 10 years'),
    ('<bpmn:timeDuration>"P3654D"</bpmn:timeDuration>', "longer than 10 years"),
    ('<bpmn:timeDuration>"P999999999W"</bpmn:timeDuration>', "longer than 10 years"),
    ('<bpmn:timeDuration>"P9999999999.5M"</bpmn:timeDuration>', "longer than 10 years"),
    ('<bpmn:timeDuration>"P' + "9" * 300 + 'D"</bpmn:timeDuration>', "longer than 100 characters"),
    ('<bpmn:timeDate>"2999-01-01T08:00:00+08:00"</bpmn:timeDate>', "outside 2000-01-01 to 2099-12-31"),
    ('<bpmn:timeDate>"1999-12-31T08:00:00+08:00"</bpmn:timeDate>', "outside 2000-01-01 to 2099-12-31"),
    ('<bpmn:timeCycle>"R99999/PT1H"</bpmn:timeCycle>', "repeats more than 10000 times"),
    ('<bpmn:timeCycle>"R/P99999999Y"</bpmn:timeCycle>', "longer than 10 years"),
    ('<bpmn:timeCycle>"R3/1990-01-01T08:00:00+08:00/P1D"</bpmn:timeCycle>', "outside 2000-01-01"),
])
def test_an_unbounded_timer_in_the_diagram_is_refused_at_deploy(timer, fragment):
    assert_error(deploy(edit(DURATION, timer)), 'visit_overdue', TIMER_LINE, fragment)


@pytest.mark.parametrize("timer", ['<bpmn:timeDuration>"P10Y"</bpmn:timeDuration>',
                                   '<bpmn:timeDuration>"P120M"</bpmn:timeDuration>',
                                   '<bpmn:timeDuration>"P3653D"</bpmn:timeDuration>',
                                   '<bpmn:timeDate>"2099-12-31T08:00:00+08:00"</bpmn:timeDate>',
                                   '<bpmn:timeDate>"2000-01-01T00:00:00+08:00"</bpmn:timeDate>',
                                   '<bpmn:timeCycle>"R10000/PT1H"</bpmn:timeCycle>'])
def test_timers_up_to_the_bounds_are_accepted(timer):
    assert deploy(edit(DURATION, timer)).errors == []


@pytest.mark.parametrize("due_in, fragment", [
    ("&quot;P99999999Y&quot;", "longer than 10 years"),
    ("&quot;2999-01-01&quot;", "outside 2000-01-01"),
    ("&quot;2999-01-01T08:00:00+08:00&quot;", "outside 2000-01-01"),
])
def test_an_unbounded_due_date_is_refused_at_deploy(due_in, fragment):
    bundle = validate_bundle({"d.bpmn": DUE_PROCESS.replace('&quot;P3D&quot;', due_in, 1).encode()},
                             check_compiles=check_compiles, form_dirs=[FORMS_DIR])
    (error,) = bundle.errors
    assert error.element_id == "home_check" and "dueIn" in error.message and fragment in error.message


def test_spiffworkflow_itself_refuses_an_unbounded_duration_before_its_month_loop():
    # The parse every caller goes through (its timer events, our scheduling, due dates).
    with pytest.raises(TimerValueOutOfBounds, match="longer than 10 years"):
        TimerEventDefinition.parse_iso_duration("P99999999Y")
    with pytest.raises(TimerValueOutOfBounds):   # a parsed dict that skipped the parse
        TimerEventDefinition.get_timedelta_from_start({"years": 99999999})


@pytest.mark.parametrize("wait_for, fragment", [
    ("P99999999Y", '"P99999999Y" is longer than 10 years'),
    ("P" + "9" * 500 + "D", "longer than 100 characters"),
])
def test_a_duration_from_a_variable_fails_the_step_as_an_incident_not_a_hang(engine, wait_for, fragment):
    deploy_file(engine, "timers.bpmn")
    started = engine.runtime.start("timers", {"wait_for": wait_for})
    review = task_named(engine, started.instance_id, "review")
    with pytest.raises(StepFailed) as err:
        engine.runtime.complete_task(review.id, {}, actor="u")
    assert err.value.element_id == "wait_day" and fragment in err.value.message
    (incident,) = engine.runtime.incidents(started.instance_id)
    assert incident.element_id == "wait_day" and fragment in incident.message
    # The administrator fixes the variable and retries: the case waits a day as meant.
    engine.runtime.set_variables(started.instance_id, {"wait_for": "P1D"}, actor="admin")
    assert engine.runtime.retry(incident.id, actor="admin").status == "active"
    assert open_tasks(engine, started.instance_id) == []
    assert engine.runtime.incidents(started.instance_id) == []


def test_a_due_date_from_a_variable_out_of_bounds_gives_no_due_date(caplog):
    from engine.calendar import BusinessCalendar
    from engine.runtime.hooks import TaskContext
    policy = make_due_policy(BusinessCalendar(timezone.utc))
    now = datetime(2025, 9, 30, 2, 0, tzinfo=timezone.utc)
    for value in ("P99999999Y", "2999-01-01", "2999-01-01T08:00:00+08:00"):
        task = TaskContext(instance_id=1, process_key="p", element_id="t", name="t", lane=None,
                           properties={"dueIn": "deadline"}, data={}, now=now, evaluate=lambda _: value)
        with caplog.at_level(logging.WARNING):
            assert policy(task) is None
        assert "outside" in caplog.text or "longer than 10 years" in caplog.text


def test_a_start_cycle_after_a_year_of_downtime_is_counted_forward_not_looped():
    from datetime import timedelta

    from engine.repository import next_start_time
    due = datetime(2025, 1, 1, tzinfo=timezone.utc)
    later = due + timedelta(days=365, seconds=30)
    assert next_start_time(due, {"cycles": 10_000, "seconds": 0.5}, later) is None   # all used up
    assert next_start_time(due, {"cycles": -1, "seconds": 60}, later) == (
        due + timedelta(days=365, minutes=1), {"cycles": -1, "seconds": 60})
    assert next_start_time(due, {"cycles": 3, "seconds": 60}, due + timedelta(seconds=60)) == (
        due + timedelta(minutes=2), {"cycles": 1, "seconds": 60})
