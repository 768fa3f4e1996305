"""Responsibility agreements (目标责任书, issue 12): start a year's campaign, read the
register, export it, and download the signed documents. Rules live in ``ledger.agreements``
(campaign), ``ledger.agreement_views`` (scope, register) and ``ledger.agreement_texts``."""
from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine.errors import Forbidden
from ledger.agreement_check import after_step
from ledger.agreement_texts import to_docx
from ledger.agreement_views import (DEFAULT_PER_PAGE, MAX_PER_PAGE, RegisterFilter, document, documents, export_xlsx,
                                    register, school_year_arg, visible_agreement)
from ledger.agreements import STARTERS, start_campaign

from ..auth import api_user
from . import engine

blp = Blueprint("agreements", __name__, url_prefix="/api/v1/agreements",
                description="Responsibility agreements (目标责任书): campaigns, the register, signed documents")


class CampaignArgs(Schema):
    school_year = fields.String(required=True, metadata={"description": "e.g. 2025-2026"})
    deadline = fields.Date(load_default=None, metadata={"description": "signing deadline, within the school year; default 20 working days on (from the year's start at the earliest)"})
    dropout_target = fields.Float(load_default=None, validate=validate.Range(0, 100))
    return_target = fields.Float(load_default=None, validate=validate.Range(0, 100))


class RegisterArgs(Schema):
    school_year = fields.String(load_default=None, metadata={"description": "e.g. 2025-2026; default the current school year"})
    year = fields.String(load_default=None, metadata={"description": "older name of school_year, still accepted"})
    unit = fields.String(load_default=None, metadata={"description": "a school's or village's code"})
    status = fields.String(load_default=None, metadata={"description": "pending | overdue | refused | "
                                                                       "awaiting_countersign | signed | withdrawn"})
    tier = fields.Integer(load_default=None, metadata={"description": "1 (town-unit) or 2 (unit-person)"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE))


def _filter(args: dict, *, every_line: bool = False) -> RegisterFilter:
    year = school_year_arg(args.pop("school_year"), args.pop("year"))
    flt = RegisterFilter(school_year=year, **args)
    if every_line:
        flt.page = None
    return flt


@blp.post("/campaigns")
@blp.arguments(CampaignArgs)
@blp.response(201)
@blp.alt_response(409, description="the school year already has a campaign")
@blp.alt_response(422, description="`errors` {school_year | deadline | dropout_target | return_target: 中文}")
def post_campaign(args):
    """Open the campaign of a school year: ``{campaign_id, instance_id, school_year}``; the
    office's review task opens. The livelihood office, the task-force deputy or leader only
    (403). A second campaign for the same year is a 409; nothing is stored on an error."""
    principal = api_user()
    if not any(principal.holds(role) for role in STARTERS):
        raise Forbidden("只有镇民生服务办或专班可以发起目标责任书签订 (livelihood office or task force only)")
    result = start_campaign(engine(), principal.username, args.pop("school_year"), **args)
    after_step(engine())
    return result


@blp.get("")
@blp.arguments(RegisterArgs, location="query")
@blp.alt_response(422, description="`errors` {school_year | unit | status | tier | page | per_page: 中文}")
def get_register(args):
    """The register of a school year (the latest by default), scoped to the caller:
    ``{school_year, campaign, counts: {pending, overdue, refused, awaiting_countersign,
    signed, withdrawn, total}, total, page, per_page, pages, items: [...]}``
    (``ledger.agreement_views.register``; each item ``describe``). ``counts`` are by status
    before the status filter; ``total`` the lines matching every filter, ``items`` one page
    of them (``page`` from 1, ``per_page`` 1-200, default 50). 422 naming the field for a
    school year not written 2025-2026 (or ``school_year`` and ``year`` that differ), an
    unknown ``unit`` or ``status``, a ``tier`` other than 1 or 2, a bad page."""
    return register(engine(), api_user(), _filter(args))


@blp.get("/export.xlsx")
@blp.arguments(RegisterArgs, location="query")
def export(args):
    """The register as filtered, as an Excel workbook: one row per agreement, every one
    (``page`` and ``per_page`` are ignored). 422 as the register."""
    data = register(engine(), api_user(), _filter(args, every_line=True))
    return Response(export_xlsx(data, engine().zone), headers={"Content-Disposition": "attachment; filename=agreements.xlsx"},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@blp.get("/<int:agreement_id>/documents")
def get_documents(agreement_id):
    """The kept versions of one agreement's signed document: ``{agreement_id, ref,
    documents: [{id, version, title, sha256, created_at}]}``; 404 outside the caller's scope."""
    row, _ = visible_agreement(engine(), api_user(), agreement_id)
    return {"agreement_id": row.id, "ref": row.ref, "documents": documents(engine(), row.id)}


@blp.get("/documents/<int:document_id>")
def get_document(document_id):
    """One kept document: ``{id, version, title, text, sha256, created_at}``."""
    doc = document(engine(), api_user(), document_id)
    return {"id": doc.id, "agreement_id": doc.agreement_id, "version": doc.version, "title": doc.title,
            "text": doc.text, "sha256": doc.sha256, "created_at": doc.created_at.isoformat()}


@blp.get("/documents/<int:document_id>.docx")
def get_document_docx(document_id):
    """One kept document as .docx."""
    doc = document(engine(), api_user(), document_id)
    return Response(to_docx(doc.text), mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f"attachment; filename=agreement-{doc.agreement_id}-v{doc.version}.docx"})
