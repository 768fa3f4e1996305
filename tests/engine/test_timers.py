"""Timers: boundary (interrupting and not), intermediate, start cycles; exactly once."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from engine.persistence.models import TimerJob

from .helpers import deploy, kinds, open_tasks, task_named


def waiting_jobs(engine):
    with engine.db.transaction() as session:
        return list(session.scalars(select(TimerJob).where(TimerJob.status == "waiting").order_by(TimerJob.due_at)))


def test_boundary_timers_non_interrupting_then_interrupting(engine, clock):
    deploy(engine, "timers.bpmn")
    started = engine.runtime.start("timers", {"wait_for": "P1D"})
    jobs = waiting_jobs(engine)
    assert [(j.element_id, j.due_at - clock()) for j in jobs] == [
        ("remind", timedelta(minutes=30)), ("timeout", timedelta(hours=2))]

    assert engine.timers.fire_due(clock() + timedelta(minutes=10)) == 0
    assert engine.timers.fire_due(clock() + timedelta(minutes=31)) == 1     # reminder, review stays
    assert [t.element_id for t in open_tasks(engine, started.instance_id)] == ["review"]
    assert engine.timers.fire_due(clock() + timedelta(minutes=31)) == 0     # never twice
    assert engine.timers.fire_due(clock() + timedelta(hours=3)) == 1        # timeout interrupts
    assert [t.element_id for t in open_tasks(engine, started.instance_id)] == ["escalated"]
    review_rows = engine.tasks.list(__import__("engine.tasks", fromlist=["TaskQuery"]).TaskQuery(
        status="cancelled", instance_id=started.instance_id))[0]
    assert [r.element_id for r in review_rows] == ["review"]
    assert kinds(engine, started.instance_id).count("timer_fired") == 2
    assert waiting_jobs(engine) == []


def test_completing_the_task_cancels_boundary_timers_and_intermediate_timer_waits(engine, clock):
    deploy(engine, "timers.bpmn")
    started = engine.runtime.start("timers", {"wait_for": "P1D"})
    engine.runtime.complete_task(task_named(engine, started.instance_id, "review").id, {}, actor="u")
    jobs = waiting_jobs(engine)
    assert [(j.element_id, j.due_at - clock()) for j in jobs] == [("wait_day", timedelta(days=1))]
    assert engine.timers.fire_due(clock() + timedelta(hours=23)) == 0
    assert engine.timers.fire_due(clock() + timedelta(days=1, seconds=1)) == 1
    assert [t.element_id for t in open_tasks(engine, started.instance_id)] == ["follow_up"]


def test_timer_start_event_cycle_starts_instances(engine, clock):
    deploy(engine, "timer_start.bpmn")
    assert engine.timers.fire_due(clock()) == 0
    assert engine.timers.fire_due(clock() + timedelta(hours=25)) == 1
    assert engine.timers.fire_due(clock() + timedelta(hours=25)) == 0
    assert engine.timers.fire_due(clock() + timedelta(hours=49)) == 1
    # A worker that was down for days starts one instance for the missed days (R3: three in all).
    assert engine.timers.fire_due(clock() + timedelta(days=10)) == 1
    assert engine.timers.fire_due(clock() + timedelta(days=20)) == 0
    from engine.tasks import TaskQuery
    rows, total = engine.tasks.list(TaskQuery(process_key="timer_start"))
    assert total == 3 and {r.element_id for r in rows} == {"report"}
    assert waiting_jobs(engine) == []


def test_two_workers_fire_each_timer_once(make_engine, clock):
    workers = [make_engine(), make_engine()]
    deploy(workers[0], "timers.bpmn")
    ids = [workers[0].runtime.start("timers", {"wait_for": "P1D"}).instance_id for _ in range(6)]
    later = clock() + timedelta(minutes=31)
    counts, barrier = [], threading.Barrier(2)

    def sweep(engine):
        barrier.wait()
        counts.append(engine.timers.fire_due(later))

    threads = [threading.Thread(target=sweep, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 6
    for instance_id in ids:
        assert kinds(workers[0], instance_id).count("timer_fired") == 1


def test_a_cycle_timer_catches_up_once_after_downtime(engine, clock):
    deploy(engine, "cycle_reminder.bpmn")
    started = engine.runtime.start("cycle_reminder", {})
    assert engine.timers.fire_due(clock() + timedelta(minutes=61)) == 1
    # A day later: one firing for the missed hours, then the next one is in the future.
    assert engine.timers.fire_due(clock() + timedelta(days=1, minutes=1)) == 1
    (job,) = waiting_jobs(engine)
    assert clock() + timedelta(days=1) < job.due_at <= clock() + timedelta(days=1, hours=1)
    assert kinds(engine, started.instance_id).count("timer_fired") == 2


def test_a_sweep_says_what_it_fired_for_which_case(engine, clock):
    """Issue 17: ``fire-due`` reports each timer (kind, case, element) instead of a bare count."""
    deploy(engine, "timers.bpmn", "timer_start.bpmn")
    started = engine.runtime.start("timers", {"wait_for": "P1D"}, business_key="child:7")
    fired = engine.timers.sweep(clock() + timedelta(hours=25))
    by_element = {f.element_id: f for f in fired}
    assert set(by_element) == {"remind", "timeout", "every_day"} and len(fired) == 3
    remind = by_element["remind"]
    assert (remind.kind, remind.instance_id, remind.process_key, remind.business_key, remind.element_name) == (
        "event", started.instance_id, "timers", "child:7", "Reminder")
    assert remind.due_at == clock() + timedelta(minutes=30)
    start = by_element["every_day"]
    assert (start.kind, start.process_key, start.element_name) == ("start", "timer_start", "Every day")
    assert start.instance_id != started.instance_id
    assert start.to_dict()["due_at"] == start.due_at.isoformat()
    assert engine.timers.sweep(clock() + timedelta(hours=25)) == []


def test_a_sweep_names_a_timer_whose_step_failed_with_its_incident(engine, clock):
    """A timer whose following step fails is not "nothing was due": the sweep lists it with
    the incident the administrator will find (the CLI prints it)."""
    from tests.diagrams import linear_process

    from .helpers import deploy_diagram
    deploy_diagram(engine, linear_process(
        "late_fail", '<bpmn:intermediateCatchEvent id="wait" name="Two days"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"P2D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        '<bpmn:scriptTask id="boom" name="Boom"><bpmn:script>x = 1 / 0</bpmn:script></bpmn:scriptTask>'))
    started = engine.runtime.start("late_fail", {}, business_key="child:3")
    swept = engine.timers.sweep(clock() + timedelta(days=3))
    assert [(f.instance_id, f.business_key, f.element_id, f.incident_id is not None) for f in swept] == [
        (started.instance_id, "child:3", "boom", True)]
    assert swept[0].incident_id == engine.runtime.incidents(started.instance_id)[0].id
    assert engine.timers.fire_due(clock() + timedelta(days=3)) == 0        # in error: skipped, not failed again
