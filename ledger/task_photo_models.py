"""Photos sent with a task's completion (``ledger.task_photos``; migration 0117).

One row per photo: the bytes as uploaded (JPEG or PNG, checked by content), their SHA-256,
and the task and form field they belong to. The workflow's data keeps only the hashes
(``visit_photos: [sha256, ...]``), so a case's state never carries image bytes. Rows are
only ever added; ``(task_id, field, sha256)`` is unique (the same picture twice is one).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.models import UtcDateTime

from .models import LedgerBase


class TaskPhoto(LedgerBase):
    __tablename__ = "task_photo"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(Integer, index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(64))          # the form field (``x-photos``)
    position: Mapped[int] = mapped_column(Integer)           # 1, 2, ... in the order sent
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(32))      # image/jpeg | image/png, from the content
    size: Mapped[int] = mapped_column(Integer)               # bytes
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    stored_by: Mapped[str | None] = mapped_column(String(120))
    stored_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("task_id", "field", "sha256"),)
