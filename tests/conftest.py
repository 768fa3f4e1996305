"""Shared fixtures: a database per test on SQLite and, when configured, on PostgreSQL.

``BAOXUE_TEST_PG_URL`` (set by ``.ci/run``) turns on the PostgreSQL runs; then an
unreachable server is a failure, not a skip. Each PostgreSQL test gets its own schema.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BAOXUE_TEST_PG_URL")


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'baoxue.db'}"


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL schema for this test (skip only when PostgreSQL is not configured)."""
    yield from _pg_schema()


@pytest.fixture
def other_db_url(db_url, tmp_path):
    """A second, empty database of the same kind as ``db_url`` (another file, another schema)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
    else:
        yield from _pg_schema()


def _pg_schema():
    """Yield the URL of a new schema, dropped afterwards (a generator for fixtures)."""
    if not PG_URL:
        pytest.skip("BAOXUE_TEST_PG_URL not set: PostgreSQL tests run in CI (.ci/run)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:  # a connection error here fails the test: CI must have PostgreSQL
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield _pg_schema_url(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")



@pytest.fixture(autouse=True, scope="session")
def _cheap_scrypt():
    """Hash test passwords with scrypt at N=2**10 instead of 2**15. Every test town seeds a
    dozen users and signs several in; at 0.1 s a hash and a check, a third of a scenario
    test's time went to scrypt. Still werkzeug's scrypt, hashed and checked as in production
    (the cost is written in each hash); only the work factor is smaller."""
    from ledger import accounts
    production = accounts.PASSWORD_METHOD
    accounts.PASSWORD_METHOD = "scrypt:1024:8:1"
    yield
    accounts.PASSWORD_METHOD = production
