"""The audit record's checkpoint file belongs to one database, a record that does not verify
is never sealed, and no new audit key is generated over an existing record
(engine/audit/identity.py, engine.audit.write_checkpoint, api/audit_key_guard.py;
docs/operations.md "The audit record"), on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from api.settings import ROOT, Settings
from api.wiring import build_engine
from api.worker import default_jobs, run_due
from engine.audit import CHECKPOINTS_STREAM, GENESIS, LEGACY, ForeignCheckpointFile, append_event, canonical_json
from engine.audit.chain import event_fields, link_hash
from engine.audit.checkpoints import append_line, locked_for_append, make_line
from engine.clock import FixedClock
from engine.persistence.models import AuditEvent, AuditStream
from ledger.access_log import log_access
from ledger.audit_record import verify_record, write_record_checkpoint

KEY = "audit-database-test-key-0123456789"
START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def town(url, var_dir, clock):
    """A migrated database with two access-log rows (the ``access`` chain); its engine."""
    settings = Settings.from_env(database_url=url, var_dir=var_dir, secret_key="s", audit_key=KEY)
    engine = build_engine(settings, clock=clock)
    engine.migrate()
    for n in range(2):
        with engine.db.transaction() as session:
            log_access(session, "ht31", "view", f"child:{n}", {"page": "detail"}, clock())
    return engine


@pytest.fixture
def towns(db_url, other_db_url, tmp_path):
    """Two databases with the same key and, at the same fixed moment, the same rows: what a
    fresh test database next to a real one, or a restored copy of another town's, looks like."""
    clock = FixedClock(START)
    engines = [town(url, tmp_path / name, clock) for url, name in ((db_url, "a"), (other_db_url, "b"))]
    yield engines
    for engine in engines:
        engine.close()


def checkpoint_links(engine) -> int:
    with engine.db.read() as session:
        head = session.get(AuditStream, CHECKPOINTS_STREAM)
        return head.seq if head else 0


def lines(path) -> list[dict]:
    return [json.loads(raw) for raw in path.read_text(encoding="utf-8").splitlines()]


def test_a_file_of_another_database_is_refused_and_left_as_it_was(towns, tmp_path):
    a, b = towns
    path = tmp_path / "a.jsonl"
    assert write_record_checkpoint(a, path).written and write_record_checkpoint(a, path).written
    before = path.read_bytes()
    for attempt in (verify_record, write_record_checkpoint):       # b has recorded no checkpoint yet
        with pytest.raises(ForeignCheckpointFile) as refused:
            attempt(b, path)
        assert (refused.value.line, refused.value.database_id) == (1, None)
    assert path.read_bytes() == before and checkpoint_links(b) == 0

    own = tmp_path / "b.jsonl"
    assert write_record_checkpoint(b, own).written
    ids = (verify_record(a, path).database_id, verify_record(b, own).database_id)
    assert None not in ids and ids[0] != ids[1]          # same key, same rows, same moment: still two
    assert {line["db"] for line in lines(path)} == {ids[0]}
    for engine, file in ((b, path), (a, own)):
        with pytest.raises(ForeignCheckpointFile) as refused:
            write_record_checkpoint(engine, file)
        assert refused.value.file_db != refused.value.database_id and refused.value.database_id in ids
    assert path.read_bytes() == before and len(lines(own)) == 1
    assert verify_record(a, path).ok and verify_record(b, own).ok


def test_a_file_signed_by_another_deployment_is_refused_too(db_url, other_db_url, tmp_path):
    """Another town's file, signed with its own key: its lines' ``db`` counts (they are not
    edits of ours), so the file is refused, not reported as a record signed with a wrong key."""
    ours = town(db_url, tmp_path / "a", FixedClock(START))
    settings = Settings.from_env(database_url=other_db_url, var_dir=tmp_path / "c", secret_key="s",
                                 audit_key="another-town-s-own-audit-key-987")
    theirs = build_engine(settings, clock=FixedClock(START))
    try:
        theirs.migrate()
        path = tmp_path / "theirs.jsonl"
        write_record_checkpoint(theirs, path)
        write_record_checkpoint(ours, tmp_path / "ours.jsonl")
        before = path.read_bytes()
        with pytest.raises(ForeignCheckpointFile) as refused:
            write_record_checkpoint(ours, path)
        assert refused.value.file_db == lines(path)[0]["db"] and path.read_bytes() == before
    finally:
        ours.close()
        theirs.close()


def test_a_copy_of_the_same_database_keeps_its_file(sqlite_url, tmp_path):
    """A restored backup (here a file copy) is the same database: same id, same file."""
    original = town(sqlite_url, tmp_path / "a", FixedClock(START))
    path = tmp_path / "a.jsonl"
    try:
        write_record_checkpoint(original, path)
        database_id = verify_record(original, path).database_id
    finally:
        original.close()
    shutil.copyfile(sqlite_url.removeprefix("sqlite:///"), tmp_path / "copy.db")
    copy = build_engine(Settings.from_env(database_url=f"sqlite:///{tmp_path / 'copy.db'}", var_dir=tmp_path,
                                          secret_key="s", audit_key=KEY), clock=FixedClock(START))
    try:
        report = verify_record(copy, path)
        assert report.ok and report.database_id == database_id
        assert write_record_checkpoint(copy, path).n == 2
    finally:
        copy.close()


def old_checkpoint(engine, path) -> None:
    """Append a line the way Baoxue wrote them before database ids (no ``db``) and record it
    in the database as it did then."""
    keys, now = engine.audit_keys, engine.clock()
    with locked_for_append(path, keys) as (file, handle):
        report = verify_record(engine, None)
        state = {c.stream: [c.head_seq, c.head_hash, c.legacy] for c in report.chains if c.count or c.head_seq}
        line = make_line(file, state, now, keys, "unused")
        del line["db"], line["mac"]
        line["mac"] = keys.current.mac(canonical_json(line))
        append_line(file, handle, line)
        with engine.db.transaction() as session:
            append_event(session, CHECKPOINTS_STREAM, "checkpoint_written", at=now, actor=None,
                         data={"n": line["n"], "mac": line["mac"], "streams": line["streams"], "problems": 0})


def test_lines_from_before_database_ids_stay_verifiable_and_bound(towns, tmp_path):
    a, b = towns
    path = tmp_path / "old.jsonl"
    old_checkpoint(a, path)
    old_checkpoint(a, path)
    assert verify_record(a, path).ok
    assert write_record_checkpoint(a, path).n == 3
    found = lines(path)
    assert ["db" in line for line in found] == [False, False, True]
    assert found[2]["db"] == verify_record(a, path).database_id and verify_record(a, path).ok

    with pytest.raises(ForeignCheckpointFile):          # b recorded no checkpoint at all
        verify_record(b, path)
    write_record_checkpoint(b, tmp_path / "b.jsonl")
    with pytest.raises(ForeignCheckpointFile) as refused:   # b has an id, and never wrote line 1
        verify_record(b, path)
    assert (refused.value.line, refused.value.file_db) == (1, None)


def test_an_edited_database_id_is_reported_as_tampering(db_url, tmp_path):
    """A line of ours whose ``db`` was changed no longer verifies: that is an edit, reported
    by the verification, not a reason to call the file another database's."""
    engine = town(db_url, tmp_path / "a", FixedClock(START))
    path = tmp_path / "a.jsonl"
    try:
        write_record_checkpoint(engine, path)
        write_record_checkpoint(engine, path)
        found = lines(path)
        found[1]["db"] = "0" * 16
        path.write_text("".join(canonical_json(line) + "\n" for line in found), encoding="utf-8")
        report = verify_record(engine, path)
        [file] = [r for r in report.bad if r.stream.startswith("checkpoint file")]
        assert file.first_bad == 2 and "signature does not verify" in file.problems[0]
        before = path.read_bytes()
        assert not write_record_checkpoint(engine, path).written and path.read_bytes() == before
    finally:
        engine.close()


def forge_legacy_chain(engine, stream="instance:999") -> str:
    """A whole case history forged with plain SHA-256 links (anyone can compute them)."""
    with engine.db.transaction() as session:
        event = AuditEvent(stream=stream, seq=1, instance_id=999, kind="instance_started", actor="ghost",
                           at=START, data="{}", prev_hash=GENESIS, alg=LEGACY, key_id=None)
        event.hash = link_hash(None, LEGACY, None, GENESIS, stream, 1, event_fields(event), event.data)
        session.add(event)
        session.add(AuditStream(stream=stream, seq=1, head_hash=event.hash))
    return stream


def test_a_record_that_does_not_verify_is_never_sealed(db_url, tmp_path):
    """Before, the forged chain was reported once, then signed into the next line and
    verified clean from then on."""
    engine = town(db_url, tmp_path / "a", FixedClock(START))
    path = tmp_path / "a.jsonl"
    try:
        write_record_checkpoint(engine, path)
        stream = forge_legacy_chain(engine)
        before, links = path.read_bytes(), checkpoint_links(engine)
        for _ in range(2):                  # the worker tries again every period
            result = write_record_checkpoint(engine, path)
            assert not result.written and not result.report.chain(stream).ok
        assert path.read_bytes() == before and checkpoint_links(engine) == links
        assert not verify_record(engine, path).chain(stream).ok
    finally:
        engine.close()


def test_the_worker_logs_a_foreign_file_in_one_line_and_writes_nothing(towns, tmp_path, caplog):
    a, b = towns
    path = tmp_path / "a.jsonl"
    write_record_checkpoint(a, path)
    before = path.read_bytes()
    settings = Settings.from_env(database_url=b.db.url, var_dir=tmp_path / "b", secret_key="s", audit_key=KEY,
                                 audit_checkpoint_file=path)
    jobs = [job for job in default_jobs(5.0, settings) if job.name == "audit-checkpoint"]
    with caplog.at_level(logging.INFO):
        run_due(b, jobs, 0.0)
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "配置错误：检查点文件" in error.getMessage() and error.exc_info is None
    assert path.read_bytes() == before and checkpoint_links(b) == 0


def test_no_new_audit_key_over_an_existing_record(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("BAOXUE_AUDIT_KEY", raising=False)
    first = Settings.from_env(database_url=db_url, var_dir=tmp_path / "first", secret_key="s")
    engine = build_engine(first)                     # a brand-new database gets its key
    try:
        engine.migrate()
        with engine.db.transaction() as session:
            log_access(session, "ht31", "view", "child:1", {"page": "detail"}, START)
    finally:
        engine.close()
    moved = tmp_path / "moved"                       # var/ lost: the key file is not there
    with pytest.raises(ValueError, match="BAOXUE_AUDIT_KEY") as refused:
        Settings.from_env(database_url=db_url, var_dir=moved, secret_key="s")
    assert str(moved / "audit_key") in str(refused.value) and not (moved / "audit_key").exists()
    moved.mkdir()
    shutil.copy(tmp_path / "first" / "audit_key", moved / "audit_key")      # restored: it starts again
    assert Settings.from_env(database_url=db_url, var_dir=moved, secret_key="s").audit_key == first.audit_key
    monkeypatch.setenv("BAOXUE_AUDIT_KEY", first.audit_key)
    assert Settings.from_env(database_url=db_url, var_dir=tmp_path / "elsewhere", secret_key="s").audit_key


def test_the_cli_refuses_in_one_line_and_writes_nothing(towns, tmp_path):
    """``baoxue audit verify``/``checkpoint``: another database's file, a broken record, a
    missing key: exit 1, one line, no traceback, nothing written."""
    a, b = towns
    path = tmp_path / "a.jsonl"
    write_record_checkpoint(a, path)
    before = path.read_bytes()
    env = {**os.environ, "BAOXUE_AUDIT_KEY": KEY, "BAOXUE_SECRET_KEY": "s", "PYTHONPATH": str(ROOT),
           "BAOXUE_AUDIT_CHECKPOINT_FILE": str(path)}

    def baoxue(engine, *args, **changes):
        run_env = {**env, "BAOXUE_DATABASE_URL": engine.db.url, **changes}
        run_env = {name: value for name, value in run_env.items() if value is not None}
        return subprocess.run([sys.executable, "-m", "api.cli", "audit", *args], env=run_env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)

    for command in ("verify", "checkpoint"):
        done = baoxue(b, command)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "配置错误：检查点文件" in done.stderr and "属于另一个数据库" in done.stderr
    assert path.read_bytes() == before

    forge_legacy_chain(a)
    broken = baoxue(a, "checkpoint")
    assert broken.returncode == 1 and f"no checkpoint written to {path}" in broken.stdout
    assert path.read_bytes() == before

    keyless = baoxue(a, "verify", BAOXUE_AUDIT_KEY=None)      # cwd has no var/audit_key
    assert keyless.returncode == 1 and "Traceback" not in keyless.stderr
    assert len(keyless.stderr.strip().splitlines()) == 1 and "审计密钥缺失" in keyless.stderr
    assert not (tmp_path / "var" / "audit_key").exists()
