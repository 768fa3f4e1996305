"""A database from before the keyed record: its events and access-log rows verify as legacy
links after migrations 0005/0104, the first checkpoint seals them, and a legacy link forged
afterwards is reported."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import sqlalchemy as sa

from api.settings import Settings
from api.wiring import build_engine
from engine.audit import LEGACY, link_hash
from engine.migrate import upgrade
from engine.persistence.database import make_sql_engine
from engine.persistence.models import UtcDateTime
from ledger.access_log import log_access
from ledger.audit_record import verify_record, write_record_checkpoint
from ledger.migrate import VERSIONS as LEDGER

AT = datetime(2025, 9, 1, 2, 0, tzinfo=timezone.utc)
META = sa.MetaData()
EVENTS = sa.Table("audit_event", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("stream", sa.String),
                  sa.Column("seq", sa.Integer), sa.Column("instance_id", sa.Integer), sa.Column("kind", sa.String),
                  sa.Column("actor", sa.String), sa.Column("at", UtcDateTime), sa.Column("element_id", sa.String),
                  sa.Column("task_id", sa.String), sa.Column("data", sa.Text), sa.Column("prev_hash", sa.String),
                  sa.Column("hash", sa.String))
HEADS = sa.Table("audit_stream", META, sa.Column("stream", sa.String, primary_key=True), sa.Column("seq", sa.Integer),
                 sa.Column("head_hash", sa.String))
ACCESS = sa.Table("access_log", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", UtcDateTime),
                  sa.Column("username", sa.String), sa.Column("action", sa.String), sa.Column("subject", sa.String),
                  sa.Column("detail", sa.Text))


def old_digest(prev: str, row: dict) -> str:
    """The chain as engine/audit.py wrote it before 0005 (plain SHA-256)."""
    header = json.dumps({k: row[k] for k in ("stream", "seq", "instance_id", "kind", "actor", "element_id",
                                             "task_id")} | {"at": AT.isoformat()},
                        sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev}\n{header}\n{row['data']}".encode()).hexdigest()


def old_database(url: str) -> None:
    sql = make_sql_engine(url)
    upgrade(sql, [LEDGER], "0003_open_business_key")
    upgrade(sql, [LEDGER], "0102_attendance")
    prev = "0" * 64
    with sql.begin() as conn:
        for seq, kind in enumerate(["instance_started", "task_ready"], 1):
            row = {"stream": "instance:1", "seq": seq, "instance_id": 1, "kind": kind, "actor": "u1",
                   "element_id": None, "task_id": None, "data": "{}"}
            digest = old_digest(prev, row)
            conn.execute(EVENTS.insert().values(**row, at=AT, prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(HEADS.insert().values(stream="instance:1", seq=2, head_hash=prev))
        for n in range(3):
            conn.execute(ACCESS.insert().values(at=AT, username="ht31", action="view", subject=f"child:{n}",
                                                detail='{"page":"detail"}'))
    sql.dispose()


def test_an_old_record_verifies_as_legacy_and_is_sealed_by_the_first_checkpoint(db_url, tmp_path):
    old_database(db_url)
    settings = Settings.from_env(database_url=db_url, var_dir=tmp_path, secret_key="s",
                                 audit_key="migration-test-audit-key-01")
    engine = build_engine(settings)
    engine.migrate()
    try:
        path = settings.audit_checkpoint_file
        before = verify_record(engine, path)
        assert before.ok, [r.problems for r in before.bad]
        assert (before.chain("instance:1").legacy, before.chain("access").legacy) == (2, 3)
        assert any("not yet sealed" in note for note in before.notes)

        write_record_checkpoint(engine, path)
        with engine.db.transaction() as session:         # new rows are keyed, after the legacy ones
            log_access(session, "ht31", "view", "child:9", {"page": "detail"}, AT)
        assert verify_record(engine, path).ok

        with engine.db.transaction() as session:         # a forger appends a row the old way
            prev = session.execute(sa.text("SELECT head_hash FROM audit_stream WHERE stream = 'access'")).scalar_one()
            fields = {"at": AT.isoformat(), "username": "ghost", "action": "view", "subject": "child:1"}
            digest = link_hash(None, LEGACY, None, prev, "access", 5, fields, "{}")
            session.execute(ACCESS.insert().values(at=AT, username="ghost", action="view", subject="child:1",
                                                   detail="{}"))
            session.execute(sa.text("UPDATE access_log SET seq = 5, prev_hash = :p, hash = :h, alg = 'sha256' "
                                    "WHERE username = 'ghost'"), {"p": prev, "h": digest})
            session.execute(sa.text("UPDATE audit_stream SET seq = 5, head_hash = :h WHERE stream = 'access'"),
                            {"h": digest})
        access = verify_record(engine, path).chain("access")
        assert access.first_bad == 5 and "downgrade" in access.problems[0]
    finally:
        engine.close()
