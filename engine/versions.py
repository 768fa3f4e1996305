"""Running instances across versions: a dry run and a migration, for one instance or for
every running instance of a version (issue 14, "Running cases").

New instances start on the latest version; running ones stay on theirs until an
administrator moves them here. Each instance moves in its own transaction
(``runtime.migration.MigrateInstance`` through the executor): its workflow state, its
``definition_id`` and its task, timer and message projections switch together or not at
all. The rule and what SpiffWorkflow does to open tasks: ``engine.runtime.migration``.

Shapes (every ``reasons`` item: {code, element_id, name, reason}, reason in Chinese):

* instance verdict: ``{instance_id, business_key, status, from: {definition_id, version},
  to: {definition_id, version}, can_migrate, reasons, migrated}``; ``migrated`` is False in a
  dry run; a refused or failed instance in a bulk migration says why in ``reasons``
  (``outcome``: moved | refused | failed).
* version: ``{process_key, from: {...}, to: {...}, dry_run, counts: {total, can_migrate,
  cannot_migrate} | {total, moved, refused}, instances: [instance verdict, ...]}``.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from .errors import Conflict, EngineError, InvalidInput, NotFound
from .persistence.models import ProcessDefinition, ProcessInstance
from .runtime.migration import MigrateInstance, MigrationRefused, Verdict, plan

RUNNING = ("active", "suspended", "error")


def _version(definition) -> dict:
    return {"definition_id": definition.id, "version": definition.version}


class VersionService:
    def __init__(self, engine):
        self.engine = engine

    # -- targets ---------------------------------------------------------------------------
    def definition(self, process_key: str, version) -> ProcessDefinition:
        """Version ``version`` of ``process_key``. InvalidInput (422) for a version that is
        not a positive whole number; NotFound (404) for an unknown key or version."""
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidInput("version must be a positive whole number", errors={"to_version": "须为正整数"})
        with self.engine.db.read() as session:
            row = session.scalars(select(ProcessDefinition).where(
                ProcessDefinition.process_key == process_key, ProcessDefinition.version == version)).first()
        if row is None:
            raise NotFound(f"{process_key} has no version {version}")
        return row

    def _target(self, source: ProcessDefinition, to_version) -> ProcessDefinition:
        target = self.definition(source.process_key, to_version)
        if target.id == source.id:
            raise InvalidInput(f"the instance is on version {source.version} already",
                               errors={"to_version": f"已是第 {source.version} 版，请选择另一个版本"})
        return target

    # -- one instance ------------------------------------------------------------------------
    def dry_run(self, instance_id: int, to_version: int) -> dict:
        """Can instance ``instance_id`` move to ``to_version`` of its process, and why not
        (nothing changes). Raises NotFound (instance or version), InvalidInput (same version,
        bad number), Conflict (completed or terminated: not running)."""
        instance, source = self._running(instance_id)
        target = self._target(source, to_version)
        return self._verdict(instance, source, target)

    def migrate(self, instance_id: int, to_version: int, *, actor: str | None) -> dict:
        """Move instance ``instance_id`` to ``to_version`` (one transaction; audited
        ``instance_migrated`` {from_definition_id, from_version, to_definition_id, to_version,
        tasks_updated}). Returns the verdict with ``migrated`` True. Raises as ``dry_run``,
        MigrationRefused (409, ``errors`` = reasons: nothing changed), InstanceInError (in
        error: resolve its incident first)."""
        instance, source = self._running(instance_id)
        target = self._target(source, to_version)
        self.engine.runtime.run_command(instance_id, self._command(source, target), actor)
        return {**self._describe(instance, source, target, Verdict()), "migrated": True}

    # -- every running instance of a version ---------------------------------------------------
    def dry_run_version(self, process_key: str, version: int, to_version: int) -> dict:
        """The verdict for every running instance (active, suspended, error) of ``version``
        of ``process_key`` moving to ``to_version``. Raises NotFound, InvalidInput (same or
        bad version)."""
        source = self.definition(process_key, version)
        target = self._target(source, to_version)
        verdicts = [self._verdict(instance, source, target) for instance in self._instances_of(source)]
        can = sum(1 for v in verdicts if v["can_migrate"])
        return {"process_key": process_key, "from": _version(source), "to": _version(target), "dry_run": True,
                "counts": {"total": len(verdicts), "can_migrate": can, "cannot_migrate": len(verdicts) - can},
                "instances": verdicts}

    def migrate_version(self, process_key: str, version: int, to_version: int, *, actor: str | None) -> dict:
        """Move every running instance of ``version`` that can move to ``to_version``, one
        transaction each: an instance refused (or failing) stays on its version untouched,
        the others move. Returns counts {total, moved, refused} and per instance its
        ``outcome``. Raises NotFound, InvalidInput (same or bad version)."""
        source = self.definition(process_key, version)
        target = self._target(source, to_version)
        results = []
        for instance in self._instances_of(source):
            verdict = self._verdict(instance, source, target)
            if verdict["can_migrate"]:
                try:
                    self.engine.runtime.run_command(instance.id, self._command(source, target), actor)
                    verdict.update(migrated=True, outcome="moved")
                except (EngineError, DBAPIError) as exc:   # moved on, busy, refused now: rolled back
                    verdict.update(can_migrate=False, outcome="failed", reasons=_reasons_of(exc))
            else:
                verdict["outcome"] = "refused"
            results.append(verdict)
        moved = sum(1 for r in results if r["outcome"] == "moved")
        return {"process_key": process_key, "from": _version(source), "to": _version(target), "dry_run": False,
                "counts": {"total": len(results), "moved": moved, "refused": len(results) - moved},
                "instances": results}

    # -- internals ------------------------------------------------------------------------------
    def _running(self, instance_id: int):
        instance = self.engine.runtime.get(instance_id)
        if instance.status not in RUNNING:
            raise Conflict(f"instance {instance_id} is {instance.status}: only running instances move",
                           errors={"status": instance.status})
        return instance, self.engine.repository.get(instance.definition_id)

    def _instances_of(self, source) -> list[ProcessInstance]:
        with self.engine.db.read() as session:
            return list(session.scalars(select(ProcessInstance).where(
                ProcessInstance.definition_id == source.id, ProcessInstance.status.in_(RUNNING))
                .order_by(ProcessInstance.id)))

    def _command(self, source, target) -> MigrateInstance:
        return MigrateInstance(target, self.engine.repository.specs(target), self.engine.store, source.version)

    def _verdict(self, instance, source, target) -> dict:
        verdict = Verdict()
        if instance.status == "error":
            verdict.reasons.append({"code": "in_error", "element_id": None, "name": None,
                                    "reason": "案件出错待处理：先重试或处理其故障，再迁移"})
        else:
            spec, subprocess_specs = self.engine.repository.specs(target)
            # A fresh copy of the workflow, moved and thrown away: the dry run is the migration.
            verdict = plan(self.engine.store, self.engine.runtime.workflow(instance.id), spec, subprocess_specs)
        return {**self._describe(instance, source, target, verdict), "migrated": False}

    @staticmethod
    def _describe(instance, source, target, verdict) -> dict:
        return {"instance_id": instance.id, "business_key": instance.business_key, "status": instance.status,
                "from": _version(source), "to": _version(target), "can_migrate": verdict.can_migrate,
                "reasons": verdict.reasons}


def _reasons_of(exc) -> list[dict]:
    errors = getattr(exc, "errors", None)
    if isinstance(exc, MigrationRefused) or (isinstance(errors, list) and errors):
        return list(errors)
    text = getattr(exc, "message", None) or str(getattr(exc, "orig", exc))
    return [{"code": "failed", "element_id": None, "name": None, "reason": f"迁移未完成，案件未改动：{text}"}]
