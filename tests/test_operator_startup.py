"""What an operator types that cannot work is refused at once, in one line (SQLite and
PostgreSQL): a server or worker on a database behind its migrations, a check against a
database that is not there, an unknown role or org unit, a local setting out of range."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from api.app import create_app
from api.settings import ROOT, Settings
from engine.migrate import upgrade

NOT_MIGRATED = "数据库尚未初始化或未升级"


def baoxue(*args, env, cwd, timeout=120):
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def _env(url):
    return {**os.environ, "BAOXUE_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}


def _one_line(result) -> str:
    """The refusal: exit 1, and stderr is that one line (no traceback, no log lines before it)."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def _behind(url):
    """A database migrated only part of the way (the engine's second revision, no domain tables)."""
    settings = Settings.from_env(database_url=url)
    from api.wiring import build_engine
    engine = build_engine(settings)
    try:
        upgrade(engine.db.engine, engine.config.migration_locations, revision="0002_task_subject")
    finally:
        engine.close()


@pytest.mark.parametrize("command", [["serve", "--no-worker", "--port", "1"], ["worker"]])
def test_serve_and_worker_refuse_a_database_behind_its_migrations(db_url, tmp_path, command):
    env = _env(db_url)
    assert NOT_MIGRATED in _one_line(baoxue(*command, env=env, cwd=tmp_path, timeout=60))   # never migrated
    _behind(db_url)
    assert "baoxue init" in _one_line(baoxue(*command, env=env, cwd=tmp_path, timeout=60))  # half-way


def test_healthz_is_not_ready_until_the_schema_is_at_head(db_url, tmp_path):
    app = create_app(Settings.from_env(database_url=db_url, var_dir=tmp_path, secret_key="t"))
    engine = app.extensions["baoxue.engine"]
    try:
        client = app.test_client()
        empty = client.get("/healthz")
        assert empty.status_code == 503 and empty.json["status"] == "not_ready"
        upgrade(engine.db.engine, engine.config.migration_locations, revision="0002_task_subject")
        half = client.get("/healthz")
        assert half.status_code == 503 and "baoxue init" in half.json["reason"]
        engine.migrate()
        assert client.get("/healthz").json == {"status": "ok"}
    finally:
        engine.close()


def test_check_against_an_unreachable_database_is_one_line(tmp_path):
    nowhere = _env("postgresql+psycopg://postgres@127.0.0.1:9/none")
    assert "无法连接数据库" in _one_line(baoxue("check", env=nowhere, cwd=tmp_path))


def test_users_name_the_valid_roles_and_refuse_an_unknown_org(db_url, tmp_path):
    env = _env(db_url)
    assert baoxue("init", env=env, cwd=tmp_path).returncode == 0
    wizard = baoxue("users", "create", "merlin", "--name", "梅林", "--password", "long-enough-pw",
                    "--role", "wizard", "--org", "town", env=env, cwd=tmp_path)
    assert wizard.returncode == 1 and "Traceback" not in wizard.stderr
    assert "wizard" in wizard.stderr and "head_teacher" in wizard.stderr and "admin" in wizard.stderr
    listed = baoxue("users", "list", "--role", "wizard", env=env, cwd=tmp_path)
    assert listed.returncode == 2 and "head_teacher" in listed.stderr
    nosuch = baoxue("users", "list", "--org", "nosuch", env=env, cwd=tmp_path)
    assert nosuch.returncode == 2 and "Traceback" not in nosuch.stderr
    assert "未知单位" in nosuch.stderr and "nosuch" in nosuch.stderr


@pytest.mark.parametrize("name,value,allowed", [
    ("BAOXUE_RETURN_WATCH_DAYS", "-3", "from 1 to 200"),
    ("BAOXUE_INTERMITTENT_DAYS", "abc", "from 2 to 100"),
    ("BAOXUE_INTERMITTENT_WINDOW", "1", "from 2 to 200"),
    ("BAOXUE_INTERMITTENT_DAYS", "30", "BAOXUE_INTERMITTENT_WINDOW"),   # more days than the window holds
    ("BAOXUE_NOTICE_COURT_ENFORCEMENT", "yes", "0 or 1"),
    ("BAOXUE_HOME_TEACHING_VISITS", "0", "from 1 to 31"),
    ("BAOXUE_INTERMITTENT_WINDOW", "²", "from 2 to 200"),        # a digit to str.isdigit, not to int()
    ("BAOXUE_PROXIES", "²", "from 0 to 10"),
    ("BAOXUE_AUDIT_CHECKPOINT_MINUTES", "inf", "at most 1440"),   # would never checkpoint
    ("BAOXUE_CHECK_HOURS", "-1", "above 0"),
])
def test_a_local_setting_out_of_range_stops_every_command_at_start(sqlite_url, tmp_path, monkeypatch,
                                                                    name, value, allowed):
    wrong = {**_env(sqlite_url), name: value}
    for command in (["worker"], ["serve", "--no-worker", "--port", "1"], ["incidents", "list"]):
        line = _one_line(baoxue(*command, env=wrong, cwd=tmp_path, timeout=60))
        assert "配置错误" in line and name in line and allowed in line, line
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        Settings.from_env(database_url=sqlite_url, var_dir=tmp_path)
