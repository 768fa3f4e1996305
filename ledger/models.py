"""The domain's tables: org units, users and their roles, the child register, sessions.

Org units form a tree (town → schools → grades → classes; town → villages). A user holds
(role, org unit) pairs; a task's candidates are resolved against these at query time.
Children carry sensitive personal information of minors (DOMAIN.md "Personal data"):
read them through ``ledger.children`` which masks by default.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from engine.persistence.models import UtcDateTime


class LedgerBase(DeclarativeBase):
    pass


class OrgUnit(LedgerBase):
    __tablename__ = "org_unit"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))  # town|school|grade|class|village
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("org_unit.code"), index=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class User(LedgerBase):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RoleAssignment(LedgerBase):
    __tablename__ = "role_assignment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(64))
    org_unit_code: Mapped[str] = mapped_column(ForeignKey("org_unit.code"))
    __table_args__ = (UniqueConstraint("user_id", "role", "org_unit_code"),)


class Child(LedgerBase):
    """A child of compulsory-education age (6-15) living in or schooled by the town."""

    __tablename__ = "child"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    gender: Mapped[str] = mapped_column(String(8))             # 男 | 女
    birth_date: Mapped[date] = mapped_column(Date)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    school_code: Mapped[str | None] = mapped_column(ForeignKey("org_unit.code"), index=True)
    class_code: Mapped[str | None] = mapped_column(ForeignKey("org_unit.code"), index=True)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("org_unit.code"), index=True)
    guardian_name: Mapped[str | None] = mapped_column(String(64))
    guardian_relation: Mapped[str | None] = mapped_column(String(16))
    guardian_phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(255))
    registry_no: Mapped[str | None] = mapped_column(String(32))     # 学籍号 (masked like an ID: "G" + ID number)
    hukou_place: Mapped[str | None] = mapped_column(String(255))    # 户籍地
    special_groups: Mapped[str] = mapped_column(Text, default="")   # comma list of flags
    enrolment_status: Mapped[str] = mapped_column(String(32), default="enrolled")   # ledger.case_outcomes.STATUSES
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The rest of the register's fields (DOMAIN-REFERENCE §3.1; migration 0120). Codes and
    # labels: ledger.register_fields; every change through ledger.register.change_child.
    ethnicity: Mapped[str | None] = mapped_column(String(16))                 # 民族
    study_place: Mapped[str | None] = mapped_column(String(16))               # 就读地
    village_group: Mapped[str | None] = mapped_column(String(64))             # 村民小组/网格
    household_no: Mapped[str | None] = mapped_column(String(32))              # 户编号
    hukou_type: Mapped[str | None] = mapped_column(String(16))                # 户口性质
    guardian2_name: Mapped[str | None] = mapped_column(String(64))
    guardian2_relation: Mapped[str | None] = mapped_column(String(16))
    guardian2_phone: Mapped[str | None] = mapped_column(String(32))
    parents_work: Mapped[str | None] = mapped_column(String(8))               # 父母务工情况 → 留守
    carer: Mapped[str | None] = mapped_column(String(64))                     # 实际照护人
    disability_type: Mapped[str | None] = mapped_column(String(16))
    disability_grade: Mapped[str | None] = mapped_column(String(4))
    disability_certificate: Mapped[str | None] = mapped_column(String(24))
    risk_level: Mapped[str | None] = mapped_column(String(8), index=True)     # 辍学风险等级
    risk_factors: Mapped[str] = mapped_column(Text, default="")               # comma list
    verify_method: Mapped[str | None] = mapped_column(String(16))             # 核查方式
    verified_by: Mapped[str | None] = mapped_column(String(64))               # 核查人
    verified_on: Mapped[date | None] = mapped_column(Date)                    # 核查日期
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)          # 更新时间


class ChildChange(LedgerBase):
    """One field of one child changed: who, when, old → new (stored text, unmasked: shown
    masked by ``ledger.register_fields.shown``), why, and the case that caused it if any.
    Written by ``ledger.register`` only (a person's change, or a case's status event)."""

    __tablename__ = "child_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(120))        # username, or "system"
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (Index("ix_child_change_child", "child_id", "id"),)


class WebSession(LedgerBase):
    """Server-side web session; the cookie holds only a random id (its hash is stored)."""

    __tablename__ = "web_session"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(LedgerBase):
    """Bearer token for API clients (stored hashed; expiring; revocable)."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AccessLog(LedgerBase):
    """Who saw or changed which personal record, when and why (DOMAIN.md "Personal data").
    Append-only, chained: write it with ``ledger.access_log.log_access`` only."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    username: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))         # view|reveal|change|export|print
    subject: Mapped[str] = mapped_column(String(64))        # e.g. child:12
    detail: Mapped[str] = mapped_column(Text, default="")
    # The keyed chain (ledger/access_log.py; migration 0104): written only by log_access.
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    alg: Mapped[str | None] = mapped_column(String(16))
    key_id: Mapped[str | None] = mapped_column(String(16))
