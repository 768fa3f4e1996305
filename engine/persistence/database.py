"""Connections and transactions.

SQLite is the embedded default, PostgreSQL the production database. On SQLite every
transaction starts with ``BEGIN IMMEDIATE``: writers queue on the database lock instead
of failing late with "database is locked" after they have read stale rows.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.orm import Session, sessionmaker


def make_sql_engine(url: str) -> SqlEngine:
    """Create a SQLAlchemy engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://``)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Let SQLAlchemy, not pysqlite, decide when transactions begin.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):
            # Reads (Database.read) begin deferred: under WAL they never wait for writers.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("baoxue_read") else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """Owns the SQLAlchemy engine and hands out transactional sessions."""

    def __init__(self, url: str, session_info: dict | None = None):
        """``session_info``: put into every session's ``info`` (the audit keyring travels
        so, to every writer of a chain, without a global)."""
        self.url = url
        self.engine = make_sql_engine(url)
        self.session_info = dict(session_info or {})
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=self.session_info)
        self._read_sessions = sessionmaker(self.engine.execution_options(baoxue_read=True),
                                           expire_on_commit=False, info=self.session_info)
        # PostgreSQL's default (READ COMMITTED) takes a new snapshot per statement; a reader
        # comparing two tables (chain heads and links) needs one moment for all of them.
        snapshot = (self.engine.execution_options(baoxue_read=True, isolation_level="REPEATABLE READ")
                    if self.is_postgres else self.engine.execution_options(baoxue_read=True))
        self._snapshot_sessions = sessionmaker(snapshot, expire_on_commit=False, info=self.session_info)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back on any exception."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def read(self, snapshot: bool = False) -> Iterator[Session]:
        """A transaction for reading only: on SQLite it begins deferred, so it does not
        queue behind writers. Callers must not write in it. ``snapshot``: every statement
        sees the database as of the first one (REPEATABLE READ on PostgreSQL; a SQLite read
        transaction under WAL always does)."""
        session = (self._snapshot_sessions if snapshot else self._read_sessions)()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """``read(snapshot=True)``: a read-only transaction whose statements all see one
        moment of the database (for comparing tables with each other while commands run)."""
        with self.read(snapshot=True) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
