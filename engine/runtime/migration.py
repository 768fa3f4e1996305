"""Move one running instance's workflow to another version of its process (SpiffWorkflow's
``bpmn.util.diff``), as a command: one transaction, never half-moved.

The rule is spiff-arena's: an instance can move only if no COMPLETED or STARTED task of it
(its own or any subprocess's) has a spec the new version changed or removed. Added here,
because ``migrate_workflow`` cannot move them safely:

* a subprocess or called process the new version no longer has (SpiffWorkflow's diff is
  ``None`` for it);
* a running subprocess or called process is judged like the top process (its own
  finished and running tasks against its new spec): the three-tier persuasion runs inside
  one embedded subprocess, so refusing every running subprocess that changed at all would
  refuse almost every case. What the reset cannot follow is caught after the move on the
  throwaway copy: a task left on a spec the new version lacks, or a workflow that no longer
  serialises and loads back, refuses the move;
* a ready or waiting instance of a running multi-instance whose spec changed: a reset gives
  it its parent's data, losing the item it works on.

What ``migrate_workflow`` does to the open work (read in its source): every aligned task
gets the new spec; every READY or WAITING task is reset (``reset_branch``: children dropped,
data copied anew from its parent, internal data cleared, then updated again). A reset task
keeps its id, so a ready user task keeps its ``human_task`` row (the projections find the
same id open). What the reset would lose is put back: a task whose spec did not change gets
its data and internal data back exactly (a waiting timer keeps its due time, a user task
what an administrator's data fix gave it); a changed one keeps what it had that its new
data lacks, and a changed waiting timer starts anew at the migration.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from ..errors import Conflict
from ..persistence.models import HumanTask
from .commands import Command
from .projections import _find_task, task_context

OPEN = TaskState.READY | TaskState.WAITING
FINISHED_OR_RUNNING = TaskState.COMPLETED | TaskState.STARTED


@dataclass
class Verdict:
    """Whether a workflow can move to a version: ``reasons`` [{code, element_id, name,
    reason}] (reason in Chinese, naming the element) are why not; empty = it can."""

    reasons: list[dict] = field(default_factory=list)
    top: object = None          # WorkflowDiff of the top workflow
    subprocesses: dict = field(default_factory=dict)   # subworkflow id -> WorkflowDiff | None

    @property
    def can_migrate(self) -> bool:
        return not self.reasons

    def refuse(self, code: str, spec, reason: str) -> None:
        element_id, name = _ids(spec)
        if any(r["code"] == code and r["element_id"] == element_id for r in self.reasons):
            return   # one reason per element (a loop leaves several tasks of one element)
        self.reasons.append({"code": code, "element_id": element_id, "name": name,
                             "reason": reason.format(element=_label(element_id, name))})


def _ids(spec) -> tuple[str | None, str | None]:
    if spec is None:
        return None, None
    return getattr(spec, "bpmn_id", None) or spec.name, getattr(spec, "bpmn_name", None)


def _label(element_id, name) -> str:
    # An unnamed element (a gateway, a hidden join) is named by its id, set off the same way.
    return f"「{name}」({element_id})" if name else f"「{element_id}」"


WHY = {
    ("removed", TaskState.COMPLETED): "已完成的步骤{element}在新版本中被删除",
    ("removed", TaskState.STARTED): "正在进行的步骤{element}在新版本中被删除",
    ("changed", TaskState.COMPLETED): "已完成的步骤{element}在新版本中被修改",
    ("changed", TaskState.STARTED): "正在进行的步骤{element}在新版本中被修改",
    # SpiffWorkflow would keep such a task on its old spec, which the new version lacks.
    ("removed", TaskState.READY): "当前待办的步骤{element}在新版本中被删除",
    ("removed", TaskState.WAITING): "正在等待的事件{element}在新版本中被删除",
}
JUDGED = FINISHED_OR_RUNNING | OPEN


def plan(store, workflow, spec, subprocess_specs) -> Verdict:
    """Judge, and if nothing forbids it, move ``workflow`` (mutated: pass a throwaway copy
    for a dry run, so that a dry run answers exactly as the migration will). A task left on
    a spec the new version lacks (on the predicted path below a running task, which
    ``migrate_workflow`` does not reset) or a failure inside SpiffWorkflow is a reason too."""
    verdict = check(store.registry, workflow, spec, subprocess_specs)
    if not verdict.can_migrate:
        return verdict
    try:
        _apply(verdict, workflow, spec, subprocess_specs)
    except Exception as exc:  # noqa: BLE001 - SpiffWorkflow's own failure: a reason, never half-moved
        verdict.refuse("engine", None, f"SpiffWorkflow 无法迁移此案件：{type(exc).__name__}: {exc}")
        return verdict
    for workflow_ in (workflow, *workflow.subprocesses.values()):
        for task in workflow_.tasks.values():
            if workflow_.spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                verdict.refuse("removed_predicted", task.task_spec,
                               "在新版本中被删除或替换的步骤{element}仍在案件的预期路径上，不能安全迁移")
    if verdict.can_migrate:
        try:   # what is saved must load again: the next command on the case reads it back
            store.loads(store.dumps(workflow))
        except Exception as exc:  # noqa: BLE001 - a reason, never a case that cannot be opened
            verdict.refuse("engine", None, f"迁移后的案件无法保存并重新载入：{type(exc).__name__}: {exc}")
    return verdict


def _apply(verdict, wf, spec, subprocess_specs) -> None:
    kept = {task.id: (copy.deepcopy(task.data), copy.deepcopy(task.internal_data), task.task_spec)
            for task in _open_tasks(wf)}
    changed = _changed_specs(verdict)
    migrate_workflow(verdict.top, wf, spec)
    for sp_id, sp in wf.subprocesses.items():
        migrate_workflow(verdict.subprocesses[sp_id], sp, subprocess_specs[sp.spec.name])
    wf.subprocess_specs = subprocess_specs
    _restore(wf, kept, changed)


def check(registry, workflow, spec, subprocess_specs) -> Verdict:
    """The verdict of the diff alone for moving ``workflow`` to (``spec``,
    ``subprocess_specs``); read-only."""
    top, sp_diffs = diff_workflow(ComparingRegistry(registry), workflow, spec, subprocess_specs)
    verdict = Verdict(top=top, subprocesses=sp_diffs)
    _judge(verdict, top)
    for sp_id, sp in workflow.subprocesses.items():
        caller = workflow.get_task_from_id(sp_id)
        diff = sp_diffs.get(sp_id)
        caller_spec = caller.task_spec if caller is not None else None
        if diff is None:
            verdict.refuse("subprocess_removed", caller_spec, f"子流程{{element}}调用的流程 {sp.spec.name} 在新版本中不存在")
            continue
        _judge(verdict, diff)
    return verdict


def _judge(verdict: Verdict, diff) -> None:
    for kind, tasks in (("removed", diff.removed), ("changed", diff.changed)):
        for task in tasks:
            state = task.state & JUDGED
            if state and (kind, state) in WHY:
                verdict.refuse(f"{kind}_{TaskState.get_name(state).lower()}", task.task_spec, WHY[(kind, state)])
            elif kind == "changed" and task.state & OPEN and _inside_running_loop(task):
                verdict.refuse("multiinstance_changed", task.task_spec,
                               "正在进行的多实例活动中的步骤{element}在新版本中被修改，不能安全迁移")


def _inside_running_loop(task) -> bool:
    parent = task.parent
    return parent is not None and isinstance(parent.task_spec, LoopTask) and parent.state == TaskState.STARTED


class ComparingRegistry:
    """The serializer's registry as ``SpecDiff`` uses it (``convert`` only), with each event
    definition's correlation properties listed once. SpiffWorkflow's parser lists a property
    once per file that declares it, so the same diagram deployed with the whole folder
    (``baoxue init``) or with only the files it calls (an editor's draft) gave specs that
    differ there alone, and every case that had thrown such a message could not move."""

    def __init__(self, registry):
        self.registry = registry

    def convert(self, obj):
        return _canonical(self.registry.convert(obj))


def _canonical(value):
    if isinstance(value, dict):
        out = {key: _canonical(item) for key, item in value.items()}
        if isinstance(out.get("correlation_properties"), list):
            unique = []
            for item in out["correlation_properties"]:
                if item not in unique:
                    unique.append(item)
            out["correlation_properties"] = unique
        return out
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


class MigrationRefused(Conflict):
    """The instance cannot move (``errors``: the verdict's reasons); nothing changed."""


class MigrateInstance(Command):
    """Move the instance to ``target`` (a ProcessDefinition of its process key) whose parsed
    specs are ``specs`` = (spec, subprocess specs). Runs no engine steps (steps an earlier
    command left stay for the worker). Any failure is raised as an EngineError (never an
    incident: the instance is left exactly as it was). ``instance_migrated`` audited."""

    type = "migrate"
    allowed_when_suspended = True

    def __init__(self, target, specs, store, source_version: int):
        self.target, self.specs, self.store = target, specs, store
        self.source_version = source_version

    def to_json(self):
        return {"type": self.type, "to_definition_id": self.target.id}

    def run(self, ctx):
        spec, subprocess_specs = self.specs
        verdict = plan(self.store, ctx.workflow, spec, subprocess_specs)
        if not verdict.can_migrate:
            raise MigrationRefused("; ".join(r["reason"] for r in verdict.reasons), errors=verdict.reasons)
        refreshed = refresh_task_rows(ctx)
        previous = ctx.instance.definition_id
        ctx.instance.definition_id = self.target.id
        ctx.audit("instance_migrated", data={
            "from_definition_id": previous, "from_version": self.source_version,
            "to_definition_id": self.target.id, "to_version": self.target.version,
            "tasks_updated": refreshed})


def _open_tasks(wf):
    return [t for w in (wf, *wf.subprocesses.values()) for t in w.tasks.values() if t.state & OPEN]


def _changed_specs(verdict) -> set:
    diffs = [verdict.top, *[d for d in verdict.subprocesses.values() if d is not None]]
    return {task.task_spec for diff in diffs for task in diff.changed}


def _restore(wf, kept, changed) -> None:
    for workflow in (wf, *wf.subprocesses.values()):
        for task in workflow.tasks.values():
            if task.id not in kept:
                continue
            data, internal, old_spec = kept[task.id]
            if old_spec not in changed:
                task.data, task.internal_data = data, internal
            else:
                for key, value in data.items():
                    task.data.setdefault(key, value)


def refresh_task_rows(ctx) -> list[str]:
    """Bring the open human_task rows of tasks still ready in line with their new spec:
    name, form, priority and lane; a task whose lane changed is routed anew (its claim
    dropped: it is another role's now). Returns the ids of rows that changed. Rows of tasks
    no longer ready are closed by the projections (``sync_human_tasks``)."""
    updated = []
    rows = ctx.session.scalars(select(HumanTask).where(HumanTask.instance_id == ctx.instance.id,
                                                        HumanTask.status == "open"))
    for row in rows:
        task = _find_task(ctx.workflow, row.id)
        if task is None or task.state != TaskState.READY:
            continue
        info = task_context(ctx, task)
        props = info.properties
        values = {"element_id": info.element_id, "name": info.name, "form_key": props.get("formJsonSchemaFilename"),
                  "ui_form_key": props.get("formUiSchemaFilename")}
        if info.lane != row.lane:
            route = ctx.hooks.router(info)
            values.update(lane=info.lane, candidate_role=route.role, org_unit=route.org_unit,
                          unroutable=route.unroutable, subject_id=route.subject_id, assignee=route.assignee,
                          reserved_for=route.assignee)
        if any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            updated.append(row.id)
    return updated

