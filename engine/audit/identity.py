"""Which database a checkpoint file belongs to.

A checkpoint file records the chain heads of one database. Read against another one (a
fresh test database, a restored copy of another town's) its heads describe unrelated
chains: the verifier would call them deleted, and a writer would append lines mixing two
records. So every line carries the database's id (``db``), and a file with a line naming
another database is refused (``ForeignCheckpointFile``) before anything is compared or
written.

The id is the first 16 hex digits of the keyed hash of link #1 of the ``checkpoints``
chain: it lives in the database, signed like every link, and a copy or a restored backup
of the same database keeps it. A database's first checkpoint opens that chain with a
``database_identified`` event carrying a random nonce (``identify``), so two databases
made at the same moment with the same key still differ. In a database that checkpointed
before ids existed, link #1 is already the record of line 1 (``checkpoint_written``).

Lines written before ids (no ``db``: legacy) stay verifiable; they belong to this database
when it recorded line 1's MAC (the ``checkpoint_written`` event of line 1).

Only what verifies is taken as a claim of another database: a line that fails its
signature under a key this deployment holds, or a link #1 that does not verify, is an
edit, which ``verify_all`` reports as such.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..persistence.models import AuditEvent, AuditStream
from .chain import CHECKPOINTS_STREAM, GENESIS, append_event, canonical_json, event_fields, link_hash
from .checkpoints import CheckpointFile
from .keys import AuditKeyring

IDENTIFIED = "database_identified"
WRITTEN = "checkpoint_written"


@dataclass(frozen=True)
class DatabaseIdentity:
    """``id``: 16 hex digits, None while the ``checkpoints`` chain is empty; ``genuine``:
    False when link #1 (or the chain under its head) was edited or deleted."""

    id: str | None
    genuine: bool = True


class ForeignCheckpointFile(ValueError):
    """The checkpoint file at ``path`` belongs to another database: line ``line`` names
    ``file_db`` (None: a line from before ids, which this database never recorded) while
    this database is ``database_id`` (None: it has recorded no checkpoint at all)."""

    def __init__(self, path: Path, line: int, file_db: str | None, database_id: str | None):
        self.path, self.line, self.file_db, self.database_id = Path(path), line, file_db, database_id
        theirs = f"database {file_db}" if file_db else "a database this one never recorded"
        ours = f"this database is {database_id}" if database_id else "this database has recorded no checkpoint"
        super().__init__(f"the checkpoint file {path} belongs to another database: line {line} is of {theirs}, "
                         f"{ours}; nothing was compared or written")


def database_identity(session: Session, keys: AuditKeyring) -> DatabaseIdentity:
    """This database's id (module docstring), read in the caller's transaction."""
    first = session.scalars(select(AuditEvent).where(AuditEvent.stream == CHECKPOINTS_STREAM)
                            .order_by(AuditEvent.seq).limit(1)).first()
    if first is None:
        head = session.get(AuditStream, CHECKPOINTS_STREAM)
        return DatabaseIdentity(None, genuine=head is None or head.seq == 0)
    digest = link_hash(keys, first.alg, first.key_id, GENESIS, CHECKPOINTS_STREAM, 1, event_fields(first), first.data)
    genuine = first.seq == 1 and first.prev_hash == GENESIS and digest == first.hash
    return DatabaseIdentity(first.hash[:16], genuine)


def identify(session: Session, now: datetime) -> None:
    """Open the ``checkpoints`` chain with a ``database_identified`` event unless it has
    begun (in the caller's transaction): from then on the database has its id."""
    if session.get(AuditStream, CHECKPOINTS_STREAM) is None:
        append_event(session, CHECKPOINTS_STREAM, IDENTIFIED, at=now, actor=None,
                     data={"nonce": secrets.token_hex(16)})


def check_binding(session: Session, file: CheckpointFile, keys: AuditKeyring) -> DatabaseIdentity:
    """Raise ``ForeignCheckpointFile`` when a line of ``file`` belongs to another database;
    return this database's identity otherwise. Nothing is checked when link #1 does not
    verify: the verification reports that edit."""
    identity = database_identity(session, keys)
    if not identity.genuine:
        return identity
    for n, line in enumerate(file.lines, 1):
        if line is None or not _signed_claim(line, keys):
            continue
        claimed = line.get("db")
        if identity.id is None:
            raise ForeignCheckpointFile(file.path, n, claimed, None)
        if claimed is None and n == 1 and line.get("mac") not in _recorded_first_lines(session):
            raise ForeignCheckpointFile(file.path, n, None, identity.id)
        if claimed is not None and claimed != identity.id:
            raise ForeignCheckpointFile(file.path, n, claimed, identity.id)
    return identity


def _signed_claim(line: dict, keys: AuditKeyring) -> bool:
    """A line's ``db`` counts when its signature verifies, or when it is signed with a key
    this deployment does not hold (another deployment's file); an edited line of ours is
    tampering, not another database."""
    key_id = line.get("key_id")
    key = keys.get(key_id) if isinstance(key_id, str) else None
    if key is None:
        return isinstance(key_id, str) and bool(key_id)     # no key id at all: garbage, not a claim
    return key.mac(canonical_json({k: v for k, v in line.items() if k != "mac"})) == line.get("mac")


def _recorded_first_lines(session: Session) -> set:
    """The MACs of every line 1 this database recorded (a file restarted under the old
    code was recorded twice)."""
    macs = set()
    query = select(AuditEvent.data).where(AuditEvent.stream == CHECKPOINTS_STREAM, AuditEvent.kind == WRITTEN)
    for data in session.scalars(query.execution_options(yield_per=1000)):
        try:
            data = json.loads(data)
        except ValueError:
            continue            # an edited event: the checkpoints chain reports it
        if isinstance(data, dict) and data.get("n") == 1 and isinstance(data.get("mac"), str):
            macs.add(data["mac"])
    return macs
