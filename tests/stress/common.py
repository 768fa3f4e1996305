"""Shared set-up of the stress scripts: a PostgreSQL schema of their own, a town with many
children, the real processes deployed, the REST app. Run from the repository root, e.g.
``.venv/bin/python -m tests.stress.race --pg postgresql+psycopg://postgres@127.0.0.1:5432/test``."""
from __future__ import annotations

import argparse
import statistics
import tempfile
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from api.app import create_app
from api.settings import ROOT, Settings
from api.wiring import build_engine
from ledger.models import Child
from tests.processes.harness import Town

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
AUDIT_KEY = "stress-audit-key-not-a-secret-0123456789"
ENV = {"BAOXUE_SECRET_KEY": "stress-secret", "BAOXUE_AUDIT_KEY": AUDIT_KEY}   # for the processes started


def arguments(description: str, **extra) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL URL (a schema of its own is made and dropped)")
    for name, (default, help_text) in extra.items():
        parser.add_argument(f"--{name}", type=type(default), default=default, help=help_text)
    return parser.parse_args()


@contextmanager
def pg_schema(base: str):
    """A fresh schema on ``base``; yields the URL that uses it."""
    schema = f"stress_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def settings_for(url: str, var_dir: Path | None = None) -> Settings:
    return Settings.from_env(database_url=url, var_dir=var_dir or Path(tempfile.mkdtemp(prefix="baoxue-stress-")),
                             secret_key="stress-secret", audit_key=AUDIT_KEY)


def build(url: str, children: int) -> Town:
    """The test town (tests/api/town.py) plus ``children`` pupils of class zx-3-1 (ids 101…),
    with processes/ deployed, on a movable clock."""
    town = Town.build(settings_for(url), build_engine, create_app)
    town.engine.repository.deploy_paths([ROOT / "processes"], actor="admin")
    now = town.engine.clock()
    with town.engine.db.transaction() as session:
        for n in range(children):
            child_id = 101 + n
            session.add(Child(id=child_id, name=f"测试{child_id}", gender="女", birth_date=date(2016, 1, 1 + n % 28),
                              id_number=f"440101201601{child_id:05d}X"[:18], class_code="zx-3-1",
                              school_code="zx", village_code="v-jt", created_at=now))
    return town


def summary(label: str, values: list[float]) -> str:
    if not values:
        return f"{label}: none"
    return f"{label}: median {statistics.median(values):.1f}, max {max(values):.1f} (n={len(values)})"
