"""Where the audit key and the checkpoint file come from, and the worker's checkpoint job."""
from __future__ import annotations

import stat

import pytest

from api.settings import Settings
from api.wiring import build_engine
from api.worker import default_jobs, run_due
from engine.audit import read_checkpoints


def test_a_missing_audit_key_is_generated_once_owner_only_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("BAOXUE_AUDIT_KEY", raising=False)
    monkeypatch.delenv("BAOXUE_AUDIT_CHECKPOINT_FILE", raising=False)
    first = Settings.from_env(database_url=f"sqlite:///{tmp_path}/b.db", var_dir=tmp_path, secret_key="s")
    again = Settings.from_env(database_url=f"sqlite:///{tmp_path}/b.db", var_dir=tmp_path, secret_key="s")
    key_file = tmp_path / "audit_key"
    assert first.audit_key == again.audit_key == key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.audit_checkpoint_file == tmp_path / "audit-checkpoints.jsonl"
    assert first.audit_checkpoint_minutes == 10
    assert not list(tmp_path.glob(".audit_key.*"))         # no draft left behind


def test_the_environment_names_key_file_and_period(tmp_path, monkeypatch):
    monkeypatch.setenv("BAOXUE_AUDIT_KEY", "a-key-from-the-county-office")
    monkeypatch.setenv("BAOXUE_AUDIT_CHECKPOINT_FILE", str(tmp_path / "elsewhere.jsonl"))
    monkeypatch.setenv("BAOXUE_AUDIT_CHECKPOINT_MINUTES", "2.5")
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path}/b.db", var_dir=tmp_path, secret_key="s")
    assert settings.audit_key == "a-key-from-the-county-office" and not (tmp_path / "audit_key").exists()
    assert (settings.audit_checkpoint_file, settings.audit_checkpoint_minutes) == (tmp_path / "elsewhere.jsonl", 2.5)
    monkeypatch.setenv("BAOXUE_AUDIT_CHECKPOINT_MINUTES", "0")
    with pytest.raises(ValueError, match="BAOXUE_AUDIT_CHECKPOINT_MINUTES"):
        Settings.from_env(database_url=f"sqlite:///{tmp_path}/b.db", var_dir=tmp_path, secret_key="s")


def test_a_short_audit_key_is_refused(tmp_path):
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path}/b.db", var_dir=tmp_path, secret_key="s",
                                 audit_key="short")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        build_engine(settings)


def test_the_worker_checkpoints_at_start_then_every_period(db_url, tmp_path):
    settings = Settings.from_env(database_url=db_url, var_dir=tmp_path, secret_key="s",
                                 audit_key="worker-test-audit-key-0123", audit_checkpoint_minutes=10)
    engine = build_engine(settings)
    engine.migrate()
    try:
        jobs = default_jobs(5.0, settings)
        [job] = [job for job in jobs if job.name == "audit-checkpoint"]
        assert job.every == 600
        run_due(engine, jobs, now=0.0)
        run_due(engine, jobs, now=599.0)          # not yet due again
        with read_checkpoints(settings.audit_checkpoint_file, engine.audit_keys) as file:
            assert file.count == 1 and file.report.ok
        run_due(engine, jobs, now=600.0)
        assert engine.history.verify_all(settings.audit_checkpoint_file).checkpoint.count == 2
    finally:
        engine.close()
