"""Verify the whole audit record, and write checkpoints.

``verify_all`` checks, in one read transaction: every chain in the database (each link's
keyed hash, its link to the one before, the head row); every chain against the last
checkpoint (present, not shorter, the link at the recorded seq unchanged, no new legacy
links); the checkpoint file itself (signatures, line links) and the database's own record
of which lines were written (a file cut short); and the task index's completion facts
against the ``task_completed`` events. A checkpoint file of another database is refused
first (``identity.ForeignCheckpointFile``). ``write_checkpoint`` runs it and, only when
everything verified, appends the next line (the worker every
``BAOXUE_AUDIT_CHECKPOINT_MINUTES``, or ``baoxue audit checkpoint``).

Problems are reported, never repaired nor sealed: a county decides what a broken record
means (docs/operations.md "The audit record").
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..persistence.models import AuditEvent, AuditStream, HumanTask
from .chain import (CHECKPOINTS_STREAM, EVENTS, KEYS_INFO, ChainReport, append_event, session_keys,
                    utc_text, verify_links)
from .checkpoints import CheckpointFile, append_line, locked_for_append, make_line, read_checkpoints
from .identity import check_binding, identify
from .keys import AuditKeyring

log = logging.getLogger("baoxue.audit")
TASKS_CHECK = "task completions"


@dataclass
class AuditReport:
    """``chains``: one report per stream (sorted by name); ``checks``: the checkpoint file
    and the task completions; ``notes``: limits of this verification, not problems."""

    chains: list[ChainReport] = field(default_factory=list)
    checks: list[ChainReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checkpoint: CheckpointFile | None = None
    tasks_checked: int = 0
    database_id: str | None = None     # identity.py; set when a checkpoint file was checked

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.chains + self.checks)

    @property
    def bad(self) -> list[ChainReport]:
        return [r for r in self.chains + self.checks if not r.ok]

    def chain(self, stream: str) -> ChainReport | None:
        return next((r for r in self.chains + self.checks if r.stream == stream), None)

    def summary(self) -> str:
        links = sum(r.count for r in self.chains)
        legacy = sum(r.legacy for r in self.chains)
        last = self.checkpoint.last if self.checkpoint else None
        where = f"last checkpoint #{last.get('n')} at {last.get('at')}" if last else "no checkpoint yet"
        state = "intact" if self.ok else f"BROKEN in {len(self.bad)} place(s)"
        return (f"audit record {state}: {len(self.chains)} chains, {links} links ({legacy} legacy), "
                f"{self.tasks_checked} task completions cross-checked, {where}")


def verify_all(session: Session, keys: AuditKeyring | None = None,
               checkpoint: Path | str | CheckpointFile | None = None, sources: Sequence = ()) -> AuditReport:
    """Check the whole audit record (see the module docstring). ``session``: a snapshot
    read (``Database.read(snapshot=True)``), or heads and links read at different moments
    disagree while cases are worked on. ``keys``: the session's by default; ``checkpoint``:
    the checkpoint file's path (or the file already read), None to skip the file checks; ``sources``: chains stored outside ``audit_event`` (objects with
    ``chains(session, stream=None)`` yielding (stream, rows), ``fields(row)`` and
    ``describe(row)``, like ``chain.EventSource``, and optionally ``checks(session)`` giving
    more ChainReports; the domain's access log is one). Raises
    ``identity.ForeignCheckpointFile`` when the checkpoint file belongs to another database."""
    keys = keys or session_keys(session)
    report = AuditReport()
    if checkpoint is not None and not isinstance(checkpoint, CheckpointFile):
        # The file and the database must be read as of one moment: a checkpoint written in
        # between would look like a file cut short, or like links deleted. Writers hold the
        # file's lock until the database has their line, so the snapshot begins under it.
        with read_checkpoints(Path(checkpoint), keys) as checkpoint:
            heads = {head.stream: head for head in session.scalars(select(AuditStream))}
    else:
        heads = {head.stream: head for head in session.scalars(select(AuditStream))}
    if checkpoint is not None:
        report.database_id = check_binding(session, checkpoint, keys).id
    report.checkpoint = checkpoint
    recorded = checkpoint.state if checkpoint is not None and checkpoint.last else None
    found: dict[str, ChainReport] = {}

    def check(stream, rows, source):
        entry = (recorded or {}).get(stream)
        chain = verify_links(stream, rows, source, keys, heads.get(stream), watch=entry[0] if entry else None)
        if recorded is not None:
            _against_checkpoint(chain, entry, checkpoint.last)
        found[stream] = chain

    for source in (EVENTS, *sources):
        for stream, rows in source.chains(session):
            check(stream, rows, source)
    for stream in sorted((set(heads) | set(recorded or ())) - set(found)):
        check(stream, [], EVENTS)    # a head or a recorded chain without a single link left
    report.chains = [found[stream] for stream in sorted(found)]
    for source in sources:
        report.checks.extend(source.checks(session) if hasattr(source, "checks") else ())
    tasks = task_completions(session)
    report.tasks_checked = tasks.count
    report.checks.append(tasks)
    if checkpoint is not None:
        report.checks.append(_checkpoint_file(session, checkpoint))
    _notes(report, recorded)
    return report


def _against_checkpoint(chain: ChainReport, entry: list | None, last: dict) -> None:
    where = f"checkpoint #{last.get('n')} ({last.get('at')})"
    if entry is None:
        if chain.legacy:
            chain.fail(1, f"unkeyed (legacy) links in a chain that no checkpoint has seen: forged after {where}")
        return
    seq, digest, legacy = entry
    if chain.count == 0 and chain.head_seq == 0:
        chain.fail(1, f"the whole chain is gone: {where} recorded {seq} link(s)")
    elif chain.head_seq < seq:
        chain.fail(chain.head_seq + 1, f"the chain ends at #{chain.head_seq} but {where} recorded #{seq}: "
                                       "the newest links were deleted")
    elif chain.watched_hash != digest:
        chain.fail(seq, f"link #{seq} is not the one {where} recorded: the chain was rewritten")
    if chain.legacy_prefix > legacy:     # (legacy links after keyed ones: reported as a downgrade)
        chain.fail(legacy + 1, f"{chain.legacy_prefix} unkeyed (legacy) links where {where} recorded {legacy}")


def task_completions(session: Session, instance_id: int | None = None) -> ChainReport:
    """Every completed human_task row (of one instance, or all) must agree with its
    ``task_completed`` event (who, when) and every such event must have its completed row.
    ``count``: task rows checked; ``first_bad``: the instance id of the first bad row."""
    check = ChainReport(TASKS_CHECK)
    facts = {}
    query = (select(AuditEvent.stream, AuditEvent.seq, AuditEvent.task_id, AuditEvent.actor, AuditEvent.at,
                    AuditEvent.data).where(AuditEvent.kind == "task_completed").order_by(AuditEvent.id))
    rows = select(HumanTask).where(or_(HumanTask.status == "completed", HumanTask.completed_by.is_not(None)))
    if instance_id is not None:
        query = query.where(AuditEvent.instance_id == instance_id)
        rows = rows.where(HumanTask.instance_id == instance_id)
    for event in session.execute(query.execution_options(yield_per=1000)):
        data = json.loads(event.data) if event.data else {}
        data = data if isinstance(data, dict) else {}
        # Events written before the facts were carried say them as actor and time.
        facts[event.task_id] = (f"{event.stream} #{event.seq}", data.get("completed_by", event.actor),
                                data.get("completed_at") or utc_text(event.at))
    found = session.execute(rows.order_by(HumanTask.instance_id, HumanTask.id).execution_options(yield_per=1000))
    for row in found.scalars():
        check.count += 1
        name = f"task {row.id} ({row.element_id} of instance {row.instance_id})"
        fact = facts.pop(row.id, None)
        at = utc_text(row.completed_at) if row.completed_at else None
        if fact is None:
            check.fail(row.instance_id, f"{name}: marked completed by {row.completed_by} at {at}, "
                                        "but no task_completed event says so")
        elif (row.completed_by, at) != fact[1:]:
            check.fail(row.instance_id, f"{name}: the task row says completed by {row.completed_by} at {at}, "
                                        f"the chain ({fact[0]}) says {fact[1]} at {fact[2]}")
    for task_id, (where, by, at) in facts.items():
        check.fail(0, f"task {task_id}: the chain ({where}) says completed by {by} at {at}, "
                      "but its task row is missing or not completed")
    return check


def _checkpoint_file(session: Session, file: CheckpointFile) -> ChainReport:
    """The file's own problems, and the lines the database says were written."""
    check = file.report
    check.count = file.count
    query = select(AuditEvent).where(AuditEvent.stream == CHECKPOINTS_STREAM,
                                     AuditEvent.kind == "checkpoint_written").order_by(AuditEvent.seq)
    for event in session.scalars(query):
        data = json.loads(event.data)
        if not isinstance(data, dict) or not isinstance(data.get("n"), int):
            continue    # an edited event: the checkpoints chain itself reports it
        line = file.line(data["n"])
        if line is None and data["n"] > file.count:
            check.fail(data["n"], f"line {data['n']} (written {utc_text(event.at)}) is gone: the file "
                                  f"{'ends at line ' + str(file.count) if file.exists else 'is missing'}; "
                                  "it was cut short, replaced or deleted")
            break
        if line is not None and line.get("mac") != data.get("mac"):
            check.fail(data["n"], f"line {data['n']} is not the line written then (its signature differs "
                                  "from the one the database recorded)")
    return check


def _notes(report: AuditReport, recorded: dict | None) -> None:
    if report.checkpoint is None:
        report.notes.append("checkpoint file not checked: deleting the newest links together with their "
                            "head, or a whole chain, is not detectable without it")
    elif recorded is None:
        report.notes.append("no checkpoint yet: deleting the newest links together with their head, or a "
                            "whole chain, is detectable only from the first checkpoint on")
        legacy = sum(r.legacy for r in report.chains)
        if legacy:
            report.notes.append(f"{legacy} unkeyed (legacy) links are not yet sealed by a checkpoint")


@dataclass
class CheckpointResult:
    n: int | None              # the line written; None: the record did not verify, nothing written
    streams: int               # chains it records (0 when nothing was written)
    report: AuditReport        # the verification that ran first
    path: Path

    @property
    def written(self) -> bool:
        return self.n is not None


def write_checkpoint(db, path: Path | str, now: datetime, sources: Sequence = ()) -> CheckpointResult:
    """Verify everything against the last checkpoint; when it all verifies, append the
    next line and record it in the ``checkpoints`` chain (``db``:
    engine.persistence.Database). When anything is wrong nothing is written: the problems
    are logged (ERROR, logger ``baoxue.audit``) and the result has ``n`` None, so a
    tampered state is never sealed and stays reported at every later check. Raises
    ``identity.ForeignCheckpointFile`` (nothing written, to the file or the database) for
    another database's file. Before the first line of a file the database gets its id
    (``identity.identify``). Safe in several processes at once: the file is locked
    (``flock``) from reading it to recording the line in the database."""
    keys = db.session_info[KEYS_INFO]
    path = Path(path)
    with locked_for_append(path, keys) as (file, handle):
        if not file.count:
            with db.transaction() as session:
                identify(session, now)
        with db.read(snapshot=True) as session:
            report = verify_all(session, keys, file, sources)
        for bad in report.bad:
            log.error("audit record: %s: first bad position #%s: %s", bad.stream, bad.first_bad,
                      "; ".join(bad.problems))
        if not report.ok:
            log.error("audit record: no checkpoint written to %s: the record did not verify", path)
            return CheckpointResult(None, 0, report, path)
        state = dict(file.state)
        for chain in report.chains:
            if chain.count or chain.head_seq:
                state[chain.stream] = [chain.head_seq, chain.head_hash, chain.legacy]
        line = make_line(file, state, now, keys, report.database_id)
        append_line(file, handle, line)
        with db.transaction() as session:
            append_event(session, CHECKPOINTS_STREAM, "checkpoint_written", at=now, actor=None,
                         data={"n": line["n"], "mac": line["mac"], "streams": line["streams"],
                               "problems": line["problems"]})
    return CheckpointResult(line["n"], line["streams"], report, path)
