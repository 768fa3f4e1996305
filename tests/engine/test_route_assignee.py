"""A route may name the one person a task is for (``Route.assignee``): the task is created
claimed by them, and nobody else completes it (engine/README.md "Lanes and roles")."""
from __future__ import annotations

import pytest

from engine.errors import Conflict
from engine.runtime.hooks import Route
from ..diagrams import linear_process, user_task

from .helpers import deploy_diagram, kinds, task_named


def for_the_named_person(task):
    return Route(role="head_teacher", org_unit="class-1", assignee=task.data.get("signer"))


def test_a_task_routed_to_a_person_is_created_claimed_by_them(make_engine):
    engine = make_engine(router=for_the_named_person)
    deploy_diagram(engine, linear_process("sign", user_task("confirm")))
    started = engine.runtime.start("sign", {"signer": "ht31"})
    task = task_named(engine, started.instance_id, "confirm")
    assert (task.candidate_role, task.org_unit, task.assignee) == ("head_teacher", "class-1", "ht31")
    ready = [e for e in engine.history.events(started.instance_id) if e.kind == "task_ready"]
    assert '"assignee":"ht31"' in ready[0].data.replace(" ", "")
    with pytest.raises(Conflict):
        engine.runtime.complete_task(task.id, {}, actor="ht32")
    engine.runtime.complete_task(task.id, {}, actor="ht31")
    assert kinds(engine, started.instance_id)[-1] == "instance_completed"


def test_without_an_assignee_the_task_is_free_to_claim(make_engine):
    engine = make_engine(router=lambda task: Route(role="head_teacher", org_unit="class-1"))
    deploy_diagram(engine, linear_process("sign", user_task("confirm")))
    started = engine.runtime.start("sign", {})
    assert task_named(engine, started.instance_id, "confirm").assignee is None
