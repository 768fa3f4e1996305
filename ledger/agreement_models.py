"""The register of responsibility agreements (目标责任书, issue 12; DOMAIN.md "Responsibility agreements").

* ``agreement_campaign``: one per school year (``school_year`` is unique: a second campaign
  for a year is refused), the instance that runs it, its targets and deadline.
* ``agreement``: one per party and year (``ref`` is unique): tier 1 the town with a school
  or village (``ref`` ``2025-2026/zx``), tier 2 a unit with one head teacher or grid worker
  (``2025-2026/zx/ht31``). Written only from what the process said
  (``ledger.agreements.apply_agreement_events``): opened, reminded, overdue, refused, settled,
  signed, countersigned, returned (the unit's head sent a confirmation back), withdrawn, assessed.
* ``agreement_event``: each ``agreement_event`` message applied, once (``message_id`` is
  unique), with who caused it: the agreement's history.
* ``agreement_document``: the signed text, kept as generated at each confirmation
  (``version`` 1, 2, ...), never changed; its SHA-256 is in the instance's audit chain.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.models import UtcDateTime

from .models import LedgerBase


class AgreementCampaign(LedgerBase):
    __tablename__ = "agreement_campaign"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_year: Mapped[str] = mapped_column(String(9), unique=True)      # "2025-2026"
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16))                        # review | signing | closed
    dropout_target: Mapped[float | None] = mapped_column(Float)            # per cent, 0
    return_target: Mapped[float | None] = mapped_column(Float)             # per cent, 100
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    started_by: Mapped[str | None] = mapped_column(String(120))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Agreement(LedgerBase):
    __tablename__ = "agreement"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("agreement_campaign.id"), index=True)
    ref: Mapped[str] = mapped_column(String(200), unique=True)
    tier: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))           # ledger.agreement_texts.KINDS
    unit_code: Mapped[str] = mapped_column(String(64), index=True)
    party_role: Mapped[str] = mapped_column(String(64))
    party_unit: Mapped[str] = mapped_column(String(64))
    party_username: Mapped[str | None] = mapped_column(String(120))
    party_name: Mapped[str | None] = mapped_column(String(120))
    late: Mapped[bool] = mapped_column(Boolean, default=False)   # picked up by the daily check
    status: Mapped[str] = mapped_column(String(16))         # pending | refused | signed | withdrawn
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    refused_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)    # the last refusal settled
    settled_by: Mapped[str | None] = mapped_column(String(120))
    settle_note: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    signed_by: Mapped[str | None] = mapped_column(String(120))
    signer_name: Mapped[str | None] = mapped_column(String(120))
    countersigned_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    countersigned_by: Mapped[str | None] = mapped_column(String(120))
    countersigner_name: Mapped[str | None] = mapped_column(String(120))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    assessment: Mapped[str | None] = mapped_column(String(16))      # met | not_met (达标 / 未达标)
    assessment_notes: Mapped[str | None] = mapped_column(Text)
    assessed_by: Mapped[str | None] = mapped_column(String(120))
    assessed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class AgreementEvent(LedgerBase):
    __tablename__ = "agreement_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(Integer, unique=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreement.id"), index=True)
    instance_id: Mapped[int] = mapped_column(Integer, index=True)
    event: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    detail: Mapped[str] = mapped_column(Text, default="{}")


class AgreementDocument(LedgerBase):
    __tablename__ = "agreement_document"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("agreement_id", "version"),)
