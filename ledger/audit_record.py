"""Baoxue's whole audit record: the engine's chains plus the access log, and checkpoints.

The one place that knows every chain: ``verify_record`` for ``baoxue audit verify`` and
``baoxue check``, ``write_record_checkpoint`` for the worker and ``baoxue audit
checkpoint``. The checkpoint file's path comes from the caller (``BAOXUE_AUDIT_CHECKPOINT_FILE``,
api/settings.py). What the checks are: ``engine.audit.verify``.
"""
from __future__ import annotations

from pathlib import Path

from engine.audit import AuditReport, CheckpointResult, write_checkpoint

from .access_log import ACCESS_LOG

SOURCES = (ACCESS_LOG,)


def verify_record(engine, checkpoint_path: Path | str | None) -> AuditReport:
    """Verify every chain (instances, definitions, checkpoints, access log), the task rows'
    completion facts and, unless ``checkpoint_path`` is None, the checkpoint file and every
    chain against its last line. Read-only; problems are in the report (``ok``, ``bad``)."""
    return engine.history.verify_all(checkpoint_path, SOURCES)


def write_record_checkpoint(engine, checkpoint_path: Path | str) -> CheckpointResult:
    """Verify as ``verify_record`` does, then append a checkpoint of every chain head to the
    file and record it in the database (``engine.audit.write_checkpoint``)."""
    return write_checkpoint(engine.db, checkpoint_path, engine.clock(), SOURCES)
