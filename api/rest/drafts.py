"""Drafts of process definitions (admin): the editor's saved work, then its deploy."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import api_user, require_admin
from . import engine
from .definitions import CheckResultSchema, DeployResultSchema

blp = Blueprint("process_drafts", __name__, url_prefix="/api/v1/process-drafts",
                description="Diagrams and forms being edited: saved, checked, deployed with a note")

FILES_DOC = "{file name: text}: exactly one .bpmn file and any form .json files it brings"


class ProcessDraftSchema(Schema):
    id = fields.Integer()
    process_key = fields.String()
    title = fields.String()
    base_version = fields.Integer(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_by = fields.String(allow_none=True)
    updated_at = fields.DateTime()
    row_version = fields.Integer()
    deployed_version = fields.Integer(allow_none=True)


class ListedDraftSchema(ProcessDraftSchema):
    file_names = fields.List(fields.String())


class FullDraftSchema(ProcessDraftSchema):
    files = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"description": FILES_DOC})


class DraftListQuery(Schema):
    process_key = fields.String(load_default=None)
    include_deployed = fields.Boolean(load_default=False)


class DraftNew(Schema):
    process_key = fields.String(required=True)
    title = fields.String(load_default=None)
    base_version = fields.Integer(load_default=None, validate=validate.Range(min=1))
    files = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True,
                        metadata={"description": FILES_DOC})


class DraftChange(Schema):
    row_version = fields.Integer(required=True, metadata={"description": "the version the editor loaded"})
    title = fields.String(load_default=None)
    files = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=None)


class DraftStale(Schema):
    row_version = fields.Integer(required=True)


class DraftDeploy(Schema):
    row_version = fields.Integer(required=True)
    note = fields.String(required=True, metadata={"description": "why the work changes (required)"})


@blp.before_request
def _admins_only():
    # Before flask-smorest reads the body: a stranger gets 401/403, not a 422 about fields.
    require_admin(api_user())


def _admin() -> str:
    return api_user().username


@blp.get("")
@blp.arguments(DraftListQuery, location="query")
@blp.response(200, ListedDraftSchema(many=True))
def list_drafts(query):
    """Drafts not deployed, newest change first (admin); ``?process_key=`` narrows,
    ``?include_deployed=true`` adds the deployed ones (the record of each deploy)."""
    _admin()
    return [d.to_dict(with_files=False) for d in engine().drafts.list(
        query["process_key"], include_deployed=query["include_deployed"])]


@blp.post("")
@blp.arguments(DraftNew)
@blp.response(201, FullDraftSchema)
def create_draft(body):
    """Save a new draft (admin). 422 names the field (``process_key``, ``title``,
    ``files``) for a bad key, file name or kind, no or several .bpmn files, or more than
    5 MB; 404 for an unknown ``base_version``. The files need not be valid yet."""
    actor = _admin()
    return engine().drafts.create(body["process_key"], body["files"], actor=actor, title=body["title"],
                                  base_version=body["base_version"]).to_dict()


@blp.get("/<int:draft_id>")
@blp.response(200, FullDraftSchema)
def get_draft(draft_id):
    """One draft with its files (admin). 404 for an unknown id."""
    _admin()
    return engine().drafts.get(draft_id).to_dict()


@blp.put("/<int:draft_id>")
@blp.arguments(DraftChange)
@blp.response(200, FullDraftSchema)
def update_draft(body, draft_id):
    """Replace the files and/or title (admin). 409 when ``row_version`` is not the
    current one (someone saved in between) or the draft was deployed; 422 as on create."""
    actor = _admin()
    return engine().drafts.update(draft_id, row_version=body["row_version"], actor=actor,
                                  files=body["files"], title=body["title"]).to_dict()


@blp.delete("/<int:draft_id>")
@blp.arguments(DraftStale, location="query")
@blp.response(204)
def delete_draft(query, draft_id):
    """Discard a draft (admin; ``?row_version=``). 409 if stale or deployed; 404."""
    actor = _admin()
    engine().drafts.delete(draft_id, row_version=query["row_version"], actor=actor)


@blp.post("/<int:draft_id>/validate")
@blp.response(200, CheckResultSchema)
def validate_draft(draft_id):
    """The deploy's validation of the draft, storing nothing (admin): as
    ``POST /process-definitions/validate``, with called processes and forms resolved
    from the newest deployed versions first."""
    _admin()
    return engine().drafts.check(draft_id)


@blp.post("/<int:draft_id>/deploy")
@blp.arguments(DraftDeploy)
@blp.response(201, DeployResultSchema)
@blp.alt_response(200, schema=DeployResultSchema, description="nothing changed: existing versions returned")
def deploy_draft(body, draft_id):
    """Deploy the draft with a required ``note`` (admin). 422: empty note
    (``errors.note``) or invalid files (``errors`` as the deploy's). 409: stale
    ``row_version``, deployed already, or the process got a newer version than the draft's
    base since it was opened (reopen on the latest version)."""
    actor = _admin()
    results = engine().drafts.deploy(draft_id, note=body["note"], row_version=body["row_version"], actor=actor)
    status = 201 if any(r.created for r in results) else 200
    return {"processes": [r.to_dict() for r in results], "warnings": results.warnings}, status
