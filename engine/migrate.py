"""Schema migrations (Alembic), applied by ``baoxue init`` and by the tests.

Other packages (the domain) add their own version folders through ``extra_locations``;
one Alembic history covers them all.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine as SqlEngine

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
