"""Confirmed versions of a case's documents (``ledger.document_versions``).

``document_version`` holds one row per confirmation of a document: the principal's
confirmation of the 辍学情况报告单 freezes what the report said at that moment (``data``,
JSON: the dict ``ledger.documents`` renders). Rows are only ever added: a report filed
again after a send-back or in a reopened case is confirmed as the next ``version``, and no
confirmed version is ever changed (issue 17: later steps see the version that was confirmed).
A home-teaching case keeps its approved plans the same way (``ledger.ht_documents``), with
the SHA-256 of ``data`` here and on the case's audit chain.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.models import UtcDateTime

from .models import LedgerBase


class DocumentVersion(LedgerBase):
    __tablename__ = "document_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(Integer, index=True)     # the persuasion case
    kind: Mapped[str] = mapped_column(String(32))                     # ledger.documents.KINDS
    version: Mapped[int] = mapped_column(Integer)                     # 1, 2, … per (case, kind)
    confirmed_seq: Mapped[int] = mapped_column(Integer)               # audit seq of the confirming step
    confirmed_by: Mapped[str | None] = mapped_column(String(120))
    confirmed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    data: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))           # of ``data``; null before 0117
    __table_args__ = (UniqueConstraint("instance_id", "kind", "version"),
                      UniqueConstraint("instance_id", "kind", "confirmed_seq"))
