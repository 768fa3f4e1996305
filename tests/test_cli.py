"""``baoxue init`` and ``baoxue deploy processes/`` on an empty database (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from api.settings import ROOT


def baoxue(*args, env, cwd, timeout=600):
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def test_init_then_deploy_processes(db_url, tmp_path):
    env = {**os.environ, "BAOXUE_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    init = baoxue("init", env=env, cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert "registry_restoration v1" in init.stdout
    deploy = baoxue("deploy", str(ROOT / "processes"), env=env, cwd=tmp_path)
    assert deploy.returncode == 0, deploy.stderr
    assert "registry_restoration v1 (unchanged)" in deploy.stdout
    fired = baoxue("timers", "fire-due", "--now", "2030-01-01T08:00:00", env=env, cwd=tmp_path)
    assert fired.returncode == 0 and fired.stdout.strip() == "没有到期的定时器 (no timer was due)"
    as_json = baoxue("timers", "fire-due", "--json", env=env, cwd=tmp_path)
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == {"fired": 0, "failed": 0, "timers": []}


def test_deploy_of_a_broken_file_exits_1_with_element_errors(sqlite_url, tmp_path):
    env = {**os.environ, "BAOXUE_DATABASE_URL": sqlite_url, "PYTHONPATH": str(ROOT)}
    assert baoxue("init", env=env, cwd=tmp_path).returncode == 0
    broken = tmp_path / "broken.bpmn"
    broken.write_text((ROOT / "processes" / "registry_restoration.bpmn").read_text().replace(
        'targetRef="end"', 'targetRef="nowhere"'))
    result = baoxue("deploy", str(broken), env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "broken.bpmn:" in result.stderr and "nowhere" in result.stderr
    assert "Traceback" not in result.stderr


def test_deploy_prints_the_warnings_of_the_deploy(sqlite_url, tmp_path):
    env = {**os.environ, "BAOXUE_DATABASE_URL": sqlite_url, "PYTHONPATH": str(ROOT)}
    assert baoxue("init", env=env, cwd=tmp_path).returncode == 0
    called = tmp_path / "called.bpmn"
    called.write_text((ROOT / "tests" / "engine" / "bpmn" / "called_lanes.bpmn").read_text()
                      .replace('name="clerk"', 'name="head_teacher"').replace('name="manager"', 'name="principal"'))
    result = baoxue("deploy", str(called), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "lane_caller v1 (new version)" in result.stdout
    assert "注意 (warning) called.bpmn:" in result.stderr and "[call_review]" in result.stderr


def test_fire_due_prints_each_timer_with_its_case(sqlite_url, tmp_path):
    """Issue 17: what fired, of which kinds, for which cases; not a bare number."""
    bpmn = ROOT / "tests" / "engine" / "bpmn"
    env = {**os.environ, "BAOXUE_DATABASE_URL": sqlite_url, "PYTHONPATH": str(ROOT)}
    assert baoxue("init", env=env, cwd=tmp_path).returncode == 0
    deployed = baoxue("deploy", str(bpmn / "timer_start.bpmn"), env=env, cwd=tmp_path)
    assert deployed.returncode == 0, deployed.stderr
    fired = baoxue("timers", "fire-due", "--now", "2099-01-01T08:00:00", env=env, cwd=tmp_path)
    assert fired.returncode == 0, fired.stderr
    head, line = fired.stdout.strip().splitlines()
    assert head == "已触发 1 个定时器 (1 fired): 启动流程 1 个"
    assert line.startswith("  启动了案件 #") and "timer_start 「Every day」[every_day] 到期 " in line


def test_fire_due_says_which_timers_failed_and_where_to_look():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from api.cli import _fired_lines
    from engine.timers import FiredTimer
    due = datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc)
    lines = _fired_lines([FiredTimer("event", 7, "persuasion", "child:3", "remind", "逾期", due),
                          FiredTimer("event", 9, "persuasion", "child:4", "boom", None, due, incident_id=5)],
                         ZoneInfo("Asia/Shanghai"))
    assert lines == ["已触发 1 个定时器 (1 fired): 流程中的定时事件 1 个；1 个触发后出错 (1 failed)，见故障处理",
                     "  案件 #7（child:3） persuasion 「逾期」[remind] 到期 2026-12-03 09:00",
                     "  出错：案件 #9（child:4） persuasion [boom] 故障 #5"]


def test_operator_mistakes_are_one_line_not_a_traceback(sqlite_url, tmp_path):
    """A database never initialised, a wrong setting, a database that is not there: each says
    what to do in one line and exits 1 (an operator typed it; it is not a bug)."""
    env = {**os.environ, "BAOXUE_DATABASE_URL": sqlite_url, "PYTHONPATH": str(ROOT)}
    unmigrated = baoxue("incidents", "list", env=env, cwd=tmp_path)
    assert unmigrated.returncode == 1 and "Traceback" not in unmigrated.stderr
    assert "baoxue init" in unmigrated.stderr
    bad_setting = baoxue("incidents", "list", env={**env, "BAOXUE_AUDIT_CHECKPOINT_MINUTES": "abc"}, cwd=tmp_path)
    assert bad_setting.returncode == 1 and "Traceback" not in bad_setting.stderr
    assert "配置错误" in bad_setting.stderr and "BAOXUE_AUDIT_CHECKPOINT_MINUTES" in bad_setting.stderr
    nowhere = {**env, "BAOXUE_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/none"}
    unreachable = baoxue("incidents", "list", env=nowhere, cwd=tmp_path)
    assert unreachable.returncode == 1 and "Traceback" not in unreachable.stderr
    assert "无法连接数据库" in unreachable.stderr
    for name, value, said in (("BAOXUE_DATABASE_URL", "garbage", "is not a database URL"),
                              ("BAOXUE_DATABASE_URL", "mysql://x@y/z", "must be sqlite"),
                              ("BAOXUE_TIMEZONE", "Mars/Olympus", "IANA time zone")):
        wrong = baoxue("init", env={**env, name: value}, cwd=tmp_path)
        assert wrong.returncode == 1 and "Traceback" not in wrong.stderr and said in wrong.stderr, wrong.stderr
    port = baoxue("serve", "--port", "99999", env=env, cwd=tmp_path)
    assert port.returncode == 2 and "Traceback" not in port.stderr
    assert baoxue("init", env=env, cwd=tmp_path).returncode == 0
    assert baoxue("incidents", "list", env=env, cwd=tmp_path).returncode == 0


def test_a_postgresql_database_that_does_not_exist_is_named_not_called_uninitialised(pg_url, tmp_path):
    missing = pg_url.rsplit("/", 1)[0] + "/no_such_database_baoxue"
    env = {**os.environ, "BAOXUE_DATABASE_URL": missing, "PYTHONPATH": str(ROOT)}
    result = baoxue("init", env=env, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "无法连接数据库" in result.stderr and "createdb" in result.stderr and "baoxue init" not in result.stderr


def test_deploy_keeps_its_note_on_the_new_version(sqlite_url, tmp_path):
    env = {**os.environ, "BAOXUE_DATABASE_URL": sqlite_url, "PYTHONPATH": str(ROOT)}
    assert baoxue("init", env=env, cwd=tmp_path).returncode == 0
    changed = tmp_path / "registry_restoration.bpmn"
    changed.write_text((ROOT / "processes" / "registry_restoration.bpmn").read_text().replace(
        "恢复或重建学籍", "恢复学籍"))
    result = baoxue("deploy", str(changed), "--note", "县教育局通知：改任务名", env=env, cwd=tmp_path)
    assert result.returncode == 0 and "registry_restoration v2 (new version)" in result.stdout, result.stderr
    from sqlalchemy import create_engine, text
    with create_engine(sqlite_url).connect() as conn:
        notes = conn.execute(text("SELECT version, note FROM process_definition "
                                  "WHERE process_key = 'registry_restoration' ORDER BY version")).all()
    assert [tuple(n) for n in notes] == [(1, None), (2, "县教育局通知：改任务名")]
