"""Process definitions: list, read the BPMN of a version, deploy."""
from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

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


class DeployedSchema(Schema):
    process_key = fields.String()
    name = fields.String(allow_none=True)
    version = fields.Integer()
    definition_id = fields.Integer()
    created = fields.Boolean(metadata={"description": "false when the content was unchanged"})
    warnings = fields.List(fields.Dict(), metadata={
        "description": "{file, element_id, line, message}: deployed, but may not behave as meant"})


class DeployResultSchema(Schema):
    processes = fields.List(fields.Nested(DeployedSchema))


class VersionQuery(Schema):
    version = fields.Integer(load_default=None)


@blp.get("")
@blp.response(200, DefinitionSchema(many=True))
def list_definitions():
    """All versions of all process keys, oldest first (any signed-in user)."""
    api_user()
    return [dict(process_key=d.process_key, name=d.name, version=d.version, definition_id=d.id,
                 deployed_at=d.deployed_at, deployed_by=d.deployed_by)
            for d in engine().repository.list()]


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
    file, element id and line). 413 above the upload limit.
    """
    principal = api_user()
    require_admin(principal)
    files = _uploaded_files()
    results = engine().repository.deploy(files, actor=principal.username)
    status = 201 if any(r.created for r in results) else 200
    return {"processes": [r.to_dict() for r in results]}, status


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
