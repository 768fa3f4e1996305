"""Many writers on one instance at once (issue 8): a 409 or success, never a 500, nothing
lost. Quick versions; tests/stress/race.py runs the full ones."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from engine.errors import Busy, Conflict
from engine.persistence.models import Incident, ProcessInstance, TimerJob
from engine.runtime.hooks import Route

from .helpers import deploy, kinds, open_tasks


def _at_once(calls):
    """Run the calls in threads released together; returns each call's outcome."""
    outcomes, barrier = [None] * len(calls), threading.Barrier(len(calls))

    def run(index, call):
        barrier.wait()
        try:
            outcomes[index] = ("ok", call())
        except Conflict as exc:
            outcomes[index] = ("conflict", exc)
        except Exception as exc:  # noqa: BLE001 - a 500 in the API: the test fails on it
            outcomes[index] = ("error", exc)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_people_complete_the_two_parallel_tasks_at_once(make_engine):
    first, second = make_engine(), make_engine()       # two server processes, one database
    deploy(first, "parallel_pair.bpmn")
    for _ in range(4):
        started = first.runtime.start("parallel_pair", {})
        left, right = sorted(open_tasks(first, started.instance_id), key=lambda t: t.element_id)
        outcomes = _at_once([lambda: first.runtime.complete_task(left.id, {}, actor="a"),
                             lambda: second.runtime.complete_task(right.id, {}, actor="b")])
        # Writers of one instance queue on its lock: both succeed, the join fires once.
        assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
        assert [t.element_id for t in open_tasks(first, started.instance_id)] == ["after"]
        assert kinds(first, started.instance_id).count("task_completed") == 2


def test_a_person_and_the_timer_worker_on_one_instance(make_engine, clock):
    person, worker = make_engine(), make_engine()
    deploy(person, "parallel_pair.bpmn")
    later = clock() + timedelta(hours=2)
    for _ in range(4):
        started = person.runtime.start("parallel_pair", {})
        left = [t for t in open_tasks(person, started.instance_id) if t.element_id == "left"][0]
        outcomes = _at_once([lambda: person.runtime.complete_task(left.id, {}, actor="a"),
                             lambda: worker.timers.fire_due(later)])
        assert all(kind in ("ok", "conflict") for kind, _ in outcomes), outcomes
        assert person.runtime.get(started.instance_id).status == "active"
        assert person.runtime.incidents(started.instance_id) == []
    # Whatever lost the race is done by the next sweep; nothing fires twice.
    person.timers.fire_due(later)
    with person.db.read() as session:
        assert session.scalar(select(TimerJob).where(TimerJob.status == "waiting")) is None


def test_many_workers_fire_each_timer_exactly_once_and_never_an_incident(make_engine, clock):
    workers = [make_engine() for _ in range(3)]
    deploy(workers[0], "timers.bpmn")
    ids = [workers[0].runtime.start("timers", {"wait_for": "P1D"}).instance_id for _ in range(12)]
    later = clock() + timedelta(hours=3)        # both timers of every instance are due
    outcomes = _at_once([lambda w=w: w.timers.fire_due(later) for w in workers])
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    workers[0].timers.fire_due(later)           # a sweep after the race finds nothing left
    with workers[0].db.read() as session:
        assert session.scalars(select(Incident)).all() == []
        assert set(session.scalars(select(ProcessInstance.status))) == {"active"}
        jobs = session.scalars(select(TimerJob)).all()
    assert {job.status for job in jobs} <= {"fired", "cancelled"}
    for instance_id in ids:
        # The reminder fires, then the timeout (which cancels nothing already fired).
        assert kinds(workers[0], instance_id).count("timer_fired") == 2
    assert sum(1 for job in jobs if job.status == "fired") == 2 * len(ids)


def test_a_database_clash_inside_a_command_is_busy_not_an_incident(make_engine):
    calls = {"n": 0}

    def flaky_router(task):
        calls["n"] += 1
        if calls["n"] == 2:   # the second task routed: as if PostgreSQL chose this writer as deadlock victim
            raise OperationalError("SELECT ...", {}, Exception("deadlock detected"))
        return Route(role=task.lane)

    engine = make_engine(router=flaky_router)
    deploy(engine, "parallel_pair.bpmn")
    try:
        engine.runtime.start("parallel_pair", {})
    except Busy as exc:
        assert "SELECT" not in exc.message and "deadlock" not in exc.message
    else:
        raise AssertionError("the clash must surface as Busy")
    with engine.db.read() as session:
        assert session.scalars(select(Incident)).all() == []
        assert session.scalars(select(ProcessInstance)).all() == []   # rolled back whole
    assert engine.runtime.start("parallel_pair", {}).status == "active"   # the repeat succeeds
