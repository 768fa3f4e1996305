"""The audit record: keyed hash chains, checkpoints outside the database, verification.

- ``keys``: the audit key (never in the database) and its key id.
- ``chain``: writing a link (``append_event``, ``seal``) and checking one chain.
- ``checkpoints``: the signed, append-only checkpoint file of every chain head.
- ``identity``: the database a checkpoint file belongs to (``ForeignCheckpointFile``).
- ``verify``: ``verify_all`` (everything, against the last checkpoint) and
  ``write_checkpoint``.
"""
from .chain import (CHECKPOINTS_STREAM, DEFINITIONS_STREAM, EVENTS, GENESIS, KEYS_INFO, ChainReport,
                    EventSource, Seal, append_event, canonical_json, instance_stream, link_hash, seal,
                    session_keys, utc_text, verify_chain, verify_links)
from .checkpoints import CheckpointFile, read_checkpoints
from .identity import DatabaseIdentity, ForeignCheckpointFile, database_identity
from .keys import KEYED, LEGACY, AuditKey, AuditKeyring, as_keyring
from .verify import AuditReport, CheckpointResult, verify_all, write_checkpoint

__all__ = [
    "AuditKey", "AuditKeyring", "AuditReport", "CHECKPOINTS_STREAM", "ChainReport", "CheckpointFile",
    "CheckpointResult", "DEFINITIONS_STREAM", "DatabaseIdentity", "EVENTS", "EventSource",
    "ForeignCheckpointFile", "GENESIS", "KEYED", "KEYS_INFO", "LEGACY", "Seal", "append_event", "as_keyring",
    "canonical_json", "database_identity", "instance_stream", "link_hash", "read_checkpoints", "seal",
    "session_keys", "utc_text", "verify_all", "verify_chain", "verify_links", "write_checkpoint",
]
