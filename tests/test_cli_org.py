"""A town that is not the demo sets itself up from the shell: ``baoxue org load FILE`` then
its first administrator with ``baoxue users create`` (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import os

from sqlalchemy import select

from api.settings import ROOT, Settings
from api.wiring import build_engine
from ledger.models import AccessLog, OrgUnit

from .test_cli import baoxue

EXAMPLE = ROOT / "docs" / "examples" / "org.json"


def _units(db_url, tmp_path) -> dict[str, tuple]:
    engine = build_engine(Settings.from_env(database_url=db_url, var_dir=tmp_path / "var", secret_key="x"))
    try:
        with engine.db.read() as session:
            return {u.code: (u.name, u.kind, u.parent_code) for u in session.scalars(select(OrgUnit))}
    finally:
        engine.close()


def test_a_new_town_loads_its_units_then_creates_its_first_administrator(db_url, tmp_path):
    env = {**os.environ, "BAOXUE_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    assert baoxue("init", env=env, cwd=tmp_path).returncode == 0
    loaded = baoxue("org", "load", str(EXAMPLE), env=env, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "新建 35" in loaded.stdout
    units = _units(db_url, tmp_path)
    assert units["jt"] == ("蛟潭镇", "town", None)
    assert units["ez-7-3"] == ("七年级3班", "class", "ez-7") and units["ez-7"] == ("七年级", "grade", "ez")
    assert units["zx-tp1"] == ("坑口教学点", "teaching_point", "zx") and units["v-fugang"][1:] == ("village", "jt")
    again = baoxue("org", "load", str(EXAMPLE), env=env, cwd=tmp_path)
    assert again.returncode == 0 and "新建 0，改名 0，未变 35" in again.stdout

    admin = baoxue("users", "create", "ops", "--name", "运维管理员", "--password", "a-long-secret-1",
                   "--role", "admin", "--org", "jt", env=env, cwd=tmp_path)
    assert admin.returncode == 0, admin.stderr
    teacher = baoxue("users", "create", "wang-li", "--name", "王丽", "--password", "a-long-secret-2",
                     "--role", "head_teacher", "--org", "ez-7-3", env=env, cwd=tmp_path)
    assert teacher.returncode == 0, teacher.stderr

    renamed = dict(json.loads(EXAMPLE.read_text()), villages=[{"code": "v-jiaotan", "name": "蛟潭社区"}])
    (tmp_path / "renamed.json").write_text(json.dumps(renamed, ensure_ascii=False))
    moved = baoxue("org", "load", str(tmp_path / "renamed.json"), env=env, cwd=tmp_path)
    assert moved.returncode == 0 and "改名 1" in moved.stdout
    shrunk = {"town": {"code": "jt", "name": "蛟潭镇"}, "villages": [{"code": "v-jiaotan", "name": "蛟潭社区"}]}
    (tmp_path / "shrunk.json").write_text(json.dumps(shrunk, ensure_ascii=False))
    kept = baoxue("org", "load", str(tmp_path / "shrunk.json"), env=env, cwd=tmp_path)
    assert kept.returncode == 0 and "33 个单位不在文件中，已保留未动" in kept.stderr and "v-fugang" in kept.stderr
    assert _units(db_url, tmp_path)["v-jiaotan"][0] == "蛟潭社区" and "v-fugang" in _units(db_url, tmp_path)


def test_a_bad_file_is_refused_whole_with_each_place_and_reason(db_url, tmp_path):
    env = {**os.environ, "BAOXUE_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    assert baoxue("init", env=env, cwd=tmp_path).returncode == 0
    cases = {
        "bad.json": ({"town": {"code": "JT", "name": "<b>"}, "schools": [{"code": "zx", "name": "中心学校",
                      "grades": [{"grade": 10, "classes": 1}]}], "villages": [{"code": "zx", "name": "重复"}]},
                     ["town/code: 代码只能用", "town/name: 名称不能含", "schools/0/grades/0/grade: 不能大于 9"]),
        "twice.json": ({"town": {"code": "jt", "name": "镇"}, "schools": [{"code": "zx", "name": "中心学校"}],
                        "villages": [{"code": "zx", "name": "重复"}]}, ["zx: 单位代码重复"]),
        "notown.json": ({"schools": []}, ["town: 此项为必填项"]),
        "unreadable.json": ({"town": {"code": "jt", "name": "蛟潭镇\u202eEVIL"}, "schools": [
            {"code": "zx", "name": "   "}, {"code": "ez", "name": "\u200b"}]},
            ["town/name: 名称不能为空", "schools/0/name", "schools/1/name"]),
    }
    for name, (document, said) in cases.items():
        (tmp_path / name).write_text(json.dumps(document, ensure_ascii=False))
        refused = baoxue("org", "load", str(tmp_path / name), env=env, cwd=tmp_path)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, name
        assert all(s in refused.stderr for s in said), refused.stderr
    (tmp_path / "dup.json").write_text('{"town": {"code": "jt", "name": "甲", "name": "乙"}}')
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    for name, said in (("dup.json", "重复的键 'name'"), ("deep.json", "嵌套层次过深")):
        refused = baoxue("org", "load", str(tmp_path / name), env=env, cwd=tmp_path)
        assert refused.returncode == 1 and said in refused.stderr and "Traceback" not in refused.stderr
    (tmp_path / "junk.json").write_bytes(b"\xff\xfe{")
    junk = baoxue("org", "load", str(tmp_path / "junk.json"), env=env, cwd=tmp_path)
    assert junk.returncode == 1 and "不是 UTF-8 编码的 JSON 文件" in junk.stderr
    assert _units(db_url, tmp_path) == {}

    assert baoxue("org", "load", str(EXAMPLE), env=env, cwd=tmp_path).returncode == 0
    other = baoxue("org", "load", str(tmp_path / "notown.json"), env=env, cwd=tmp_path)
    (tmp_path / "second.json").write_text(json.dumps({"town": {"code": "other", "name": "另一镇"}}))
    second = baoxue("org", "load", str(tmp_path / "second.json"), env=env, cwd=tmp_path)
    assert second.returncode == 1 and "数据库中的镇是 jt" in second.stderr
    (tmp_path / "kind.json").write_text(json.dumps(
        {"town": {"code": "jt", "name": "蛟潭镇"}, "villages": [{"code": "zx", "name": "改成村"}]}, ensure_ascii=False))
    kind = baoxue("org", "load", str(tmp_path / "kind.json"), env=env, cwd=tmp_path)
    assert kind.returncode == 1 and "zx: 已存在的单位是school" in kind.stderr and other.returncode == 1
    assert _units(db_url, tmp_path)["zx"] == ("蛟潭中心学校", "school", "jt")


def test_loading_is_in_the_access_log(sqlite_url, tmp_path):
    env = {**os.environ, "BAOXUE_DATABASE_URL": sqlite_url, "PYTHONPATH": str(ROOT)}
    assert baoxue("init", env=env, cwd=tmp_path).returncode == 0
    assert baoxue("org", "load", str(EXAMPLE), env=env, cwd=tmp_path).returncode == 0
    engine = build_engine(Settings.from_env(database_url=sqlite_url, var_dir=tmp_path / "var", secret_key="x"))
    try:
        with engine.db.read() as session:
            (row,) = session.scalars(select(AccessLog).where(AccessLog.subject == "org"))
        assert (row.username, row.action) == ("cli", "change") and "ez-7-3" in row.detail
    finally:
        engine.close()
