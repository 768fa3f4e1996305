"""History service: the audit timeline of an instance and its chain verification."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from sqlalchemy import select

from .audit import (AuditReport, ChainReport, DEFINITIONS_STREAM, instance_stream, verify_all,
                    verify_chain)
from .audit.verify import task_completions
from .persistence.models import AuditEvent


class HistoryService:
    def __init__(self, engine):
        self.engine = engine

    def events(self, instance_id: int) -> list[AuditEvent]:
        with self.engine.db.read() as session:
            return list(session.scalars(select(AuditEvent).where(
                AuditEvent.stream == instance_stream(instance_id)).order_by(AuditEvent.seq)))

    def verify_chain(self, instance_id: int | None) -> ChainReport:
        """Check an instance's chain and its task rows' completion facts (or, with None, the
        definitions chain). A head rolled back with the newest links needs the checkpoint
        file to be seen: ``verify_all``."""
        stream = DEFINITIONS_STREAM if instance_id is None else instance_stream(instance_id)
        with self.engine.db.read(snapshot=True) as session:
            report = verify_chain(session, stream)
            if instance_id is not None:
                for problem in task_completions(session, instance_id).problems:
                    report.fail(0, problem, "task_row")
            return report

    def verify_all(self, checkpoint: Path | str | None = None, sources: Sequence = ()) -> AuditReport:
        """``engine.audit.verify_all`` in a read transaction of this engine."""
        with self.engine.db.read(snapshot=True) as session:
            return verify_all(session, self.engine.audit_keys, checkpoint, sources)
