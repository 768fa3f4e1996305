"""The checkpoint file: signed records of every chain head, kept outside the database.

A chain in the database can be cut short together with its head row, or deleted whole,
and nothing inside the database remembers. The checkpoint file does: an append-only JSON
Lines file (``BAOXUE_AUDIT_CHECKPOINT_FILE``, default ``var/audit-checkpoints.jsonl``),
one line per checkpoint::

    {"n": 7, "at": "2026-11-30T02:10:00+00:00", "prev": "<mac of line 6>", "key_id": "...",
     "db": "<database id>", "heads": {"instance:12": [9, "<hash of link #9>", 0], ...},
     "streams": 812, "state": "<sha256 of all heads>", "problems": 0, "mac": "<hmac>"}

(``heads`` values: [seq, hash, legacy links]; ``problems`` is always 0 since a record that
does not verify is never checkpointed, lines of older versions may count some.)

``heads`` lists the streams whose recorded head changed since the line before (the whole
record is every line's ``heads`` applied in order; ``state`` is the SHA-256 of that whole
record, so a reader can check it rebuilt the same thing). ``mac`` is HMAC-SHA256 with the
audit key over the line without ``mac``; ``prev`` chains the lines, so an edited, removed
or reordered line is seen. ``db`` names the database the line belongs to (``identity.py``;
lines written before it have none and stay verifiable). Each checkpoint is also recorded in the database (the
``checkpoints`` chain: line number and MAC), so cutting the file short is seen too.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from .chain import GENESIS, ChainReport, canonical_json, utc_text
from .keys import AuditKeyring


@dataclass
class CheckpointFile:
    """A checkpoint file as read: its lines (parsed; None where unparseable), the record
    they add up to (``state``: stream -> [seq, hash, legacy]) and what is wrong with it."""

    path: Path
    exists: bool = False
    lines: list[dict | None] = field(default_factory=list)
    state: dict[str, list] = field(default_factory=dict)
    report: ChainReport = None
    torn: bool = False      # the last line has no newline (cut off by a crash, or edited)

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def last(self) -> dict | None:
        return next((line for line in reversed(self.lines) if line is not None), None)

    def line(self, n: int) -> dict | None:
        return self.lines[n - 1] if 1 <= n <= len(self.lines) else None


def state_digest(state: dict) -> str:
    return hashlib.sha256(canonical_json(state).encode()).hexdigest()


def parse_checkpoints(path: Path, text: str | None, keys: AuditKeyring) -> CheckpointFile:
    """Check every line's number, link to the line before and signature; rebuild the
    record. ``text`` None: the file does not exist."""
    file = CheckpointFile(Path(path), exists=text is not None,
                          report=ChainReport(f"checkpoint file {path}"))
    prev = GENESIS
    file.torn = bool(text) and not text.endswith("\n")
    for n, raw in enumerate((text or "").splitlines(), 1):
        try:
            line = json.loads(raw)
            if not isinstance(line, dict) or not isinstance(line.get("heads"), dict):
                raise ValueError
        except ValueError:
            file.lines.append(None)
            file.report.fail(n, f"line {n}: not a checkpoint record (cut off or edited)")
            continue
        file.lines.append(line)
        body = {k: v for k, v in line.items() if k != "mac"}
        key = keys.get(line.get("key_id"))
        if line.get("n") != n:
            file.report.fail(n, f"line {n}: numbered {line.get('n')} (lines removed or moved)")
        if line.get("prev") != prev:
            file.report.fail(n, f"line {n}: does not link to the line before it (a line removed, moved or edited)")
        if key is None:
            file.report.fail(n, f"line {n}: signed with an unknown key ({line.get('key_id')})")
        elif key.mac(canonical_json(body)) != line.get("mac"):
            file.report.fail(n, f"line {n}: its signature does not verify (edited, or written without the key)")
        malformed = [stream for stream, value in line["heads"].items() if not _head_entry(value)]
        if malformed:
            file.report.fail(n, f"line {n}: heads not of the form [seq, hash, legacy] ({', '.join(malformed[:3])})")
        file.state.update((s, v) for s, v in line["heads"].items() if _head_entry(v))
        if line.get("state") != state_digest(file.state):
            file.report.fail(n, f"line {n}: the heads do not add up to the record it signed")
        prev = line.get("mac")
    return file


def _head_entry(value) -> bool:
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], int)
            and isinstance(value[1], str) and isinstance(value[2], int))


@contextmanager
def read_checkpoints(path: Path, keys: AuditKeyring) -> Iterator[CheckpointFile]:
    """Read and check the file at ``path``, holding a shared lock for the block (a writer
    holds it exclusive from reading the file until the database has its line)."""
    try:
        handle = open(path, encoding="utf-8", errors="replace")   # garbage is reported, not raised
    except FileNotFoundError:
        yield parse_checkpoints(path, None, keys)
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        yield parse_checkpoints(path, handle.read(), keys)


@contextmanager
def locked_for_append(path: Path, keys: AuditKeyring) -> Iterator[tuple[CheckpointFile, "object"]]:
    """Open ``path`` for appending (created 0640 if missing), hold an exclusive ``flock``
    for the block (several workers may checkpoint at once) and yield (the file as read,
    its handle). Works on a file with the append-only attribute (``chattr +a``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
    with os.fdopen(fd, "a+", encoding="utf-8", errors="replace") as handle:
        fcntl.flock(fd, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        yield parse_checkpoints(path, text, keys), handle


def make_line(file: CheckpointFile, state: dict, now: datetime, keys: AuditKeyring, database_id: str) -> dict:
    """The next line for ``file`` recording ``state`` (stream -> [seq, hash, legacy]) of
    the database ``database_id``."""
    last = file.last
    delta = {stream: value for stream, value in sorted(state.items()) if file.state.get(stream) != value}
    line = {"n": file.count + 1, "at": utc_text(now), "prev": str((last or {}).get("mac") or GENESIS),
            "key_id": keys.current.key_id, "db": database_id, "heads": delta, "streams": len(state),
            "state": state_digest(state), "problems": 0}
    line["mac"] = keys.current.mac(canonical_json(line))
    return line


def append_line(file: CheckpointFile, handle, line: dict) -> None:
    """Write one line and force it to disk before the database records it."""
    # A line cut off by a crash stays visible as one bad line instead of swallowing this one.
    handle.write(("\n" if file.torn else "") + canonical_json(line) + "\n")
    handle.flush()
    os.fsync(handle.fileno())
