"""Attendance tables: the daily report per child, and each school's own calendar days.

``attendance_record`` holds one row per child and school day; a later report for the same
child and day replaces the earlier one (CONTRACT.md: re-sending a day is idempotent, the
last report wins). ``school_calendar_day`` holds a unit's exceptions to the statutory
working days (DOMAIN-REFERENCE §6: term breaks, closures, extra school days); see
``ledger.school_calendar``.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.models import UtcDateTime

from .models import LedgerBase

PRESENT, EXCUSED, UNEXCUSED = "present", "absent_excused", "absent_unexcused"
STATUSES = (PRESENT, EXCUSED, UNEXCUSED)   # CONTRACT.md POST /attendance


class AttendanceRecord(LedgerBase):
    """One child's attendance on one school day (``status`` ∈ STATUSES)."""

    __tablename__ = "attendance_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    # The child's school and class when reported (a later transfer does not rewrite history).
    school_code: Mapped[str] = mapped_column(ForeignKey("org_unit.code"))
    class_code: Mapped[str | None] = mapped_column(ForeignKey("org_unit.code"))
    status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(200))
    reported_by: Mapped[str] = mapped_column(String(120))
    reported_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("child_id", "date", name="uq_attendance_child_date"),
        Index("ix_attendance_school_date", "school_code", "date"),
    )


class SchoolCalendarDay(LedgerBase):
    """A unit's own day: ``is_school_day`` False = no school (term break, closure), True =
    school although not a statutory working day (an extra day). Set on a school, or on the
    town for every school (a typhoon closure); the school's own row wins."""

    __tablename__ = "school_calendar_day"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_unit_code: Mapped[str] = mapped_column(ForeignKey("org_unit.code"))
    date: Mapped[dt.date] = mapped_column(Date)
    is_school_day: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    __table_args__ = (UniqueConstraint("org_unit_code", "date", name="uq_school_calendar_unit_date"),)


class CaseHandoff(LedgerBase):
    """The attendance outbox: one event a report hands to a child's persuasion case, written
    in the report's transaction and applied once after it (``ledger.case_handoff``).

    ``kind`` absence: ``count`` consecutive unexcused school days end at ``day``, the run
    began on ``first_day``; returned: back at school on ``day`` (``corrected``: this day was
    unexcused before); excused: an excused day of a child with an open case (it pauses the case). ``status`` pending → done; ``result`` says what it did (JSON)."""

    __tablename__ = "case_handoff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    kind: Mapped[str] = mapped_column(String(16))
    day: Mapped[dt.date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer, default=0)
    recent: Mapped[int] = mapped_column(Integer, default=0)          # unexcused days in the intermittent window
    first_day: Mapped[dt.date | None] = mapped_column(Date)
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_by: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))                  # pending | done
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_case_handoff_status", "status", "id"),
                      Index("ix_case_handoff_child", "child_id", "status"))
