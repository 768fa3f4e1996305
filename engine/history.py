"""History service: the audit timeline of an instance and its chain verification."""
from __future__ import annotations

from sqlalchemy import select

from .audit import ChainReport, DEFINITIONS_STREAM, instance_stream, verify_chain
from .persistence.models import AuditEvent


class HistoryService:
    def __init__(self, engine):
        self.engine = engine

    def events(self, instance_id: int) -> list[AuditEvent]:
        with self.engine.db.read() as session:
            return list(session.scalars(select(AuditEvent).where(
                AuditEvent.stream == instance_stream(instance_id)).order_by(AuditEvent.seq)))

    def verify_chain(self, instance_id: int | None) -> ChainReport:
        """Check an instance's chain (or, with None, the definitions chain)."""
        stream = DEFINITIONS_STREAM if instance_id is None else instance_stream(instance_id)
        with self.engine.db.read() as session:
            return verify_chain(session, stream)
