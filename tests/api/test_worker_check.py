"""The worker runs the consistency check once per ``BAOXUE_CHECK_HOURS`` and stores each run,
however many workers look; a bad ``BAOXUE_CHECK_HOURS`` stops the start with the reason."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from api.settings import Settings
from api.wiring import build_engine
from api.worker import default_jobs, run_due
from engine.clock import FixedClock
from engine.persistence.models import CheckRun


def runs(engine) -> int:
    with engine.db.read() as session:
        return session.scalar(select(func.count(CheckRun.id)))


def test_two_workers_run_the_check_once_a_period(db_url, tmp_path):
    clock = FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))
    settings = Settings.from_env(database_url=db_url, var_dir=tmp_path, secret_key="x")
    first, second = (build_engine(settings, clock=clock) for _ in range(2))
    try:
        first.migrate()
        jobs = {engine: default_jobs(5.0, check_hours=24) for engine in (first, second)}
        assert [(job.name, job.every) for job in jobs[first]] == [("timers", 5.0), ("outbox", 5.0), ("check", 3600.0),
                                                                  ("continue", 5.0)]
        run_due(first, jobs[first], 0.0)
        assert runs(first) == 1 and first.consistency.last().ok
        run_due(second, jobs[second], 0.0)          # the other worker sees a fresh result
        clock.advance(timedelta(hours=23))
        run_due(first, jobs[first], 3600.0)
        assert runs(first) == 1
        clock.advance(timedelta(hours=1))
        run_due(second, jobs[second], 7200.0)
        assert runs(first) == 2 and first.consistency.last().at == clock()
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("raw", ["0", "-1", "daily", "nan"])
def test_a_bad_check_period_is_refused(monkeypatch, tmp_path, raw):
    monkeypatch.setenv("BAOXUE_CHECK_HOURS", raw)
    with pytest.raises(ValueError, match="BAOXUE_CHECK_HOURS"):
        Settings.from_env(var_dir=tmp_path, secret_key="x")


def test_a_short_period_polls_as_often(monkeypatch, tmp_path):
    monkeypatch.setenv("BAOXUE_CHECK_HOURS", "0.5")
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path / 'b.db'}", var_dir=tmp_path, secret_key="x")
    assert settings.check_hours == 0.5 and default_jobs(5.0, settings)[2].every == 1800.0
