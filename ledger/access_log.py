"""The access log: who saw or changed which personal record, in a keyed chain.

Every ``AccessLog`` row is written by ``log_access`` and nothing else (DOMAIN.md "Personal
data": log who saw or changed what). Its rows form one chain, the ``access`` stream of the
engine's audit record (``engine.audit``): each row carries seq, the previous row's hash and
its own HMAC-SHA256 with the audit key, and the checkpoint file records the chain's head, so
an edited, deleted or inserted row and a log cut short are all detected
(``verify_access_log``, ``engine.audit.verify_all`` with ``ACCESS_LOG`` as a source).

Locking: the chain's head row is taken (``FOR UPDATE`` on PostgreSQL) only as the
transaction commits (``before_commit``), after every other lock it holds. So it is always
the last lock taken, in every transaction, and held for the one final flush: a case's
command, which locks its instance's head earlier, can never wait on it in the other order.

Rows written before ledger migration 0104 were chained then with the plain SHA-256 digest
(``alg`` sha256): they verify as legacy links, sealed by the first checkpoint.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from engine.audit import (AuditKeyring, ChainReport, session_keys, seal, utc_text, verify_chain)

from .models import AccessLog

ACCESS_STREAM = "access"
_PENDING = "baoxue.access_pending"


def log_access(session: Session, username: str, action: str, subject: str, detail: dict,
               now: datetime) -> AccessLog:
    """Append an ``AccessLog`` row in the caller's transaction: ``action``
    view|reveal|change|export|print, ``subject`` like ``child:12`` (cut to 64 characters),
    ``detail`` a JSON-able dict. The row is chained as the transaction commits. Raises
    RuntimeError at once for a session without the audit key (not made by ``engine.db``)."""
    session_keys(session)
    row = AccessLog(at=now, username=username, action=action, subject=subject[:64],
                    detail=json.dumps(detail, ensure_ascii=False, sort_keys=True))
    session.info.setdefault(_PENDING, []).append(row)
    return row


def access_fields(row: AccessLog) -> dict:
    return {"at": utc_text(row.at), "username": row.username, "action": row.action, "subject": row.subject}


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    rows = session.info.pop(_PENDING, None)
    if not rows:
        return
    for row in rows:
        sealed = seal(session, ACCESS_STREAM, access_fields(row), row.detail)
        row.seq, row.prev_hash, row.hash = sealed.seq, sealed.prev_hash, sealed.hash
        row.alg, row.key_id = sealed.alg, sealed.key_id
        session.add(row)
    session.flush()


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


class AccessLogSource:
    """The ``access`` chain for ``engine.audit.verify_all`` (a chain source)."""

    def chains(self, session: Session, stream: str | None = None):
        if stream not in (None, ACCESS_STREAM):
            return
        query = select(*AccessLog.__table__.columns).where(AccessLog.seq.is_not(None)).order_by(AccessLog.seq)
        rows = iter(session.execute(query.execution_options(yield_per=1000)))
        first = next(rows, None)
        if first is not None:
            yield ACCESS_STREAM, _prepend(first, rows)

    @staticmethod
    def fields(row: AccessLog) -> tuple[dict, str]:
        return access_fields(row), row.detail

    @staticmethod
    def describe(row: AccessLog) -> str:
        return f"#{row.seq} ({row.action} {row.subject} by {row.username})"

    @staticmethod
    def checks(session: Session) -> list[ChainReport]:
        """Rows outside the chain (no seq): only a direct insert makes them."""
        report = ChainReport("access (rows outside the chain)")
        for row_id, at, username, subject in session.execute(
                select(AccessLog.id, AccessLog.at, AccessLog.username, AccessLog.subject)
                .where(AccessLog.seq.is_(None)).order_by(AccessLog.id)):
            report.count += 1
            report.fail(0, f"access-log row id {row_id} ({username}, {subject}, {utc_text(at)}) is outside "
                           "the chain: it was inserted directly into the database")
        return [report]


def _prepend(first, rest):
    yield first
    yield from rest


ACCESS_LOG = AccessLogSource()


def verify_access_log(session: Session, keys: AuditKeyring | None = None) -> ChainReport:
    """Check the access log's chain alone (edited, deleted, inserted rows; the head). A log
    cut short together with its head needs the checkpoint: ``ledger.audit_record``."""
    report = verify_chain(session, ACCESS_STREAM, keys, ACCESS_LOG)
    for check in ACCESS_LOG.checks(session):
        for problem in check.problems:
            report.fail(0, problem)
    return report
