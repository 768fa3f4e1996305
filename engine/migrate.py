"""Schema migrations (Alembic), applied by ``baoxue init`` and by the tests.

Other packages (the domain) add their own version folders through ``extra_locations``;
one Alembic history covers them all.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine as SqlEngine, inspect, text

VERSION_TABLE = "alembic_version"   # Alembic's default: engine/migrations/env.py keeps it

_HERE = Path(__file__).parent / "migrations"


def alembic_config(extra_locations: Sequence[Path] = ()) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    locations = [str(_HERE / "versions"), *map(str, extra_locations)]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    return cfg


def upgrade(sql_engine: SqlEngine, extra_locations: Sequence[Path] = (), revision: str = "heads") -> None:
    """Bring the database at ``sql_engine`` to ``revision`` (default: every head)."""
    cfg = alembic_config(extra_locations)
    with sql_engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


class SchemaBehind(Exception):
    """The database is not at the migrations' head: never initialised, or not upgraded after
    a new version was installed. ``missing`` names the head revisions it lacks."""

    def __init__(self, missing: Sequence[str], unknown: Sequence[str] = ()):
        self.missing, self.unknown = list(missing), list(unknown)
        if unknown:
            detail = f"the database has revisions this code does not know: {', '.join(unknown)}"
        elif missing:
            detail = f"the database lacks migration(s) up to {', '.join(missing)}"
        else:
            detail = "the database is at the migrations' head"
        super().__init__(detail)


@lru_cache(maxsize=8)
def _script_heads(extra_locations: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """(head revisions, every revision) of the migration scripts: read once per process
    (``/healthz`` asks on every probe, and the scripts do not change under a running process)."""
    script = ScriptDirectory.from_config(alembic_config([Path(p) for p in extra_locations]))
    return frozenset(script.get_heads()), frozenset(rev.revision for rev in script.walk_revisions())


def schema_behind(sql_engine: SqlEngine, extra_locations: Sequence[Path] = ()) -> SchemaBehind | None:
    """None when the database at ``sql_engine`` is at every head of the migrations; else a
    SchemaBehind saying what it lacks (nothing applied at all: every head). A database stamped
    with a revision these scripts do not know (a newer version migrated it) is not at head either.
    Raises what the driver raises when the database cannot be reached."""
    heads, known = _script_heads(tuple(str(p) for p in extra_locations))
    with sql_engine.connect() as conn:
        # Read Alembic's own table directly: MigrationContext would log two INFO lines per probe.
        current = set(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()) \
            if inspect(conn).has_table(VERSION_TABLE) else set()
    unknown = sorted(current - known)
    missing = sorted(heads - current)
    return SchemaBehind(missing, unknown) if (missing or unknown) else None
