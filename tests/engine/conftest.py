"""Engine fixtures: a migrated ProcessEngine on a fixed clock, and the test diagrams."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.process_engine import EngineConfig, ProcessEngine

HERE = Path(__file__).parent
BPMN = HERE / "bpmn"
FORMS = HERE / "forms"
ROLES = {"clerk", "manager"}
AUDIT_KEY = b"engine-tests-audit-key-0123456789"


@pytest.fixture
def clock():
    return FixedClock(datetime(2025, 3, 3, 1, 0, tzinfo=timezone.utc))


@pytest.fixture
def make_engine(db_url, clock):
    """Build engines on this test's database (several may share it, as workers do)."""
    engines = []

    def build(**overrides):
        overrides.setdefault("audit_key", AUDIT_KEY)
        config = EngineConfig(database_url=db_url, clock=clock, form_dirs=[FORMS], **overrides)
        engine = ProcessEngine(config)
        engine.migrate()
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        engine.close()


@pytest.fixture
def engine(make_engine):
    return make_engine()
