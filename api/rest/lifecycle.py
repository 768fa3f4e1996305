"""Running cases, for administrators: suspend, resume, terminate, and migration to another
version of the process (issue 14, "Running cases"; engine.lifecycle, engine.versions).

Admin only: 401 without a valid bearer token, 403 for anyone else, before the body is read.
Errors (``{code, message, errors?}``, Chinese first): 404 unknown instance, process key or
version; 409 an instance whose status does not allow the act (suspend: not active; resume:
not suspended; terminate or migrate: completed or terminated; migrate: in error or refused,
``errors`` = the reasons); 422 a missing or too long ``reason``, a version that is not a
positive whole number, the version the instance is on, a ``to_definition_id`` of another
process key.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.errors import InvalidInput, NotFound
from engine.lifecycle import REASON_MAX

from ..auth import api_user, require_admin
from . import engine

blp = Blueprint("lifecycle", __name__, url_prefix="/api/v1",
                description="Running cases: suspend, resume, terminate, migrate (administrators only)")
MAX_ID = 2**31 - 1


@blp.before_request
def _admins_only():
    require_admin(api_user())


class ReasonArgs(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=REASON_MAX),
                           metadata={"description": "why (required, shown in the case's history)"})


class MigrationArgs(Schema):
    to_version = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=MAX_ID),
                                metadata={"description": "the version of the same process key to move to"})
    to_definition_id = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=MAX_ID),
                                      metadata={"description": "or the definition id (must be of the same key)"})
    dry_run = fields.Boolean(load_default=True, metadata={"description": "true (default): only say what would happen"})

    @validates_schema
    def _one_target(self, data, **_):
        if (data.get("to_version") is None) == (data.get("to_definition_id") is None):
            raise ValidationError("须给出 to_version 或 to_definition_id 之一 (exactly one)", "to_version")


class ActResult(Schema):
    instance_id = fields.Integer()
    status = fields.String(metadata={"description": "active | suspended | terminated"})


def _act(instance_id: int, method: str, args: dict) -> dict:
    _instance(instance_id)
    outcome = getattr(engine().lifecycle, method)(instance_id, args["reason"], actor=api_user().username)
    return {"instance_id": outcome.instance_id, "status": outcome.status}


def _instance(instance_id: int):
    if not 0 < instance_id <= MAX_ID:
        raise NotFound("流程实例不存在 (process instance not found)")
    return engine().runtime.get(instance_id)


@blp.post("/process-instances/<int:instance_id>/suspend")
@blp.arguments(ReasonArgs)
@blp.response(200, ActResult)
def suspend(args, instance_id):
    """Suspend an active case: ``{instance_id, status: "suspended"}``. Its tasks cannot be
    claimed or completed (409 案件已暂停) and leave the inboxes; due timers and messages for it
    wait and are applied after resume. Audited ``instance_suspended`` {reason}."""
    return _act(instance_id, "suspend", args)


@blp.post("/process-instances/<int:instance_id>/resume")
@blp.arguments(ReasonArgs)
@blp.response(200, ActResult)
def resume(args, instance_id):
    """Resume a suspended case: ``{instance_id, status: "active"}``; messages that waited are
    delivered now, due timers fire at the worker's next sweep. Audited ``instance_resumed``."""
    return _act(instance_id, "resume", args)


@blp.post("/process-instances/<int:instance_id>/terminate")
@blp.arguments(ReasonArgs)
@blp.response(200, ActResult)
def terminate(args, instance_id):
    """Terminate an active, suspended or failed case: ``{instance_id, status: "terminated"}``.
    Open tasks, timers and message waits are cancelled, an open incident closed, the business
    key freed (a new case for the child may start). Audited ``instance_terminated`` {reason,
    status_before}."""
    return _act(instance_id, "terminate", args)


def _to_version(process_key: str, args: dict) -> int:
    if args.get("to_version") is not None:
        return args["to_version"]
    target = engine().repository.get(args["to_definition_id"])
    if target.process_key != process_key:
        raise InvalidInput(f"definition {target.id} is of process {target.process_key}",
                           errors={"to_definition_id": f"属于另一流程 {target.process_key}，只能迁移到 {process_key} 的版本"})
    return target.version


@blp.post("/process-instances/<int:instance_id>/migration")
@blp.arguments(MigrationArgs)
def migrate_instance(args, instance_id):
    """Dry run (default) or migration of one case to another version of its process:
    ``{instance_id, business_key, status, from: {definition_id, version}, to: {...},
    can_migrate, reasons: [{code, element_id, name, reason}], migrated}``. A migration that is
    refused is a 409 with ``errors`` = the reasons; nothing changed. Audited
    ``instance_migrated`` {from_definition_id, from_version, to_definition_id, to_version}."""
    instance = _instance(instance_id)
    to_version = _to_version(instance.process_key, args)
    versions = engine().versions
    if args["dry_run"]:
        return versions.dry_run(instance_id, to_version)
    return versions.migrate(instance_id, to_version, actor=api_user().username)


@blp.post("/process-definitions/<string:process_key>/versions/<int:version>/migration")
@blp.arguments(MigrationArgs)
def migrate_version(args, process_key, version):
    """Dry run (default) or migration of every running case (active, suspended, error) of
    ``version`` of ``process_key``, one transaction per case: ``{process_key, from, to,
    dry_run, counts: {total, can_migrate, cannot_migrate} (dry run) | {total, moved, refused},
    instances: [verdict + outcome moved|refused|failed]}``. A refused case stays untouched."""
    to_version = _to_version(process_key, args)
    versions = engine().versions
    if args["dry_run"]:
        return versions.dry_run_version(process_key, version, to_version)
    return versions.migrate_version(process_key, version, to_version, actor=api_user().username)
