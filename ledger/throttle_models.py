"""Sign-in throttle tables (``ledger.login_throttle``): failed tries and trusted places.

``login_failure`` holds one row per counted sign-in try of the last day (older rows are
pruned); ``login_trust`` one row per (username, address) and (username, device) that signed
in successfully. Usernames are case-folded; devices are stored as SHA-256 hashes of the
device cookie, never the cookie itself.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.models import UtcDateTime

from .models import LedgerBase


class LoginFailure(LedgerBase):
    """A sign-in try that failed (or is being checked right now)."""

    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    username: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(64))       # hash, only for a trusted device
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)  # from a trusted device or address
    __table_args__ = (Index("ix_login_failure_username_at", "username", "at"),
                      Index("ix_login_failure_address_at", "address", "at"))


class LoginTrust(LedgerBase):
    """A place a user signed in from: ``kind`` address (``value`` the IP) or device (its hash)."""

    __tablename__ = "login_trust"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(64))
    last_success_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("username", "kind", "value", name="uq_login_trust"),)
