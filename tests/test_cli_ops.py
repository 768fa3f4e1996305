"""``baoxue incidents ...`` and ``baoxue check`` against a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import os

import pytest

from api.settings import ROOT, Settings
from api.wiring import build_engine
from engine.errors import StepFailed
from engine.tasks import TaskQuery
from ledger.models import OrgUnit
from ledger.users import create_account

from .test_cli import baoxue

FAILING = ROOT / "tests" / "engine" / "bpmn" / "failing.bpmn"
DIVISOR_FORM = ROOT / "tests" / "engine" / "forms" / "divisor.schema.json"


def test_an_operator_finds_and_resolves_an_incident_from_the_shell(db_url, tmp_path):
    env = {**os.environ, "BAOXUE_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    assert baoxue("init", env=env, cwd=tmp_path).returncode == 0
    assert baoxue("deploy", str(FAILING), str(DIVISOR_FORM), env=env, cwd=tmp_path).returncode == 0
    clean = baoxue("check", env=env, cwd=tmp_path)
    assert clean.returncode == 0 and clean.stdout.startswith("一致 (consistent)")

    # The CLI (cwd=tmp_path) keeps its keys in tmp_path/var: the same audit key, or every link is "forged".
    engine = build_engine(Settings.from_env(database_url=db_url, var_dir=tmp_path / "var", secret_key="x"))
    try:
        started = engine.runtime.start("failing", {"total": 10})
        (task,) = engine.tasks.list(TaskQuery(instance_id=started.instance_id))[0]
        with pytest.raises(StepFailed) as err:
            engine.runtime.complete_task(task.id, {"divisor": 0}, actor="ht31")
    finally:
        engine.close()
    incident = str(err.value.incident_id)

    listed = baoxue("incidents", "list", "--status", "open", env=env, cwd=tmp_path)
    assert listed.returncode == 0 and "共 1 条" in listed.stdout
    assert "compute" in listed.stdout and "ZeroDivisionError" in listed.stdout
    shown = baoxue("incidents", "show", incident, env=env, cwd=tmp_path)
    assert "失败的操作 command: 提交任务" in shown.stdout and "任务 task: Enter" in shown.stdout

    found = baoxue("check", env=env, cwd=tmp_path)
    assert found.returncode == 1
    assert found.stdout.startswith(f"incidents: instance {started.instance_id} / compute: in error since ")
    report = json.loads(baoxue("check", "--json", env=env, cwd=tmp_path).stdout)
    assert report["ok"] is False and [f["check"] for f in report["findings"]] == ["incidents"]

    assert baoxue("incidents", "resolve", incident, env=env, cwd=tmp_path).returncode == 2   # --note is required
    blank = baoxue("incidents", "resolve", incident, "--note", " ", env=env, cwd=tmp_path)
    assert blank.returncode == 1 and "note: required" in blank.stderr and "Traceback" not in blank.stderr
    stranger = baoxue("incidents", "resolve", incident, "--note", "已核实", "--by", "nobody", env=env, cwd=tmp_path)
    assert stranger.returncode == 1 and "not an active administrator" in stranger.stderr
    engine = build_engine(Settings.from_env(database_url=db_url, var_dir=tmp_path / "var", secret_key="x"))
    try:
        with engine.db.transaction() as session:
            session.add(OrgUnit(code="town", name="蛟潭镇", kind="town"))
            session.flush()
            create_account(session, "test", username="ops-admin", display_name="运维管理员",
                           password="a-long-secret-1", now=engine.clock(),
                           roles=[{"role": "admin", "org_unit": "town"}])
    finally:
        engine.close()
    done = baoxue("incidents", "resolve", incident, "--note", "已核实，请重新提交", "--by", "ops-admin",
                  env=env, cwd=tmp_path)
    assert done.returncode == 0 and "is active" in done.stdout
    again = baoxue("incidents", "retry", incident, env=env, cwd=tmp_path)
    assert again.returncode == 1 and "already resolved" in again.stderr
    assert baoxue("incidents", "show", "999", env=env, cwd=tmp_path).returncode == 1
    assert baoxue("check", env=env, cwd=tmp_path).returncode == 0
