"""``engine.incidents``: an administrator lists incidents, retries one or resolves it with a note;
each action is audited on the instance's chain, and messages shown are bounded and never SQL."""
from __future__ import annotations

import pytest

from engine.errors import Conflict, InvalidInput, NotFound, StepFailed
from engine.incidents import DATABASE_ERROR, IncidentQuery, public_message
from engine.persistence.models import HumanTask

from .helpers import deploy, kinds, open_tasks, task_named


def fail(engine, variables=None, divisor=0):
    """A ``failing`` case whose ``compute`` script failed on completing ``enter``: (instance, incident)."""
    started = engine.runtime.start("failing", variables if variables is not None else {"total": 10})
    enter = task_named(engine, started.instance_id, "enter")
    with pytest.raises(StepFailed) as err:
        engine.runtime.complete_task(enter.id, {"divisor": divisor}, actor="u")
    return started.instance_id, err.value.incident_id


def test_list_filters_and_pages(engine):
    deploy(engine, "failing.bpmn", "two_lanes.bpmn")
    first, first_incident = fail(engine)
    second, second_incident = fail(engine)
    engine.runtime.set_variables(first, {"divisor": 5}, actor="admin")
    items, total = engine.incidents.list(IncidentQuery())
    assert total == 2 and [i["incident_id"] for i in items] == [second_incident, first_incident]
    item = items[0]
    assert (item["instance_id"], item["process_key"], item["element_id"], item["status"], item["command"]) == (
        second, "failing", "compute", "open", "complete_task")
    assert "ZeroDivisionError" in item["message"] and item["instance_status"] == "error"
    assert engine.incidents.list(IncidentQuery(instance_id=first))[1] == 1
    assert engine.incidents.list(IncidentQuery(process_key="two_lanes")) == ([], 0)
    page, total = engine.incidents.list(IncidentQuery(per_page=1, page=2))
    assert total == 2 and [i["incident_id"] for i in page] == [first_incident]
    for bad in (IncidentQuery(status="closed"), IncidentQuery(page=0), IncidentQuery(per_page=1000)):
        with pytest.raises(InvalidInput):
            engine.incidents.list(bad)
    detail = engine.incidents.get(first_incident)
    assert detail["task"]["name"] == "Enter" and detail["task"]["status"] == "open"
    with pytest.raises(NotFound):
        engine.incidents.get(999)


def test_retry_that_fails_again_keeps_the_incident_open_with_the_new_message(engine):
    deploy(engine, "failing.bpmn")
    instance_id, incident_id = fail(engine, variables={}, divisor=3)   # no `total`: a NameError
    with pytest.raises(StepFailed) as err:
        engine.incidents.retry(incident_id, actor="admin")
    assert err.value.incident_id == incident_id and err.value.message.startswith("the retry failed again: ")
    assert "total" in err.value.message
    assert engine.incidents.get(incident_id)["status"] == "open"
    engine.runtime.set_variables(instance_id, {"total": 9}, actor="admin")
    result = engine.incidents.retry(incident_id, actor="admin")
    assert result.status == "active" and [t.element_id for t in open_tasks(engine, instance_id)] == ["after"]
    detail = engine.incidents.get(incident_id)
    assert (detail["status"], detail["resolution"], detail["resolved_by"]) == ("resolved", "retried", "admin")
    with pytest.raises(Conflict):
        engine.incidents.retry(incident_id, actor="admin")
    with pytest.raises(Conflict):
        engine.incidents.resolve(incident_id, "again", actor="admin")


def test_resolve_without_retry_reopens_the_task_and_audits_the_note(engine):
    deploy(engine, "failing.bpmn")
    instance_id, incident_id = fail(engine)
    enter = task_named(engine, instance_id, "enter")
    for note in ("", "   ", None, "x" * 2001):
        with pytest.raises(InvalidInput) as err:
            engine.incidents.resolve(incident_id, note, actor="admin")
        assert "note" in err.value.errors
    result = engine.incidents.resolve(incident_id, "  已电话核实，除数应为 2，请班主任重新提交  ", actor="admin")
    assert result.status == "active" and engine.runtime.get(instance_id).status == "active"
    detail = engine.incidents.get(incident_id)
    assert (detail["status"], detail["resolution"], detail["resolved_by"]) == ("resolved", "resolved", "admin")
    assert detail["note"] == "已电话核实，除数应为 2，请班主任重新提交"
    assert kinds(engine, instance_id)[-2:] == ["error", "incident_resolved"]
    event = engine.history.events(instance_id)[-1]
    assert event.actor == "admin" and event.element_id == "compute" and '"abandoned":"complete_task"' in event.data
    assert engine.history.verify_chain(instance_id).ok
    # the failed completion was abandoned: the same task is open again and can be submitted anew
    with engine.db.read() as session:
        assert session.get(HumanTask, enter.id).status == "open"
    engine.runtime.complete_task(enter.id, {"divisor": 2}, actor="u")
    assert [t.element_id for t in open_tasks(engine, instance_id)] == ["after"]
    assert engine.consistency.run(record=False).ok


def test_a_failed_start_abandoned_ends_its_instance_and_frees_its_business_key(engine):
    """A failed start held its business key for good: resolving it without a retry now
    terminates the instance, and the child can have a case again."""
    from tests.engine.test_incidents import HOSTILE
    engine.repository.deploy({"boom.bpmn": HOSTILE.replace("SCRIPT", "x = 1 / 0").encode()})
    with pytest.raises(StepFailed) as err:
        engine.runtime.start("hostile", {}, business_key="child:7")
    with pytest.raises(Conflict):
        engine.runtime.start("hostile", {}, business_key="child:7")   # the failed start holds it
    done = engine.incidents.resolve(err.value.incident_id, "数据有误，放弃这次启动", actor="admin")
    assert done.status == "terminated"
    assert engine.runtime.get(err.value.instance_id).status == "terminated"
    assert kinds(engine, err.value.instance_id)[-2:] == ["incident_resolved", "instance_terminated"]
    with pytest.raises(StepFailed) as again:                           # the key is free: a new start
        engine.runtime.start("hostile", {}, business_key="child:7")
    assert again.value.instance_id != err.value.instance_id
    findings = engine.consistency.run(record=False).findings
    assert {f.check for f in findings} <= {"incidents"} and all(
        str(err.value.instance_id) not in f.where for f in findings)


def test_public_message_hides_database_text_and_bounds_the_rest():
    sql = ('(psycopg.errors.NotNullViolation) null value in column "name" [SQL: INSERT INTO child (name) '
           'VALUES (%(name)s)] [parameters: {"name": "张小明"}] (Background on this error at: https://sqlalche.me/e/20/gkpj)')
    assert public_message(sql) == DATABASE_ERROR
    assert public_message("(sqlite3.IntegrityError) UNIQUE constraint failed") == DATABASE_ERROR
    assert public_message("ZeroDivisionError:\n  division by zero\x00\x1b[31m") == "ZeroDivisionError: division by zero[31m"
    long = public_message("x" * 1000)
    assert len(long) == 300 and long.endswith("…")
    assert public_message(None) == "" and public_message("<b>ok</b>") == "<b>ok</b>"  # escaping is the page's
