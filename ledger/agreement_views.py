"""What the register shows, to whom (issue 12): per school year, per unit and per person,
with counts, filters, the Excel export and the signed documents.

Scope: the task force (leader, deputy), the discipline inspector, the livelihood office and
the town government see the whole town; a principal their school, a village secretary their
village (the unit's own agreement and its staff's); anyone else their own agreements.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from engine.errors import InvalidInput, NotFound

from .agreement_models import Agreement, AgreementCampaign, AgreementDocument
from .agreement_register import agreement_text
from .agreement_texts import KINDS
from .agreements import UNIT_KINDS, check_school_year, school_year_of
from .directory import role_name, unit_names
from .models import OrgUnit
from .xlsx_out import LOCAL_TIME_FORMAT, append_text, excel_local

TOWN_READERS = ("task_force_leader", "task_force_deputy", "discipline_inspector", "livelihood_office",
                "town_government")
UNIT_HEADS = ("principal", "village_secretary")
STATUS_NAMES = {"pending": "待签", "overdue": "逾期未签", "refused": "有异议", "awaiting_countersign": "待会签",
                "signed": "已签订", "withdrawn": "已撤回"}
ASSESSMENT_NAMES = {"met": "达标", "not_met": "未达标"}
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200
_NUMBER = re.compile(r"[0-9]{1,6}")   # ASCII digits only: int() takes "٣" and fails on 5000 digits


@dataclass
class RegisterFilter:
    """What the register shows: the school year (None: the latest), a unit, a status
    (STATUS_NAMES), a tier (1, 2), and which page of ``per_page`` lines (``page`` None: every
    line, as the Excel export takes them)."""
    school_year: str | None = None
    unit: str | None = None
    status: str | None = None
    tier: int | None = None
    page: int | None = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_query(cls, args) -> "RegisterFilter":
        """From a page's query string (all text), the same names as ``GET /api/v1/agreements``:
        ``school_year`` (``year`` kept as an alias), ``unit``, ``status``, ``tier``, ``page``,
        ``per_page``. InvalidInput naming the field for a value that is not a number."""
        numbers = {}
        for field, name in (("tier", "层级"), ("page", "页码"), ("per_page", "每页条数")):
            raw = (args.get(field) or "").strip()
            if raw and not _NUMBER.fullmatch(raw):
                raise InvalidInput(f"{name}不正确", errors={field: f"{name}应为正整数（至多 6 位）"})
            numbers[field] = int(raw) if raw else None
        return cls(school_year=school_year_arg(args.get("school_year"), args.get("year")),
                   unit=args.get("unit") or None, status=args.get("status") or None, tier=numbers["tier"],
                   page=1 if numbers["page"] is None else numbers["page"],
                   per_page=DEFAULT_PER_PAGE if numbers["per_page"] is None else numbers["per_page"]).check()

    def check(self) -> "RegisterFilter":
        """InvalidInput (422) naming the field: a school year not written 2025-2026, an unknown
        status, a tier other than 1 or 2, a page below 1, ``per_page`` outside 1-200."""
        if self.school_year is not None:
            check_school_year(self.school_year)
        if self.status and self.status not in STATUS_NAMES:
            raise InvalidInput("状态不正确", errors={"status": "状态应为" + "、".join(
                f"{name}（{code}）" for code, name in STATUS_NAMES.items()) + "之一"})
        if self.tier not in (None, 1, 2):
            raise InvalidInput("层级不正确", errors={"tier": "应为 1（镇与单位）或 2（单位与个人）"})
        if self.page is not None and self.page < 1:
            raise InvalidInput("页码不正确", errors={"page": "页码应为正整数"})
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidInput("每页条数不正确", errors={"per_page": f"每页条数应在 1 至 {MAX_PER_PAGE} 之间"})
        return self


def school_year_arg(school_year: str | None, year: str | None) -> str | None:
    """The register's school year from ``school_year`` or its older alias ``year`` (links
    made before the rename); InvalidInput (field ``school_year``) when both differ."""
    school_year, year = (school_year or "").strip() or None, (year or "").strip() or None
    if school_year and year and school_year != year:
        raise InvalidInput("学年参数矛盾", errors={"school_year": "school_year 与 year（旧参数名）不一致，请只用 school_year"})
    return school_year or year


def scope_condition(principal):
    """A WHERE clause on Agreement selecting what the person may see (module doc)."""
    if any(principal.holds(role) for role in TOWN_READERS):
        return Agreement.id.is_not(None)
    units = set().union(*(principal.units(role) for role in UNIT_HEADS))
    mine = Agreement.party_username == principal.username
    return Agreement.unit_code.in_(sorted(units)) | mine if units else mine


def display_status(row: Agreement, now: datetime) -> str:
    """pending | overdue | refused | awaiting_countersign | signed | withdrawn."""
    if row.status == "pending":
        late = row.overdue_at is not None or (row.due_at is not None and row.due_at < now)
        return "overdue" if late else "pending"
    if row.status == "signed" and row.countersigned_at is None:   # both tiers: the unit countersigns its staff's
        return "awaiting_countersign"
    return row.status


def signing_state(session, school_year: str, now: datetime) -> dict:
    """``{unit code: {agreement, staff, staff_signed, staff_pending, staff_overdue,
    staff_refused}}`` for the year-end review (issue 12 review: the review happens whoever is
    still outstanding, and shows who is): ``agreement`` the unit's own agreement's status in
    Chinese (STATUS_NAMES; 未发起 when it has none), ``staff`` its staff agreements not
    withdrawn, ``staff_signed`` those confirmed (countersigned or not), the others by status."""
    campaign = session.scalar(select(AgreementCampaign).where(AgreementCampaign.school_year == school_year))
    rows = list(session.scalars(select(Agreement).where(Agreement.campaign_id == campaign.id))) if campaign else []
    state: dict[str, dict] = {}
    for row in rows:
        entry = state.setdefault(row.unit_code, {"agreement": "未发起", "staff": 0, "staff_signed": 0,
                                                 "staff_pending": 0, "staff_overdue": 0, "staff_refused": 0})
        status = display_status(row, now)
        if row.tier == 1:
            entry["agreement"] = STATUS_NAMES[status]
        elif status != "withdrawn":
            entry["staff"] += 1
            key = "signed" if status in ("signed", "awaiting_countersign") else status
            entry["staff_" + key] += 1
    return state


def years(engine) -> list[str]:
    """The school years with a campaign, latest first."""
    with engine.db.read() as session:
        return list(session.scalars(select(AgreementCampaign.school_year).order_by(AgreementCampaign.school_year.desc())))


def register(engine, principal, flt: RegisterFilter) -> dict:
    """``{school_year, campaign, counts: {status: n, total}, total, page, per_page, pages,
    items: [...]}`` of the year (the current school year by default: ``campaign`` None
    when it has none, and the page says so), scoped to the caller; each item as
    ``describe``. ``counts`` are the year's lines in the unit and tier asked for, by status
    (before the status filter: the figures beside the list); ``total`` the lines that match
    every filter, of which ``items`` is page ``page`` (every one when ``flt.page`` is None;
    ``page`` and ``pages`` are then 1). A township has a few hundred agreements a year, so
    the status (which depends on the time) is computed for all and the page cut after.
    InvalidInput (422) as ``RegisterFilter.check``, and for a ``unit`` that is not a school
    or village of the town."""
    flt.check()
    now = engine.clock()
    with engine.db.read() as session:
        if flt.unit and session.scalar(select(OrgUnit.kind).where(OrgUnit.code == flt.unit)) not in UNIT_KINDS:
            raise InvalidInput("单位不正确", errors={"unit": "没有这个学校或村（场、社区）"})
        # The current school year by default, not the newest campaign: a campaign opened for next
        # year (still in review, no agreement yet) must not hide this year's (issue 12 review M7).
        year = flt.school_year or school_year_of(now.astimezone(engine.zone).date())
        campaign = session.scalar(select(AgreementCampaign).where(AgreementCampaign.school_year == year)) if year else None
        if campaign is None:
            return {"school_year": year, "campaign": None, "counts": {"total": 0}, **_page([], flt)}
        query = select(Agreement).where(Agreement.campaign_id == campaign.id, scope_condition(principal))
        if flt.unit:
            query = query.where(Agreement.unit_code == flt.unit)
        if flt.tier:
            query = query.where(Agreement.tier == flt.tier)
        rows = list(session.scalars(query.order_by(Agreement.tier, Agreement.unit_code, Agreement.party_username)))
        names = unit_names(session, {r.unit_code for r in rows} | {r.party_unit for r in rows})
        items = [describe(row, names, now) for row in rows]
        counts = {code: 0 for code in STATUS_NAMES}
        for item in items:
            counts[item["status"]] += 1
        counts["total"] = len(items)
        if flt.status:
            items = [item for item in items if item["status"] == flt.status]
        return {"school_year": year, "campaign": _campaign(campaign), "counts": counts, **_page(items, flt)}


def _page(items: list, flt: RegisterFilter) -> dict:
    if flt.page is None:
        return {"total": len(items), "page": 1, "per_page": len(items), "pages": 1, "items": items}
    start = (flt.page - 1) * flt.per_page
    return {"total": len(items), "page": flt.page, "per_page": flt.per_page,
            "pages": max(1, -(-len(items) // flt.per_page)), "items": items[start:start + flt.per_page]}


def _campaign(campaign: AgreementCampaign) -> dict:
    return {"id": campaign.id, "school_year": campaign.school_year, "status": campaign.status,
            "instance_id": campaign.instance_id, "dropout_target": campaign.dropout_target,
            "return_target": campaign.return_target,
            "deadline": campaign.deadline.isoformat() if campaign.deadline else None}


def describe(row: Agreement, names: dict, now: datetime) -> dict:
    """One register line: ``{id, ref, tier, kind, kind_name, unit, unit_name, party, status,
    status_name, due_at, reminded_at, overdue_at, refusal_reason, settled_at, settle_note,
    signed_at, signed_by, signer_name, countersigned_at, countersigned_by, withdrawn_reason,
    assessment, assessment_name, assessment_notes, late, confirmer_name, settlement}``.
    ``refusal_reason`` / ``settle_note`` are the latest on record; ``confirmer_name`` and
    ``settlement`` say the current state: who confirmed (None until someone has: a refusal
    names the refuser, not a confirmer), and how the latest refusal was settled (待处理 while
    it is open; None when it never was: an earlier round's settlement is not this one's)."""
    def iso(value):
        return value.isoformat() if value else None
    status = display_status(row, now)
    return {"id": row.id, "ref": row.ref, "tier": row.tier, "kind": row.kind, "kind_name": KINDS[row.kind][0],
            "unit": row.unit_code, "unit_name": names.get(row.unit_code, row.unit_code),
            "party": {"role": row.party_role, "role_name": role_name(row.party_role), "org_unit": row.party_unit,
                      "org_unit_name": names.get(row.party_unit, row.party_unit), "username": row.party_username,
                      "name": row.party_name},
            "status": status, "status_name": STATUS_NAMES[status], "due_at": iso(row.due_at),
            "reminded_at": iso(row.reminded_at), "overdue_at": iso(row.overdue_at),
            "refusal_reason": row.refusal_reason, "settled_at": iso(row.settled_at), "settle_note": row.settle_note,
            "signed_at": iso(row.signed_at), "signed_by": row.signed_by,
            "signer_name": row.signer_name, "countersigned_at": iso(row.countersigned_at),
            "countersigned_by": row.countersigned_by, "withdrawn_reason": row.withdrawn_reason,
            "assessment": row.assessment, "assessment_name": ASSESSMENT_NAMES.get(row.assessment or ""),
            "assessment_notes": row.assessment_notes, "late": row.late,
            "confirmer_name": row.signer_name if row.signed_at else None, "settlement": _settlement(row, status)}


def _settlement(row: Agreement, status: str) -> str | None:
    if status == "refused":
        return "待处理"
    settled_latest = row.settled_at and (row.refused_at is None or row.settled_at >= row.refused_at)
    return row.settle_note if settled_latest else None


EXPORT_COLUMNS = (("学年", None), ("层级", "tier"), ("责任书", "kind_name"), ("单位", "unit_name"),
                  ("签订人", None), ("职务", None), ("状态", "status_name"), ("截止", "due_at"),
                  ("确认人", "confirmer_name"), ("确认时间", "signed_at"), ("会签时间", "countersigned_at"),
                  ("异议理由", "refusal_reason"), ("异议处理", "settlement"), ("撤回原因", "withdrawn_reason"),
                  ("考核", "assessment_name"))
TIME_COLUMNS = frozenset({"due_at", "signed_at", "countersigned_at"})


def export_xlsx(data: dict, zone) -> bytes:
    """The register as shown (``register``'s dict) as an .xlsx workbook, one row per agreement.
    Times (截止, 确认时间, 会签时间) are real Excel date-times in local time (``zone``, the app's
    ``BAOXUE_TIMEZONE``; issue 12 review M8), formatted ``yyyy-mm-dd hh:mm``."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"目标责任书 {data['school_year'] or ''}"[:31]
    append_text(sheet, [title for title, _ in EXPORT_COLUMNS])
    for item in data["items"]:
        party = item["party"]
        values = {"学年": data["school_year"], "签订人": party["name"] or party["username"],
                  "职务": f"{party['role_name']} {party['org_unit_name']}"}
        append_text(sheet, [values.get(title) if key is None else excel_local(item.get(key), zone)
                            if key in TIME_COLUMNS else item.get(key) for title, key in EXPORT_COLUMNS])
        for (_, key), cell in zip(EXPORT_COLUMNS, sheet[sheet.max_row]):
            if key in TIME_COLUMNS and cell.value is not None:
                cell.number_format = LOCAL_TIME_FORMAT
    for index, (_, key) in enumerate(EXPORT_COLUMNS, start=1):   # wide enough for a date-time, not ####
        if key in TIME_COLUMNS:
            sheet.column_dimensions[get_column_letter(index)].width = 17
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def visible_agreement(engine, principal, ref_or_id) -> tuple[Agreement, AgreementCampaign]:
    """The agreement (by id or ref) if the person may see it, else NotFound (no hint)."""
    with engine.db.read() as session:
        key = Agreement.id == int(ref_or_id) if str(ref_or_id).isdigit() else Agreement.ref == str(ref_or_id)
        row = session.scalar(select(Agreement).where(key, scope_condition(principal)))
        if row is None:
            raise NotFound("责任书不存在 (agreement not found)")
        campaign = session.get(AgreementCampaign, row.campaign_id)
        session.expunge_all()
        return row, campaign


def documents(engine, agreement_id: int) -> list[dict]:
    """``[{id, version, title, sha256, created_at}]`` of an agreement, oldest first."""
    with engine.db.read() as session:
        return [{"id": d.id, "version": d.version, "title": d.title, "sha256": d.sha256,
                 "created_at": d.created_at.isoformat()} for d in session.scalars(
            select(AgreementDocument).where(AgreementDocument.agreement_id == agreement_id)
            .order_by(AgreementDocument.version))]


def document(engine, principal, document_id: int) -> AgreementDocument:
    """One kept document, if the person may see its agreement; else NotFound."""
    with engine.db.read() as session:
        doc = session.get(AgreementDocument, document_id)
        if doc is None:
            raise NotFound("文书不存在 (document not found)")
        session.expunge(doc)
    visible_agreement(engine, principal, doc.agreement_id)
    return doc


def current_text(engine, principal, ref: str) -> tuple[Agreement, str]:
    """What a party reads before confirming: the latest kept document, or the text rendered
    from its template with the parties and targets."""
    row, campaign = visible_agreement(engine, principal, ref)
    kept = documents(engine, row.id)
    if kept:
        return row, document(engine, principal, kept[-1]["id"]).text
    with engine.db.read() as session:
        return row, agreement_text(session, campaign, row)
