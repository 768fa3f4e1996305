"""Daily attendance: ``POST /attendance`` (JSON, CONTRACT.md) and ``POST /attendance/upload``
(an Excel file for a school's day). Rules live in ``ledger.attendance``; who may report in
``ledger.access.attendance_classes``."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from engine.errors import Forbidden, InvalidInput
from ledger import access
from ledger.attendance import MAX_RECORDS, record_day
from ledger.attendance_excel import MAX_BYTES, record_upload

from ..auth import api_user
from . import engine

blp = Blueprint("attendance", __name__, url_prefix="/api/v1/attendance",
                description="Daily attendance (每日报平安): stored per child and day; absences drive persuasion cases")


class AttendanceArgs(Schema):
    school_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    date = fields.Date(required=True)
    # Rows are checked by the service, so that each error names its row (records.<i>).
    records = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=MAX_RECORDS),
                          metadata={"description": "[{child_id, status, reason?}], status ∈ "
                                                   "present | absent_excused | absent_unexcused"})


class OutcomeSchema(Schema):
    child_id = fields.Integer()
    status = fields.String()
    consecutive_unexcused = fields.Integer(metadata={"description": "unexcused school days in a row, ending that day"})
    returned = fields.Boolean(metadata={"description": "present after an absence with unexcused days"})


class ResultSchema(Schema):
    recorded = fields.Integer(metadata={"description": "rows in the report"})
    changed = fields.Integer(metadata={"description": "rows whose status was new or different"})
    outcomes = fields.List(fields.Nested(OutcomeSchema), metadata={"description": "one per changed row"})
    cases_started = fields.List(fields.Dict(), metadata={"description": "[{child_id, instance_id}]"})
    messages_sent = fields.List(fields.Dict(), metadata={"description": "[{child_id, message, status, reached}]"})
    case_errors = fields.List(fields.Dict(), metadata={"description": "[{child_id, message}]: the case failed on it (an incident holds it)"})
    pending = fields.List(fields.Dict(), metadata={"description": "[{child_id, message}]: stored; the worker hands it to the case shortly"})


class UploadForm(Schema):
    school_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    date = fields.Date(required=True)


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["school_code", "date", "file"], "properties": {
        "school_code": {"type": "string"}, "date": {"type": "string", "format": "date"},
        "file": {"type": "string", "format": "binary",
                 "description": "列：学生ID、姓名、班级、状态（到校/请假/无故缺课）、原因"}}}}}}


@blp.post("")
@blp.arguments(AttendanceArgs)
@blp.response(200, ResultSchema)
@blp.alt_response(422, description="`errors` {records.<i> | date | school_code: 中文}; nothing stored")
def post_attendance(args):
    """Record a school's day: ``{recorded, changed, outcomes: [{child_id, status,
    consecutive_unexcused, returned}], cases_started, messages_sent, case_errors}``.

    Head teachers report their own classes; the school's principal and registrar any
    class (others: 403). Re-sending a day changes nothing; the last report wins.
    """
    principal = api_user()
    classes = _reporting_classes(principal, args["school_code"])
    result = record_day(engine(), args["school_code"], args["date"], args["records"], principal.username,
                        allowed_classes=classes)
    return result.to_dict()


@blp.post("/upload")
@blp.doc(requestBody=UPLOAD_BODY)
@blp.response(200, ResultSchema)
@blp.alt_response(413, description="file too large")
@blp.alt_response(422, description="`errors` {rows.<n> | file | date | school_code: 中文}; nothing stored")
def upload_attendance():
    """Record a school's day from an .xlsx file (multipart: school_code, date, file);
    answers as ``POST /attendance``. Every bad row is listed with its row number."""
    principal = api_user()
    # Parsed here, not by @arguments: flask-smorest documents form + files as OpenAPI 2 "formData".
    try:
        form = UploadForm().load(request.form.to_dict())
    except ValidationError as err:
        raise InvalidInput("request is invalid", errors={k: "; ".join(map(str, v)) for k, v in err.messages.items()})
    classes = _reporting_classes(principal, form["school_code"])
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("请选择要上传的文件", errors={"file": "请选择要上传的 .xlsx 文件"})
    data = upload.stream.read(MAX_BYTES + 1)   # read no more than needed to know it is too big
    return record_upload(engine(), form["school_code"], form["date"], data, upload.filename, principal.username,
                         allowed_classes=classes).to_dict()


def _reporting_classes(principal, school_code: str) -> set[str] | None:
    with engine().db.read() as session:
        classes = access.attendance_classes(session, principal, school_code)
    if classes is not None and not classes:
        raise Forbidden("只有该校的班主任、校长或学籍管理员可以报送考勤 (not your school)")
    return classes
