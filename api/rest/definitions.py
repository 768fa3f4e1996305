"""Process definitions: list, summary per key, the diff of two versions, read the BPMN of a
version, deploy."""
from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine.errors import EngineError, InvalidInput, NotFound

from ..auth import api_user, require_admin
from . import engine

blp = Blueprint("process_definitions", __name__, url_prefix="/api/v1/process-definitions",
                description="Deployed BPMN process definitions (versions)")

XML_TYPES = ("application/xml", "text/xml", "application/bpmn+xml")


class DefinitionSchema(Schema):
    process_key = fields.String()
    name = fields.String(allow_none=True)
    version = fields.Integer()
    definition_id = fields.Integer()
    deployed_at = fields.DateTime()
    deployed_by = fields.String(allow_none=True)
    note = fields.String(allow_none=True, metadata={"description": "why this version was deployed"})


class RunningSchema(Schema):
    version = fields.Integer()
    count = fields.Integer(metadata={"description": "instances of that version not completed or terminated"})


class SummarySchema(Schema):
    process_key = fields.String()
    name = fields.String(allow_none=True)
    latest_version = fields.Integer()
    definition_id = fields.Integer(metadata={"description": "the latest version's"})
    deployed_at = fields.DateTime()
    deployed_by = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    running = fields.List(fields.Nested(RunningSchema), metadata={
        "description": "versions with running instances, newest first"})
    running_total = fields.Integer()


class DiffQuery(Schema):
    from_version = fields.Integer(required=True, data_key="from", validate=validate.Range(min=1))
    to_version = fields.Integer(required=True, data_key="to", validate=validate.Range(min=1))


class ElementSchema(Schema):
    id = fields.String()
    type = fields.String(allow_none=True, metadata={"description": "the BPMN tag, e.g. userTask; process for the process"})
    name = fields.String(allow_none=True)


class ChangeSchema(Schema):
    field = fields.String(metadata={"description": "name, type, lane, incoming, outgoing, condition, timer, script, "
                                                   "instructions, a spiffworkflow property (dueIn, dueDays, ...)..."})
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class ChangedSchema(ElementSchema):
    changes = fields.List(fields.Nested(ChangeSchema))


class FormChangeSchema(Schema):
    file = fields.String()
    change = fields.String(metadata={"description": "added | removed | changed"})


class DiffSchema(Schema):
    process_key = fields.String()
    from_version = fields.Integer(data_key="from")
    to_version = fields.Integer(data_key="to")
    added = fields.List(fields.Nested(ElementSchema))
    removed = fields.List(fields.Nested(ElementSchema))
    changed = fields.List(fields.Nested(ChangedSchema))
    forms = fields.List(fields.Nested(FormChangeSchema))


class DeployedSchema(Schema):
    process_key = fields.String()
    name = fields.String(allow_none=True)
    version = fields.Integer()
    definition_id = fields.Integer()
    created = fields.Boolean(metadata={"description": "false when the content was unchanged"})


class DeployNoteSchema(Schema):
    file = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)
    message = fields.String()


class DeployResultSchema(Schema):
    processes = fields.List(fields.Nested(DeployedSchema))
    warnings = fields.List(fields.Nested(DeployNoteSchema), metadata={
        "description": "notes that did not refuse the deploy (e.g. how a called process's tasks are routed)"})


class CheckedProcessSchema(Schema):
    process_key = fields.String()
    name = fields.String(allow_none=True)
    current_version = fields.Integer(allow_none=True)
    next_version = fields.Integer(allow_none=True, metadata={
        "description": "the version a deploy would create; null when the content is unchanged"})


class CheckResultSchema(Schema):
    valid = fields.Boolean()
    errors = fields.List(fields.Nested(DeployNoteSchema))
    warnings = fields.List(fields.Nested(DeployNoteSchema))
    processes = fields.List(fields.Nested(CheckedProcessSchema))


class VersionQuery(Schema):
    version = fields.Integer(load_default=None)


@blp.get("")
@blp.response(200, DefinitionSchema(many=True))
def list_definitions():
    """All versions of all process keys, oldest first (any signed-in user)."""
    api_user()
    return [dict(process_key=d.process_key, name=d.name, version=d.version, definition_id=d.id,
                 deployed_at=d.deployed_at, deployed_by=d.deployed_by, note=d.note)
            for d in engine().repository.list()]


@blp.get("/summary")
@blp.response(200, SummarySchema(many=True))
def summary():
    """One row per process key (its latest version, who deployed it, when, the note) with the
    running instances per version (any signed-in user; ``Repository.summary``)."""
    api_user()
    return engine().repository.summary()


@blp.get("/<process_key>/diff")
@blp.arguments(DiffQuery, location="query")
@blp.response(200, DiffSchema)
@blp.alt_response(404, description="unknown process key or version")
@blp.alt_response(422, description="`from` or `to` missing or not a version number")
def diff(query, process_key):
    """What changed from version ``from`` to version ``to`` of a process (issue 14): elements
    added, removed and changed (each change ``{field, before, after}``), form files added,
    removed or changed; drawing-only changes are none (``engine.definitions.versiondiff``)."""
    api_user()
    result = dict(engine().repository.diff(process_key, query["from_version"], query["to_version"]))
    result["from_version"], result["to_version"] = result.pop("from"), result.pop("to")
    return result


@blp.get("/<process_key>/bpmn")
@blp.arguments(VersionQuery, location="query")
@blp.response(200, description="the BPMN XML of that version (latest by default)")
def get_bpmn(query, process_key):
    """The exact BPMN file a version was deployed with. 404 for an unknown key or version."""
    api_user()
    repository = engine().repository
    if query["version"] is None:
        definition = repository.latest(process_key)
    else:
        matches = [d for d in repository.list() if d.process_key == process_key and d.version == query["version"]]
        if not matches:
            raise NotFound(f"process {process_key!r} has no version {query['version']}")
        definition = matches[0]
    content = repository.files(definition.id)[definition.file_name]
    return Response(content, mimetype="application/xml")


@blp.post("")
@blp.doc(requestBody={"content": {
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
    "application/xml": {"schema": {"type": "string"}}}})
@blp.response(201, DeployResultSchema)
@blp.alt_response(200, schema=DeployResultSchema, description="nothing changed: existing versions returned")
@blp.alt_response(422, description="`errors`: list of {file, element_id, line, message}")
def deploy():
    """Validate and deploy BPMN/DMN files and the JSON forms they reference.

    Multipart field ``files`` (several allowed; BPMN, DMN and form ``.json`` files), or one
    BPMN document as the request body (``Content-Type: application/xml``; ``?filename=``
    names it). Nothing is stored unless every file is valid (422 lists each problem with
    file, element id and line). 413 above the upload limit. ``warnings`` lists what the
    modeller should read but did not refuse the deploy, in the same shape. ``note`` (form
    field or query parameter, at most 2000 characters) says why; it is kept on each new
    version and in the definitions' audit chain.
    """
    principal = api_user()
    require_admin(principal)
    files = _uploaded_files()
    results = engine().repository.deploy(files, actor=principal.username, note=_note())
    status = 201 if any(r.created for r in results) else 200
    return {"processes": [r.to_dict() for r in results], "warnings": results.warnings}, status


@blp.post("/validate")
@blp.doc(requestBody={"content": {
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
    "application/xml": {"schema": {"type": "string"}}}})
@blp.response(200, CheckResultSchema)
def validate():
    """A dry-run deploy (admin): the same body and checks as ``POST /process-definitions``,
    storing nothing. 200 whether valid or not: ``valid``, ``errors`` and ``warnings`` as
    {file, element_id, line, message}, and per process the version a deploy would create
    (``next_version`` null: unchanged). 400/413 for a body that is not a deploy at all."""
    principal = api_user()
    require_admin(principal)
    return engine().repository.check(_uploaded_files())


class RedeployArgs(Schema):
    note = fields.String(required=True, metadata={"description": "why the older version comes back (required)"})


@blp.post("/<process_key>/versions/<int:version>/redeploy")
@blp.arguments(RedeployArgs)
@blp.response(201, DeployedSchema)
def redeploy(body, process_key, version):
    """Put version ``version`` back as the newest version (admin): same files, a new
    version number, the note required. New cases start on it; running ones stay on theirs.
    404 unknown key or version; 409 it is the newest already; 422 no note, or its files no
    longer pass the deploy's checks (``errors`` as a deploy's)."""
    principal = api_user()
    require_admin(principal)
    return engine().repository.redeploy(process_key, version, note=body["note"], actor=principal.username).to_dict()


def _note() -> str | None:
    note = request.form.get("note") if request.mimetype == "multipart/form-data" else None
    note = (note if note is not None else request.args.get("note", "")).strip()
    if len(note) > 2000:
        raise InvalidInput("部署说明过长 (note too long)", errors={"note": "最多 2000 字"})
    return note or None


def _uploaded_files() -> dict[str, bytes]:
    content_type = (request.mimetype or "").lower()
    if content_type == "multipart/form-data":
        uploads = request.files.getlist("files")
        if not uploads:
            raise InvalidInput("no files uploaded", errors={"files": "required"})
        files = {}
        for upload in uploads:
            name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
            if not name:
                raise InvalidInput("an uploaded file has no name", errors={"files": "file name required"})
            if name in files:
                raise InvalidInput(f"file {name} uploaded twice", errors={"files": f"duplicate {name}"})
            files[name] = upload.read()
        return files
    if content_type in XML_TYPES:
        name = request.args.get("filename", "process.bpmn")
        if "/" in name or "\\" in name or not name.strip():
            raise InvalidInput("invalid filename", errors={"filename": "must be a plain file name"})
        return {name: request.get_data()}
    raise EngineError("send multipart/form-data with `files`, or an XML body",
                      errors={"Content-Type": f"unsupported: {content_type or 'none'}"})
