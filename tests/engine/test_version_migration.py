"""Running instances across versions (issue 14): version N+1 while cases run on N; dry run
and migration where SpiffWorkflow's diff allows it, refusal where not; never half-moved."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from engine.errors import Conflict, InvalidInput, NotFound
from engine.persistence.models import HumanTask, ProcessInstance, WorkflowState
from engine.tasks import TaskQuery
from tests.diagrams import linear_process, user_task

from .helpers import deploy_diagram, kinds, open_tasks, task_named

V1 = linear_process("intake", user_task("visit", name="家访"), user_task("report", name="报告"))
# Only what lies ahead changes: the second task renamed, a third one added after it.
V2 = linear_process("intake", user_task("visit", name="家访"), user_task("report", name="书面报告"),
                    user_task("review", name="审核"))
# The first task is gone.
V3 = linear_process("intake", user_task("report", name="报告"))


def _complete(engine, instance_id, element_id):
    engine.runtime.complete_task(task_named(engine, instance_id, element_id).id, {}, actor="u")


def _state(engine, instance_id):
    with engine.db.read() as session:
        row = session.get(ProcessInstance, instance_id)
        tasks = sorted((t.id, t.element_id, t.name, t.status) for t in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id)))
        return row.definition_id, row.row_version, session.get(WorkflowState, instance_id).state, tasks


def test_running_cases_stay_on_their_version_until_migrated(engine):
    deploy_diagram(engine, V1)
    old = engine.runtime.start("intake", {})
    deploy_diagram(engine, V2)
    new = engine.runtime.start("intake", {})
    assert engine.repository.get(engine.runtime.get(old.instance_id).definition_id).version == 1
    assert engine.repository.get(engine.runtime.get(new.instance_id).definition_id).version == 2
    _complete(engine, old.instance_id, "visit")
    _complete(engine, old.instance_id, "report")
    assert engine.runtime.get(old.instance_id).status == "completed"    # v1's path: no review


def test_migration_of_a_case_before_the_changed_tasks(engine):
    deploy_diagram(engine, V1)
    case = engine.runtime.start("intake", {"note": "x"})
    visit = task_named(engine, case.instance_id, "visit")
    deploy_diagram(engine, V2)

    verdict = engine.versions.dry_run(case.instance_id, 2)
    assert (verdict["can_migrate"], verdict["reasons"], verdict["migrated"]) == (True, [], False)
    assert verdict["from"]["version"] == 1 and verdict["to"]["version"] == 2
    assert engine.repository.get(engine.runtime.get(case.instance_id).definition_id).version == 1  # dry

    moved = engine.versions.migrate(case.instance_id, 2, actor="admin")
    assert moved["migrated"] is True
    [open_row] = open_tasks(engine, case.instance_id)
    assert open_row.id == visit.id and open_row.status == "open"     # the same task, not a copy
    assert engine.repository.get(engine.runtime.get(case.instance_id).definition_id).version == 2
    [event] = [e for e in engine.history.events(case.instance_id) if e.kind == "instance_migrated"]
    assert '"from_version":1' in event.data and '"to_version":2' in event.data and event.actor == "admin"

    _complete(engine, case.instance_id, "visit")
    assert [(t.element_id, t.name) for t in open_tasks(engine, case.instance_id)] == [("report", "书面报告")]
    _complete(engine, case.instance_id, "report")
    _complete(engine, case.instance_id, "review")                     # the new version's step
    assert engine.runtime.get(case.instance_id).status == "completed"
    assert engine.runtime.variables(case.instance_id)["note"] == "x"  # data moved with it
    assert engine.history.verify_chain(case.instance_id).ok


def test_a_ready_task_whose_spec_changed_keeps_its_row_with_the_new_name(engine):
    deploy_diagram(engine, V1)
    case = engine.runtime.start("intake", {})
    _complete(engine, case.instance_id, "visit")
    report = task_named(engine, case.instance_id, "report")
    deploy_diagram(engine, V2)
    engine.versions.migrate(case.instance_id, 2, actor="admin")
    rows, _ = engine.tasks.list(TaskQuery(instance_id=case.instance_id, status=None))
    assert sorted((r.element_id, r.status) for r in rows) == [("report", "open"), ("visit", "completed")]
    assert task_named(engine, case.instance_id, "report").id == report.id
    assert task_named(engine, case.instance_id, "report").name == "书面报告"
    _complete(engine, case.instance_id, "report")
    assert [t.element_id for t in open_tasks(engine, case.instance_id)] == ["review"]


def test_migration_refused_where_a_completed_task_was_removed(engine):
    deploy_diagram(engine, V1)
    case = engine.runtime.start("intake", {})
    _complete(engine, case.instance_id, "visit")
    deploy_diagram(engine, V2)
    deploy_diagram(engine, V3)
    before = _state(engine, case.instance_id)

    verdict = engine.versions.dry_run(case.instance_id, 3)
    assert verdict["can_migrate"] is False
    reasons = {(r["code"], r["element_id"], r["name"]): r["reason"] for r in verdict["reasons"]}
    # The start event led to visit: its outputs changed too (it completed).
    assert set(reasons) == {("removed_completed", "visit", "家访"), ("changed_completed", "start", None)}
    assert reasons[("removed_completed", "visit", "家访")] == "已完成的步骤「家访」(visit)在新版本中被删除"
    with pytest.raises(Conflict) as refused:
        engine.versions.migrate(case.instance_id, 3, actor="admin")
    assert "visit" in {r["element_id"] for r in refused.value.errors}
    assert _state(engine, case.instance_id) == before
    assert "instance_migrated" not in kinds(engine, case.instance_id)


def test_migration_refused_where_a_completed_task_was_changed(engine):
    deploy_diagram(engine, V1)
    case = engine.runtime.start("intake", {})
    _complete(engine, case.instance_id, "visit")
    deploy_diagram(engine, linear_process("intake", user_task("visit", name="入户家访"),
                                          user_task("report", name="报告")))
    [reason] = engine.versions.dry_run(case.instance_id, 2)["reasons"]
    assert (reason["code"], reason["element_id"]) == ("changed_completed", "visit")


def test_bulk_dry_run_and_migration_count_moved_and_refused(engine):
    deploy_diagram(engine, V1)
    early = [engine.runtime.start("intake", {}).instance_id for _ in range(2)]
    late = engine.runtime.start("intake", {}).instance_id
    _complete(engine, late, "visit")
    deploy_diagram(engine, V2)
    deploy_diagram(engine, V3)

    dry = engine.versions.dry_run_version("intake", 1, 3)
    assert dry["counts"] == {"total": 3, "can_migrate": 0, "cannot_migrate": 3}   # visit removed: open or done
    dry = engine.versions.dry_run_version("intake", 1, 2)
    assert dry["counts"] == {"total": 3, "can_migrate": 3, "cannot_migrate": 0}

    # A case that completed its first task on v2-incompatible terms: change visit in v4.
    deploy_diagram(engine, linear_process("intake", user_task("visit", name="入户家访"),
                                          user_task("report", name="报告")))
    result = engine.versions.migrate_version("intake", 1, 4, actor="admin")
    assert result["counts"] == {"total": 3, "moved": 2, "refused": 1}
    outcomes = {r["instance_id"]: r["outcome"] for r in result["instances"]}
    assert outcomes == {early[0]: "moved", early[1]: "moved", late: "refused"}
    assert engine.repository.get(engine.runtime.get(late).definition_id).version == 1
    for instance_id in early:
        assert [t.name for t in open_tasks(engine, instance_id)] == ["入户家访"]


def test_bad_targets(engine):
    deploy_diagram(engine, V1)
    case = engine.runtime.start("intake", {})
    with pytest.raises(NotFound):
        engine.versions.dry_run(case.instance_id, 9)
    with pytest.raises(InvalidInput) as same:
        engine.versions.dry_run(case.instance_id, 1)
    assert "to_version" in same.value.errors
    with pytest.raises(InvalidInput):
        engine.versions.dry_run(case.instance_id, "2")
    with pytest.raises(NotFound):
        engine.versions.dry_run_version("nothing", 1, 2)
    deploy_diagram(engine, V2)
    engine.lifecycle.terminate(case.instance_id, "撤销", actor="admin")
    with pytest.raises(Conflict):
        engine.versions.migrate(case.instance_id, 2, actor="admin")


def test_a_failure_mid_way_leaves_the_case_unmoved(engine, db_url):
    """The database refuses the instance's new definition (a trigger, as a stand-in for any
    failure after the workflow was moved): workflow state, definition and tasks are as before."""
    deploy_diagram(engine, V1)
    case = engine.runtime.start("intake", {})
    _complete(engine, case.instance_id, "visit")
    deploy_diagram(engine, V2)
    before = _state(engine, case.instance_id)
    with engine.db.transaction() as session:
        if engine.db.is_postgres:
            session.execute(text("CREATE FUNCTION no_move() RETURNS trigger AS $$ BEGIN "
                                 "RAISE EXCEPTION 'moved refused'; END $$ LANGUAGE plpgsql"))
            session.execute(text("CREATE TRIGGER no_move BEFORE UPDATE OF definition_id ON process_instance "
                                 "FOR EACH ROW WHEN (OLD.definition_id <> NEW.definition_id) EXECUTE FUNCTION no_move()"))
        else:
            session.execute(text("CREATE TRIGGER no_move BEFORE UPDATE OF definition_id ON process_instance "
                                 "WHEN OLD.definition_id <> NEW.definition_id BEGIN SELECT RAISE(ABORT, 'moved refused'); END"))
    with pytest.raises(Exception):   # Busy or the database error itself, depending on the database
        engine.versions.migrate(case.instance_id, 2, actor="admin")
    assert _state(engine, case.instance_id) == before
    result = engine.versions.migrate_version("intake", 1, 2, actor="admin")
    assert result["counts"] == {"total": 1, "moved": 0, "refused": 1}
    assert result["instances"][0]["outcome"] == "failed"
    assert _state(engine, case.instance_id) == before
    assert "instance_migrated" not in kinds(engine, case.instance_id)


TIMER = ('<bpmn:intermediateCatchEvent id="wait_hour" name="等一小时"><bpmn:timerEventDefinition>'
         '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def test_a_waiting_timer_keeps_its_due_time_and_a_suspended_case_stays_suspended(engine, clock):
    """``migrate_workflow`` resets waiting tasks (their due time would restart at the
    migration); the engine puts an unchanged timer's back."""
    from datetime import timedelta

    from engine.persistence.models import TimerJob
    deploy_diagram(engine, linear_process("timed", TIMER, user_task("after", name="之后")))
    case = engine.runtime.start("timed", {}).instance_id
    due = clock() + timedelta(hours=1)
    deploy_diagram(engine, linear_process("timed", TIMER, user_task("after", name="之后"),
                                          user_task("extra", name="新增")))
    clock.advance(timedelta(minutes=40))
    engine.lifecycle.suspend(case, "暂停", actor="admin")
    engine.versions.migrate(case, 2, actor="admin")
    assert engine.runtime.get(case).status == "suspended"
    with engine.db.read() as session:
        jobs = [(j.status, j.due_at) for j in session.scalars(select(TimerJob).where(TimerJob.instance_id == case))]
    assert jobs == [("waiting", due)]
    engine.lifecycle.resume(case, "继续", actor="admin")
    assert engine.timers.fire_due(due + timedelta(seconds=1)) == 1
    _complete(engine, case, "after")
    _complete(engine, case, "extra")
    assert engine.runtime.get(case).status == "completed"
