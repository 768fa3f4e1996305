"""Tamper with the audit record the way a database administrator could, and show that
``baoxue audit verify`` sees each change.

    python tests/stress/tamper.py                  # SQLite in a temporary folder
    python tests/stress/tamper.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Builds one database with real cases (``baoxue init --demo``: the repo's processes, four
weeks of attendance, completed tasks, access-log rows), writes two checkpoints
(``baoxue audit checkpoint``), then for each scenario takes a fresh copy (a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL, which needs CREATEDB), applies the
change with raw SQL (or to the checkpoint file), runs ``baoxue audit verify`` and prints
scenario -> detected yes/no. Exit 0 when every scenario was detected and the untouched copy
verified clean. The scenarios are also the quick tests in tests/test_tamper.py.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from engine.audit import GENESIS, LEGACY, canonical_json, link_hash, utc_text  # noqa: E402

KEY = "tamper-stress-audit-key-0123456789"
KEY_ID = hashlib.sha256(b"baoxue-audit-key-id\x00" + KEY.encode()).hexdigest()[:16]
WRONG_KEY = b"a-forger-s-own-guess-of-the-key"


# -- helpers on a raw connection ---------------------------------------------------------------
def _moment(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _longest_instance_stream(conn, skip: int = 0) -> str:
    return conn.execute(text(
        "SELECT stream FROM audit_event WHERE stream LIKE 'instance:%' GROUP BY stream "
        "ORDER BY count(*) DESC, stream LIMIT 1 OFFSET :skip"), {"skip": skip}).scalar_one()


def _rechain(conn, stream: str, sign) -> None:
    """Recompute every link of ``stream`` and its head with ``sign(prev, row) -> (alg, key_id, hash)``."""
    prev = GENESIS
    rows = conn.execute(text("SELECT id, seq, instance_id, kind, actor, at, element_id, task_id, data "
                             "FROM audit_event WHERE stream = :s ORDER BY seq"), {"s": stream}).all()
    for row in rows:
        fields = {"instance_id": row.instance_id, "kind": row.kind, "actor": row.actor,
                  "at": utc_text(_moment(row.at)), "element_id": row.element_id, "task_id": row.task_id}
        alg, key_id, digest = sign(prev, stream, row.seq, fields, row.data)
        conn.execute(text("UPDATE audit_event SET prev_hash = :p, hash = :h, alg = :a, key_id = :k WHERE id = :id"),
                     {"p": prev, "h": digest, "a": alg, "k": key_id, "id": row.id})
        prev = digest
    conn.execute(text("UPDATE audit_stream SET seq = :n, head_hash = :h WHERE stream = :s"),
                 {"n": len(rows), "h": prev, "s": stream})


def _edit_first_event(conn, stream: str) -> None:
    conn.execute(text("UPDATE audit_event SET actor = 'someone-else' WHERE stream = :s AND seq = 1"), {"s": stream})


def _plain_sha256(prev, stream, seq, fields, data):
    return LEGACY, None, link_hash(None, LEGACY, None, prev, stream, seq, fields, data)


def _wrong_key(prev, stream, seq, fields, data):
    header = {**fields, "stream": stream, "seq": seq, "alg": "hmac-sha256", "key_id": KEY_ID}
    body = f"{prev}\n{canonical_json(header)}\n{data}"
    return "hmac-sha256", KEY_ID, hmac.new(WRONG_KEY, body.encode(), hashlib.sha256).hexdigest()


# -- the scenarios: each changes the record and names the report that must turn bad --------------
def delete_newest_event_and_roll_head_back(conn, checkpoint: Path) -> str:
    stream = _longest_instance_stream(conn)
    newest = conn.execute(text("SELECT seq, prev_hash FROM audit_event WHERE stream = :s ORDER BY seq DESC LIMIT 1"),
                          {"s": stream}).one()
    conn.execute(text("DELETE FROM audit_event WHERE stream = :s AND seq = :n"), {"s": stream, "n": newest.seq})
    conn.execute(text("UPDATE audit_stream SET seq = :n, head_hash = :h WHERE stream = :s"),
                 {"n": newest.seq - 1, "h": newest.prev_hash, "s": stream})
    return stream


def delete_whole_case_history(conn, checkpoint: Path) -> str:
    stream = _longest_instance_stream(conn, skip=1)
    conn.execute(text("DELETE FROM audit_event WHERE stream = :s"), {"s": stream})
    conn.execute(text("DELETE FROM audit_stream WHERE stream = :s"), {"s": stream})
    return stream


def edit_event_and_recompute_plain_sha256(conn, checkpoint: Path) -> str:
    stream = _longest_instance_stream(conn, skip=2)
    _edit_first_event(conn, stream)
    _rechain(conn, stream, _plain_sha256)
    return stream


def edit_event_and_recompute_hmac_with_wrong_key(conn, checkpoint: Path) -> str:
    stream = _longest_instance_stream(conn, skip=3)
    _edit_first_event(conn, stream)
    _rechain(conn, stream, _wrong_key)
    return stream


def edit_task_completed_by(conn, checkpoint: Path) -> str:
    task_id = conn.execute(text("SELECT id FROM human_task WHERE status = 'completed' ORDER BY id LIMIT 1")).scalar_one()
    conn.execute(text("UPDATE human_task SET completed_by = 'mallory' WHERE id = :id"), {"id": task_id})
    return "task completions"


def _access_seq(conn, where: str) -> int:
    low, high = conn.execute(text("SELECT min(seq), max(seq) FROM access_log")).one()
    return {"middle": (low + high) // 2, "newest": high}[where]


def edit_access_log_row(conn, checkpoint: Path) -> str:
    conn.execute(text("UPDATE access_log SET username = 'nobody' WHERE seq = :n"), {"n": _access_seq(conn, "middle")})
    return "access"


def delete_access_log_row(conn, checkpoint: Path) -> str:
    conn.execute(text("DELETE FROM access_log WHERE seq = :n"), {"n": _access_seq(conn, "middle")})
    return "access"


def delete_newest_access_rows_and_roll_head_back(conn, checkpoint: Path) -> str:
    newest = _access_seq(conn, "newest")
    prev = conn.execute(text("SELECT prev_hash FROM access_log WHERE seq = :n"), {"n": newest - 1}).scalar_one()
    conn.execute(text("DELETE FROM access_log WHERE seq >= :n"), {"n": newest - 1})
    conn.execute(text("UPDATE audit_stream SET seq = :n, head_hash = :h WHERE stream = 'access'"),
                 {"n": newest - 2, "h": prev})
    return "access"


def insert_access_log_row(conn, checkpoint: Path) -> str:
    conn.execute(text("INSERT INTO access_log (at, username, action, subject, detail) "
                      "VALUES (:at, 'ghost', 'view', 'child:1', '{}')"), {"at": datetime.now(timezone.utc).replace(tzinfo=None)})
    return "access (rows outside the chain)"


def truncate_checkpoint_file(conn, checkpoint: Path) -> str:
    lines = checkpoint.read_text(encoding="utf-8").splitlines(keepends=True)
    checkpoint.write_text("".join(lines[:-1]), encoding="utf-8")
    return f"checkpoint file {checkpoint}"


def alter_checkpoint_line(conn, checkpoint: Path) -> str:
    lines = checkpoint.read_text(encoding="utf-8").splitlines(keepends=True)
    first = json.loads(lines[0])
    stream = sorted(first["heads"])[0]
    first["heads"][stream][0] += 1          # claims a longer chain; the MAC is left as it was
    lines[0] = canonical_json(first) + "\n"
    checkpoint.write_text("".join(lines), encoding="utf-8")
    return f"checkpoint file {checkpoint}"


def delete_checkpoint_file(conn, checkpoint: Path) -> str:
    checkpoint.unlink()
    return f"checkpoint file {checkpoint}"


SCENARIOS = [delete_newest_event_and_roll_head_back, delete_whole_case_history,
             edit_event_and_recompute_plain_sha256, edit_event_and_recompute_hmac_with_wrong_key,
             edit_task_completed_by, edit_access_log_row, delete_access_log_row,
             delete_newest_access_rows_and_roll_head_back, insert_access_log_row,
             truncate_checkpoint_file, alter_checkpoint_line, delete_checkpoint_file]


def tamper(url: str, checkpoint: Path, scenario) -> str:
    """Apply ``scenario`` in one transaction; returns the report name that must turn bad."""
    sql = create_engine(url)
    try:
        with sql.begin() as conn:
            return scenario(conn, checkpoint)
    finally:
        sql.dispose()


# -- the command-line run ------------------------------------------------------------------------
def _cli(args, url: str, workdir: Path, checkpoint: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BAOXUE_DATABASE_URL": url, "BAOXUE_AUDIT_KEY": KEY, "PYTHONPATH": str(ROOT),
           "BAOXUE_AUDIT_CHECKPOINT_FILE": str(checkpoint), "BAOXUE_SECRET_KEY": "tamper-stress"}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, cwd=workdir,
                          capture_output=True, text=True, timeout=900)


class SqliteCopies:
    def __init__(self, workdir: Path):
        self.workdir, self.base = workdir, workdir / "base.db"

    def url(self, name: str) -> str:
        return f"sqlite:///{self.base if name == 'base' else self.workdir / (name + '.db')}"

    def clone(self, name: str) -> str:
        shutil.copyfile(self.base, self.workdir / f"{name}.db")
        return self.url(name)

    def drop_all(self) -> None:
        pass   # the temporary folder goes


class PostgresCopies:
    def __init__(self, server_url: str):
        self.server, self.prefix, self.made = server_url, f"baoxue_tamper_{uuid.uuid4().hex[:8]}", []
        self.admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        self._create(f"{self.prefix}_base", None)

    def _create(self, name: str, template: str | None) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.made.append(name)

    def url(self, name: str) -> str:
        base, _, _ = self.server.rpartition("/")
        return f"{base}/{self.prefix}_{name}"

    def clone(self, name: str) -> str:
        self._create(f"{self.prefix}_{name}", f"{self.prefix}_base")
        return self.url(name)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in reversed(self.made):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        self.admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL server URL (a database there; needs CREATEDB)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="baoxue-tamper-"))
    copies = PostgresCopies(args.pg) if args.pg else SqliteCopies(workdir)
    try:
        base_checkpoint = workdir / "base-checkpoints.jsonl"
        print(f"building the base record ({'PostgreSQL' if args.pg else 'SQLite'}) with baoxue init --demo ...")
        for step in (["init", "--demo"], ["audit", "checkpoint"], ["audit", "checkpoint"]):
            done = _cli(step, copies.url("base"), workdir, base_checkpoint)
            if done.returncode != 0:
                print(done.stdout, done.stderr, sep="\n")
                return 2
        print(done.stdout.strip().splitlines()[-2])
        rows = [("(untouched copy)", "verifies clean", *_verify(copies, "clean", workdir, base_checkpoint, None))]
        for index, scenario in enumerate(SCENARIOS, 1):
            name = scenario.__name__.replace("_", " ")
            rows.append((name, *_verify(copies, f"s{index}", workdir, base_checkpoint, scenario)))
        _print_table([("scenario", "must turn bad", "exit", "detected")] + rows)
        ok = rows[0][3] == "yes" and all(row[3] == "yes" for row in rows[1:])
        print("every tampering was detected" if ok else "SOME TAMPERING WAS NOT DETECTED")
        return 0 if ok else 1
    finally:
        copies.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)


def _verify(copies, name: str, workdir: Path, base_checkpoint: Path, scenario) -> tuple[str, ...]:
    url = copies.clone(name)
    checkpoint = workdir / f"{name}-checkpoints.jsonl"
    shutil.copyfile(base_checkpoint, checkpoint)
    expected = tamper(url, checkpoint, scenario) if scenario else None
    done = _cli(["audit", "verify"], url, workdir, checkpoint)
    bad = {line.split(": first bad position")[0][4:] for line in done.stdout.splitlines() if line.startswith("BAD ")}
    if scenario is None:
        return ("0" if done.returncode == 0 else str(done.returncode),
                "yes" if done.returncode == 0 and not bad else "NO")
    shown = "checkpoint file" if expected.startswith("checkpoint file") else expected
    return (shown, str(done.returncode), "yes" if done.returncode == 1 and expected in bad else "NO")


def _print_table(rows) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
