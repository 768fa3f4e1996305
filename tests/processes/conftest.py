"""Scenario tests of processes/*.bpmn: the real engine (SQLite and PostgreSQL), the real
attendance ingestion and the REST API, on a clock the test moves (``town.at(day)``)."""
from __future__ import annotations

import pytest

from api.app import create_app
from api.settings import ROOT, Settings
from api.wiring import build_engine

from .harness import Town


@pytest.fixture
def scenario(db_url, tmp_path):
    settings = Settings.from_env(database_url=db_url, var_dir=tmp_path, secret_key="test-secret")
    town = Town.build(settings, build_engine, create_app)
    town.engine.repository.deploy_paths([ROOT / "processes"], actor="admin")
    yield town
    town.engine.close()
