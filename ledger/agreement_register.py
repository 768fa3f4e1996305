"""The register of responsibility agreements, written from what the processes say (issue 12).

Every step of the agreement processes throws ``agreement_event {agreement_ref, event, ...}``
(no process catches it: the engine keeps it in its outbox, in the step's transaction).
``apply_agreement_events`` applies each such message once (``agreement_event.message_id`` is
unique), oldest first: it writes the register row (``ledger.agreement_models.Agreement``),
and at each confirmation stores the signed document (the full text with the parties, the
targets and each party's confirmation with its time) as a new version, never changed, and
appends its SHA-256 to the instance's audit chain (``agreement_document_stored``).

A reminder ("reminded", naming the signing task's element) also marks that open task 已催办
(``ledger.task_marks``), so the signer sees it in the inbox. Who confirmed is the actor of the
step that threw the message: the engine audits each
thrown message (``message_sent``) in the same transaction and order as the message rows, so
the n-th ``agreement_event`` message of an instance is its n-th ``message_sent`` of that name.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from engine.audit import append_event, instance_stream
from engine.persistence.models import AuditEvent, HumanTask, Message

from .agreement_models import Agreement, AgreementCampaign, AgreementDocument, AgreementEvent
from .message_apply import apply_pending, pending_older_than
from .agreement_texts import KINDS, render_text, sha256, signed_text
from .models import OrgUnit, User
from .signatures import display_name
from .task_marks import mark_task

log = logging.getLogger(__name__)
EVENT = "agreement_event"


def apply_agreement_events(engine, limit: int = 1000) -> int:
    """Apply the ``agreement_event`` messages not applied yet; returns how many. Safe in
    several processes at once (one applied elsewhere meanwhile is skipped)."""
    return apply_pending(engine, EVENT, AgreementEvent,
                         lambda eng, session, message_id: _apply(eng, session, session.get(Message, message_id)) or 1,
                         limit)


def unapplied(session, older_than: timedelta) -> list[Message]:
    """``agreement_event`` messages not applied ``older_than`` after they were thrown, for
    ``baoxue check``: the register is behind its processes."""
    return pending_older_than(session, EVENT, AgreementEvent, older_than)


def _apply(engine, session, message: Message) -> None:
    payload = json.loads(message.payload)
    ref, event = str(payload.get("agreement_ref") or ""), str(payload.get("event") or "")
    instance_id = int(message.sender.split(":", 1)[1]) if (message.sender or "").startswith("instance:") else 0
    actor, at = _actor(session, message, instance_id), message.received_at
    campaign = session.scalar(select(AgreementCampaign).where(AgreementCampaign.school_year == ref.split("/")[0]))
    row = session.scalar(select(Agreement).where(Agreement.ref == ref))
    record = AgreementEvent(message_id=message.id, instance_id=instance_id, event=event, actor=actor, at=at,
                            detail=json.dumps(payload, ensure_ascii=False, sort_keys=True))
    if campaign is None:
        log.warning("agreement event %s for %s: no campaign for that year", event, ref)
    elif event in ("launched", "all_signed", "closed"):
        _campaign_event(campaign, event, payload)
    elif event == "opened":
        row = row or Agreement(campaign_id=campaign.id, ref=ref)
        _open(row, payload, at)
        session.add(row)
    elif row is None:
        log.warning("agreement event %s for %s: no such agreement", event, ref)
    else:
        _row_event(engine, session, campaign, row, event, payload, actor, at, instance_id)
    session.flush()
    record.agreement_id = row.id if row is not None else None
    session.add(record)


def _actor(session, message: Message, instance_id: int) -> str | None:
    if not instance_id:
        return None
    ids = list(session.scalars(select(Message.id).where(
        Message.name == EVENT, Message.sender == message.sender).order_by(Message.id)))
    sent = [row for row in session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == instance_id, AuditEvent.kind == "message_sent").order_by(AuditEvent.seq))
        if json.loads(row.data or "{}").get("name") == EVENT]
    position = ids.index(message.id)
    return sent[position].actor if position < len(sent) else None


def _campaign_event(campaign: AgreementCampaign, event: str, payload: dict) -> None:
    if event == "launched":
        campaign.status = "signing"
        campaign.dropout_target = float(payload.get("dropout_target", campaign.dropout_target or 0))
        campaign.return_target = float(payload.get("return_target", campaign.return_target or 100))
        if payload.get("deadline"):
            campaign.deadline = datetime.fromisoformat(str(payload["deadline"])[:10]).date()
    elif event == "all_signed":
        # The year-end review runs beside the signing: a campaign already closed stays closed.
        if campaign.status != "closed":
            campaign.status = "signed"
    else:
        campaign.status = "closed"


def _open(row: Agreement, payload: dict, at: datetime) -> None:
    row.tier, row.kind, row.unit_code = int(payload["tier"]), str(payload["kind"]), str(payload["unit"])
    row.party_role, row.party_unit = str(payload["party_role"]), str(payload["party_unit"])
    row.party_username, row.party_name = payload.get("party_username"), payload.get("party_name")
    row.late, row.status, row.opened_at = bool(payload.get("late")), "pending", at
    row.due_at = datetime.fromisoformat(payload["due_at"]) if payload.get("due_at") else None


def _row_event(engine, session, campaign, row: Agreement, event: str, payload: dict, actor, at, instance_id) -> None:
    if event == "reminded":
        row.reminded_at = at
        _mark_signing_task(engine, session, instance_id, payload.get("task"), row.ref, at)
    elif event == "overdue":
        row.overdue_at = at
    elif event == "refused":
        row.status, row.refused_at, row.refusal_reason = "refused", at, payload.get("reason")
        row.signer_name = _name(session, actor, payload.get("signer_name"))
    elif event == "settled":
        row.status, row.settled_at, row.settled_by, row.settle_note = "pending", at, actor, payload.get("note")
    elif event == "signed":
        row.status, row.signed_at, row.signed_by = "signed", at, actor
        row.signer_name = _name(session, actor, payload.get("signer_name"))
        store_document(engine, session, campaign, row, instance_id, actor, at)
    elif event == "countersigned":
        row.countersigned_at, row.countersigned_by = at, actor
        row.countersigner_name = _name(session, actor, payload.get("countersigner_name"))
        store_document(engine, session, campaign, row, instance_id, actor, at)
    elif event == "returned":
        # The unit's head returned the person's confirmation instead of countersigning: the
        # person confirms again. The objection is kept as the latest one on record, marked as
        # the countersigner's; the kept document of the returned confirmation stays.
        row.status, row.signed_at, row.signed_by, row.signer_name = "pending", None, None, None
        row.refused_at, row.refusal_reason = at, f"会签退回：{payload.get('reason') or ''}"
    elif event == "withdrawn":
        row.status, row.withdrawn_at, row.withdrawn_reason = "withdrawn", at, payload.get("reason")
    elif event == "assessed":
        row.assessment, row.assessment_notes = payload.get("result"), payload.get("notes")
        row.assessed_by, row.assessed_at = actor, at
    else:
        log.warning("agreement event %r for %s is not known", event, row.ref)


def _name(session, actor, typed) -> str | None:
    """Who confirmed, as the document prints it: the confirming account's own display name
    (issue 12: never a name typed at will; ``ledger.signatures`` refuses another at the
    completion); the typed name only when the step had no account (a script, the demo's seed)."""
    return display_name(session, actor) or typed


def _mark_signing_task(engine, session, instance_id: int, element_id, ref: str, at) -> None:
    """Mark the agreement's open signing task (``element_id``) reminded. Several signings of
    one campaign share its instance and element (a multi-instance), so the task is the one
    whose data names ``ref``; none when it was completed before this event was applied."""
    if not (instance_id and element_id):
        return
    open_ids = list(session.scalars(select(HumanTask.id).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == str(element_id), HumanTask.status == "open")))
    if not open_ids:
        return
    workflow = engine.runtime.workflow(instance_id)
    for task_id in open_ids:
        try:
            task = workflow.get_task_from_id(UUID(task_id))
        except Exception:  # noqa: BLE001 - done and compacted since the index was read
            continue
        if task.data.get("agreement_ref") == ref:
            mark_task(session, task_id, "reminded", at)


# --- documents ----------------------------------------------------------------------------
def agreement_text(session, campaign: AgreementCampaign, row: Agreement) -> str:
    """The agreement's text (no confirmations) from its kind's template."""
    names = {unit.code: unit.name for unit in session.scalars(select(OrgUnit))}
    town = next((unit.name for unit in session.scalars(select(OrgUnit).where(OrgUnit.kind == "town"))), "")
    if row.tier == 1:
        party_a, party_b = f"{town}人民政府", names.get(row.unit_code, row.unit_code)
    else:
        party_a, party_b = names.get(row.unit_code, row.unit_code), row.party_name or row.party_username
    return render_text(row.kind, {"town_name": town, "school_year": campaign.school_year, "party_a": party_a,
                                  "party_b": party_b, "dropout_target": campaign.dropout_target or 0.0,
                                  "return_target": campaign.return_target if campaign.return_target is not None else 100.0})


def confirmations(session, row: Agreement, zone) -> list[tuple[str, str]]:
    """Each party's confirmation as printed on the document (name, account, local time)."""
    def when(moment):
        return moment.astimezone(zone).strftime("%Y年%m月%d日 %H:%M")
    people = {user.username: user.display_name for user in session.scalars(
        select(User).where(User.username.in_([u for u in (row.signed_by, row.countersigned_by) if u])))}
    lines = []
    if row.signed_at:
        who = row.signer_name or people.get(row.signed_by, row.signed_by)
        lines.append(("乙方", f"{who}（账号 {row.signed_by or '—'}）于 {when(row.signed_at)} 确认“本人已阅读并接受本责任书”"))
    if row.countersigned_at:
        who = row.countersigner_name or people.get(row.countersigned_by, row.countersigned_by)
        lines.append(("甲方", f"{who}（账号 {row.countersigned_by or '—'}）于 {when(row.countersigned_at)} 代表甲方会签确认"))
    if not row.countersigned_at:   # tier 1 the town's leader, tier 2 the unit's head (issue 12 review M11)
        lines.append(("甲方", "待会签"))
    return lines


def store_document(engine, session, campaign, row: Agreement, instance_id: int, actor, at) -> AgreementDocument:
    """Keep the document as it reads now as the agreement's next version and write its
    SHA-256 to the instance's audit chain, in the caller's transaction."""
    session.flush()
    text = signed_text(agreement_text(session, campaign, row), confirmations(session, row, engine.zone))
    version = len(list(session.scalars(select(AgreementDocument.id).where(AgreementDocument.agreement_id == row.id)))) + 1
    document = AgreementDocument(agreement_id=row.id, version=version, title=KINDS[row.kind][0], text=text,
                                 sha256=sha256(text), created_at=at)
    session.add(document)
    session.flush()
    if instance_id:
        append_event(session, instance_stream(instance_id), "agreement_document_stored", at=at, actor=actor,
                     instance_id=instance_id,
                     data={"agreement_ref": row.ref, "document_id": document.id, "version": version,
                           "sha256": document.sha256})
    return document
