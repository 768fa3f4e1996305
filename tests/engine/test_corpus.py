"""Conformance on diagrams we did not write: SpiffWorkflow's own test files (/work/shared/corpus).

Every .bpmn/.dmn file is deployed alone (search path: its folder) on one engine. It is
accepted, or refused with ``InvalidInput`` whose errors are ``{file, element_id, line,
message}`` and nothing of it is stored. ``REFUSED`` pins which files are refused and why.

Each accepted process is then put in exactly one category:
* has user tasks: a task spec of it or its subprocesses is ``manual`` (user, manual and plain
  ``bpmn:task``): not run here.
* message start: only message start events: nothing is delivered, not started.
* otherwise started (``START_DATA`` for processes that expect their caller's data), timers
  fired 400 days ahead three times, and every instance, including those that timer start
  events started, ends up:
  - run to end: ``completed``;
  - wait state: ``active`` and waiting on an event, with no due timer left unfired and a
    message subscription for every message it waits on;
  - needs functions: ``error``, and the open incident is a NameError for a name the diagram
    calls as a function (``custom_function()``, ``locals()`` that the sandbox withholds), or
    a service task (the engine has no ``call_service``): decided by running it, not by a list;
  - error by design: ``error`` as ``DESIGNED_TO_FAIL`` says (with the reason).
  Any other error fails the test. Each error must have an open incident with an element id
  and a message.
The counts are printed (shown with ``-s`` or ``-rP``) and are part of every assertion message.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidInput, StepFailed
from engine.persistence.models import (
    AuditEvent, Deployment, DeploymentFile, MessageStart, MessageSubscription, ProcessDefinition,
    ProcessInstance, TimerJob,
)
from engine.process_engine import EngineConfig, ProcessEngine
from engine.runtime.projections import event_parts, timer_due
from .conftest import AUDIT_KEY
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

CORPUS = Path("/work/shared/corpus/spiffworkflow")
FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".bpmn", ".dmn")) if CORPUS.is_dir() else []
STORED = (Deployment, DeploymentFile, ProcessDefinition, AuditEvent, MessageStart, TimerJob)
HORIZON = timedelta(days=400)

# file -> a fragment of the refusal (the reason).
REFUSED = {
    "bpmn/Invalid-Workflows/non-executable-process.bpmn": "no executable process",
    "bpmn/call_activity_nested/call_activity_level_2.bpmn": 'calls process "Level2b"',  # defined nowhere
    # Level2c is the id of level2c.dmn's <definitions>; its decision is Decision_0vrtcmk.
    "bpmn/call_activity_nested/call_activity_nested.bpmn": 'decision "Level2c"',
    "bpmn/call_activity_nested/level2c.dmn": "no BPMN file",                # a DMN alone
    "spiff/dmn/business_rules.dmn": "no BPMN file",
    "spiff/business_rule_task.bpmn": 'decision "decision_1"',   # its DMN is in dmn/, not searched
    "bpmn/data_object_invalid.bpmn": "XML Schema",                          # invalid on purpose
    "bpmn/data_store.bpmn": "no data store implementation",     # needs a registered data store
    "bpmn/data_store_read.bpmn": "no data store implementation",
    "bpmn/data_store_write.bpmn": "no data store implementation",
    "bpmn/invalid_cancel.bpmn": "Cancel Events may only be used with transactions",
    "bpmn/multiple_call_activities.bpmn": "not defined in this deploy",   # callees not in the corpus
    "bpmn/nested_call_activity.bpmn": "not defined in this deploy",
    "bpmn/single_call_activity.bpmn": "not defined in this deploy",
    "bpmn/parallel_multiinstance_invalid.bpmn": "exactly one of cardinality or loop input",
    "bpmn/standard_loop_invalid.bpmn": "loopMaximum or loopCondition",
    "bpmn/service_task.bpmn": "must have an operator",   # plain BPMN service task; spiff wants one
    "spiff/correlation_two_conversations.bpmn": "import statements are not allowed",   # sandbox policy
    "spiff/spiff_properties.bpmn": "form file",                 # form JSON files not in the corpus
    "spiff/user_task_variable.bpmn": "form file",
}
# "file:process" -> initial data: processes made to be called, started with their caller's data.
START_DATA = {
    "bpmn/io_spec.bpmn:subprocess": {"in_1": 1, "in_2": "hello"},   # ioSpecification inputs
    "bpmn/call_activity_call_activity.bpmn:Call_Activity_Get_Data": {"remove_this_var": 1},  # del()s it
    "spiff/prescript_postscript_call_activity.bpmn:update_data": {"in_data": "abc"},
    "spiff/prescript_postscript_parent.bpmn:parent": {"old": "abc"},                # read by a preScript
}
# "file:process" -> (fragment of the incident message, why it fails).
DESIGNED_TO_FAIL = {
    "bpmn/call_activity_with_error.bpmn:ErroringBPMN": (
        "remove_this_var", "the called process deletes a variable the caller, on purpose, never sets"),
    "bpmn/call_activity_nested/call_activity_level_3.bpmn:Level3": (
        "nests subprocesses more than", "calls itself without condition (a parse-only fixture): the "
        "engine stops the runaway recursion with an incident instead of stepping forever"),
}


def needs_functions(message: str, sources: str) -> bool:
    """An incident that only a host-provided function or service would avoid."""
    if message.startswith("service task: this engine has no service implementation"):
        return True
    name = re.search(r"NameError:? (?:name )?'(\w+)'", message)
    return bool(name) and re.search(rf"\b{name.group(1)}\s*\(", sources) is not None


@pytest.fixture
def corpus_engine(db_url, clock):
    if not FILES:
        pytest.skip(f"{CORPUS} not present")
    # One engine for all files; the corpus has no form files, so its folders are the form dirs.
    engine = ProcessEngine(EngineConfig(database_url=db_url, clock=clock, known_roles=None,
                                        form_dirs=sorted({p.parent for p in FILES}), audit_key=AUDIT_KEY))
    engine.migrate()
    yield engine
    engine.close()


def stored_counts(engine) -> dict:
    with engine.db.transaction() as session:
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in STORED}


def deploy_one(engine, path: Path, rel: str, report: dict, summary) -> list:
    before = stored_counts(engine)
    try:
        deployed = engine.repository.deploy({path.name: path.read_bytes()}, actor="corpus",
                                            search_path=[path.parent])
    except InvalidInput as refused:
        errors = refused.errors
        assert isinstance(errors, list) and errors, summary(rel)
        for error in errors:
            assert set(error) == {"file", "element_id", "line", "message"}, summary(rel, error)
            assert isinstance(error["message"], str) and error["message"].strip(), summary(rel, error)
            assert "Traceback" not in error["message"], summary(rel, error)
        assert stored_counts(engine) == before, summary(rel, "half-stored after a refusal")
        report["refused"].append((rel, errors[0]["message"]))
        return []
    assert deployed, summary(rel)
    report["accepted"].append(rel)
    return deployed


def check_waiting(engine, instance_id: int, horizon) -> list:
    """The events (and user tasks) an active instance waits on; asserts the timer/message
    projections agree."""
    wf = engine.runtime.workflow(instance_id)
    with engine.db.transaction() as session:
        subscribed = set(session.scalars(select(MessageSubscription.message_name).where(
            MessageSubscription.instance_id == instance_id)))
    waiting = [t for t in wf.event_manager.tasks.values() if t.state == TaskState.WAITING]
    for task in waiting:
        if event_parts(task, TimerEventDefinition):
            due = timer_due(task)
            assert due is None or due > horizon, f"{task.task_spec.bpmn_id}: timer due {due} never fired"
        for part in event_parts(task, MessageEventDefinition):
            assert part.name in subscribed, f"{task.task_spec.bpmn_id}: no subscription for {part.name}"
    # An instance started by a message another corpus diagram threw may wait on a person.
    people = [f"user task {t.task_spec.bpmn_id}" for t in wf.get_tasks(state=TaskState.READY, manual=True)]
    return [e.name or e.event_type for e in wf.waiting_events()] + people


def test_corpus_deploys_and_runs(corpus_engine, clock):
    engine, horizon = corpus_engine, clock() + HORIZON
    report = defaultdict(list)

    def summary(*context):
        counts = {k: len(v) for k, v in report.items()}
        return f"{' '.join(map(str, context))}\ncounts so far: {counts}"

    keys: dict[int, str] = {}                           # definition id -> "file:process"
    started: set[str] = set()
    for path in FILES:
        rel = str(path.relative_to(CORPUS))
        for item in deploy_one(engine, path, rel, report, summary):
            key = keys[item.definition_id] = f"{rel}:{item.process_key}"
            definition = engine.repository.get(item.definition_id)
            spec, subprocess_specs = engine.repository.specs(definition)
            manual = [ts.bpmn_id for s in [spec, *subprocess_specs.values()]
                      for ts in s.task_specs.values() if ts.manual]
            if manual:
                report["skipped-has-user-tasks"].append(key)
                continue
            if set(definition.start_kinds.split(",")) == {"message"}:
                report["skipped-message-start"].append(key)   # nothing is delivered to start it
                continue
            started.add(key)
            try:
                engine.runtime.start_definition(definition.id, START_DATA.get(key, {}), actor="corpus")
            except StepFailed:
                pass                      # the instance is in error; judged below with the others
            for _ in range(3):
                engine.timers.fire_due(horizon)

    with engine.db.transaction() as session:
        instances = [(i.id, i.definition_id, i.status)
                     for i in session.scalars(select(ProcessInstance).order_by(ProcessInstance.id))]
    outcomes = defaultdict(set)                          # "file:process" -> categories of its instances
    why: dict[str, str] = {}                             # "file:process" -> what it waits on / failed on
    for instance_id, definition_id, status in instances:
        key = keys[definition_id]             # also instances that timer start events started
        if status == "completed":
            outcomes[key].add("run-to-end")
            continue
        if status == "active":
            events = check_waiting(engine, instance_id, horizon)
            assert events, summary(key, "is active but waits on nothing")
            why[key] = "waits on " + ", ".join(map(str, events))
            outcomes[key].add("wait-state")
            continue
        assert status == "error", summary(key, status)
        incidents = engine.runtime.incidents(instance_id)
        assert len(incidents) == 1, summary(key, "error without one open incident")
        incident = incidents[0]
        assert incident.element_id and incident.message.strip(), summary(key, incident.message)
        why[key] = f"{incident.element_id}: {incident.message}"
        sources = "\n".join(raw.decode("utf-8", "replace")
                            for raw in engine.repository.files(definition_id).values())
        if key in DESIGNED_TO_FAIL:
            assert DESIGNED_TO_FAIL[key][0] in incident.message, summary(key, incident.message)
            outcomes[key].add("error-by-design")
        elif needs_functions(incident.message, sources):
            outcomes[key].add("skipped-needs-functions")
        else:
            pytest.fail(summary(f"{key}: unexplained error: {why[key]}"))
    for key in sorted(started):
        category = sorted(outcomes[key])
        assert len(category) == 1, summary(key, "instances ended differently:", category)
        report[category[0]].append(key)

    counts = {k: len(report[k]) for k in (
        "accepted", "refused", "run-to-end", "wait-state", "error-by-design", "skipped-needs-functions",
        "skipped-has-user-tasks", "skipped-message-start")}
    print(f"\ncorpus {engine.db.engine.dialect.name}: {len(FILES)} files;", counts)
    refused = {rel: message for rel, message in report["refused"]}
    for category in ("refused", "wait-state", "error-by-design", "skipped-needs-functions"):
        print(f"  {category}:")
        for item in report[category]:
            item = item if isinstance(item, str) else item[0]
            print(f"    {item}: {refused.get(item) or why.get(item)}")
    assert counts["accepted"] + counts["refused"] == len(FILES), summary(counts)
    assert set(refused) == set(REFUSED), summary("refused:", sorted(set(refused) ^ set(REFUSED)))
    wrong = {rel: m for rel, m in refused.items() if REFUSED[rel] not in m}
    assert not wrong, summary("refused for another reason:", wrong)
    assert set(DESIGNED_TO_FAIL) <= set(report["error-by-design"]), summary(counts)
    assert counts["run-to-end"] and counts["wait-state"], summary(counts)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_event_based_gateway_and_parallel_multiple_catch(corpus_engine, clock):
    """Regression: a waiting MultipleEventDefinition (event-based gateway, a catch event with
    several definitions) got no timer job and no message subscriptions, so it waited forever."""
    engine = corpus_engine
    deploy = lambda name: {d.process_key: d.definition_id for d in engine.repository.deploy(
        {name: (CORPUS / "bpmn" / name).read_bytes()}, actor="corpus", search_path=[CORPUS / "bpmn"])}
    gateway = deploy("event-gateway.bpmn")["Process_0pvx19v"]
    by_message = engine.runtime.start_definition(gateway, {}, actor="corpus").instance_id
    with engine.db.transaction() as session:
        assert sorted(session.scalars(select(MessageSubscription.message_name).where(
            MessageSubscription.instance_id == by_message))) == ["message_1", "message_2"]
    assert engine.messages.deliver("message_2", {}, {}, actor="corpus").reached == [by_message]
    by_timer = engine.runtime.start_definition(gateway, {}, actor="corpus").instance_id
    assert engine.timers.fire_due(clock() + timedelta(seconds=2)) == 1
    for instance_id, end in ((by_message, "message_2_end"), (by_timer, "timer")):
        assert engine.runtime.get(instance_id).status == "completed"
        wf = engine.runtime.workflow(instance_id)
        done = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)}
        assert end in done and not done & ({"message_1_end", "message_2_end", "timer"} - {end})

    respond = deploy("multiple-throw.bpmn")["respond"]        # parallelMultiple: needs both messages
    waiting = engine.runtime.start_definition(respond, {}, actor="corpus").instance_id
    assert engine.messages.deliver("message_1", {}, {}).reached == [waiting]
    assert engine.runtime.get(waiting).status == "active"
    assert engine.messages.deliver("message_1", {}, {}).status == "unmatched"   # already seen
    assert engine.messages.deliver("message_2", {}, {}).reached == [waiting]
    assert engine.runtime.get(waiting).status == "completed"
