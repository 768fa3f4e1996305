"""Helpers shared by the engine tests."""
from __future__ import annotations

import json

from engine.tasks import TaskQuery

from .conftest import BPMN


def deploy(engine, *names, actor="admin"):
    return engine.repository.deploy_paths([BPMN / name for name in names], actor=actor)


def open_tasks(engine, instance_id):
    rows, _ = engine.tasks.list(TaskQuery(instance_id=instance_id))
    return rows


def task_named(engine, instance_id, element_id):
    matches = [t for t in open_tasks(engine, instance_id) if t.element_id == element_id]
    assert matches, f"no open task {element_id}; open: {[t.element_id for t in open_tasks(engine, instance_id)]}"
    return matches[0]


def kinds(engine, instance_id):
    """The instance's audit event kinds in order, without the engine's ``path`` records."""
    return [e.kind for e in engine.history.events(instance_id) if e.kind != "path"]


def deploy_diagram(engine, xml: str, forms: dict | None = None, actor="admin"):
    """Deploy a diagram written in the test (tests/diagrams.py) with its forms ({file: schema})."""
    files = {"diagram.bpmn": xml.encode()}
    files.update({name: json.dumps(schema).encode() for name, schema in (forms or {}).items()})
    return engine.repository.deploy(files, actor=actor)


def run_to_rest(engine, instance_id, limit=10_000):
    """Continue ``instance_id`` as the worker's ``continue`` job does until no engine steps
    are left; returns how many continuations ran."""
    for count in range(limit):
        if engine.runtime.get(instance_id).pending_steps is None:
            return count
        engine.runtime.continue_steps(instance_id)
    raise AssertionError(f"instance {instance_id} still running after {limit} continuations")
