"""The demo town of ``baoxue init --demo`` (CONTRACT.md "Demo accounts"), on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import time
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from api.settings import ROOT, Settings
from api.wiring import build_engine
from ledger import idnumber
from ledger.accounts import authenticate
from ledger.demo import DEMO_PASSWORD, FIXED_ACCOUNTS, build_demo_town
from ledger.directory import holders
from ledger.models import Child, OrgUnit, RoleAssignment, User
from ledger.roles import ROLE_BY_CODE

from .test_cli import baoxue

FLAGS = {"left_behind", "poverty_alleviated", "subsistence_allowance", "disability", "migrant", "returnee"}


@pytest.fixture
def engine(db_url, tmp_path):
    engine = build_engine(Settings.from_env(database_url=db_url, var_dir=tmp_path, secret_key="test"))
    engine.migrate()
    yield engine
    engine.close()


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def test_demo_town_is_complete_generated_and_loaded_once(engine):
    started = time.monotonic()
    with engine.db.transaction() as session:
        town = build_demo_town(session, engine.clock())
    assert town.created and time.monotonic() - started < 5
    today = engine.clock().date()
    with engine.db.transaction() as session:
        kinds = Counter(session.scalars(select(OrgUnit.kind)))
        assert kinds["town"] == 1 and kinds["school"] == 3 and kinds["village"] >= 8
        children = session.scalars(select(Child)).all()
        assert 280 <= len(children) <= 320
        for child in children:
            assert idnumber.is_valid(child.id_number), child.id_number
            assert idnumber.birth_date(child.id_number) == child.birth_date
            assert idnumber.is_male(child.id_number) == (child.gender == "男")
            assert 6 <= age_on(child.birth_date, today) <= 15, (child.birth_date, child.class_code)
            assert set(filter(None, child.special_groups.split(","))) <= FLAGS
            assert child.guardian_name and child.guardian_relation and child.guardian_phone and child.address
            assert (child.school_code is None) == (child.enrolment_status == "not_enrolled")
            if child.class_code:   # the class is one of the school's
                assert child.class_code.startswith(child.school_code + "-")
        assert len({c.id_number for c in children}) == len(children)
        enrolled = [c for c in children if c.school_code]
        assert sum(c.village_code is not None for c in enrolled) > 0.9 * len(enrolled)
        assert 0 < sum(c.school_code is None for c in children) < 30
        flagged = Counter(f for c in children for f in c.special_groups.split(",") if f)
        assert set(flagged) == FLAGS and sum(bool(c.special_groups) for c in children) < len(children) / 2

        for username, role in FIXED_ACCOUNTS:
            user = authenticate(session, username, DEMO_PASSWORD)
            assert user is not None, username
            held = session.scalars(select(RoleAssignment.role).where(RoleAssignment.user_id == user.id)).all()
            assert held == [role]
        assert authenticate(session, "head_teacher-zx-3-2", DEMO_PASSWORD) is not None
        assert authenticate(session, "admin", "wrong-password") is None
        units_by_kind = {kind: session.scalars(select(OrgUnit.code).where(OrgUnit.kind == kind)).all()
                         for kind in ("town", "school", "class", "village")}
        for role in ROLE_BY_CODE.values():   # every lane has a holder wherever a case can go
            kind = "town" if role.scope == "county" else role.scope
            for unit in units_by_kind[kind]:
                assert holders(session, role.code, unit), (role.code, unit)
        assert [u.username for u in holders(session, "head_teacher", "zx-3-2")] == ["head_teacher-zx-3-2"]
        assert [u.username for u in holders(session, "grid_worker", "v-jiaotan")] == [
            "grid_worker-v-jiaotan", "grid_worker-v-jiaotan-2"]
        users = session.scalar(select(func.count()).select_from(User))
        assert users == len(town.accounts)

    with engine.db.transaction() as session:
        again = build_demo_town(session, engine.clock())
    assert not again.created and again.reason
    with engine.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Child)) == len(children)
        assert session.scalar(select(func.count()).select_from(User)) == users


def test_demo_is_the_same_town_every_time(sqlite_url, tmp_path):
    def names(url):
        engine = build_engine(Settings.from_env(database_url=url, var_dir=tmp_path, secret_key="test"))
        engine.migrate()
        with engine.db.transaction() as session:
            build_demo_town(session, engine.clock())
            result = session.execute(select(Child.name, Child.id_number).order_by(Child.id)).all()
        engine.close()
        return result
    assert names(sqlite_url) == names(f"sqlite:///{tmp_path / 'other.db'}")


def test_cli_init_demo_then_users_list_and_create(db_url, tmp_path):
    env = {**os.environ, "BAOXUE_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    init = baoxue("init", "--demo", env=env, cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert "baoxue-demo" in init.stdout and "head_teacher-zx-<年级>-<班>" in init.stdout
    for username, _ in FIXED_ACCOUNTS:
        assert f"\n{username} " in init.stdout
    again = baoxue("init", "--demo", env=env, cwd=tmp_path)
    assert again.returncode == 0 and "未加载演示数据" in again.stdout

    listed = baoxue("users", "list", "--role", "head_teacher", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()[1:-1]]
    assert "head_teacher-zx-3-2" in {row[0] for row in rows}
    assert all(row[0].startswith("head_teacher-") and row[2] == "启用" for row in rows)
    assert len(rows) == int(listed.stdout.splitlines()[-1].split()[1])

    created = baoxue("users", "create", "wang", "--name", "王老师", "--password", "secret-123",
                     "--role", "head_teacher", "--org", "zx-3-2", "--role", "registrar", "--org", "zx",
                     env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    mine = baoxue("users", "list", "--org", "zx-3-2", env=env, cwd=tmp_path).stdout
    assert "wang" in mine and "王老师" in mine and "registrar@zx" in mine
    taken = baoxue("users", "create", "wang", "--name", "王", "--password", "secret-123", env=env, cwd=tmp_path)
    assert taken.returncode == 1 and "username" in taken.stderr and "Traceback" not in taken.stderr
    weak = baoxue("users", "create", "li", "--name", "李", "--password", "short", "--role", "janitor",
                  "--org", "zx", env=env, cwd=tmp_path)
    assert weak.returncode == 1 and "password" in weak.stderr and "roles.0.role" in weak.stderr
    assert baoxue("users", "list", "--role", "janitor", env=env, cwd=tmp_path).returncode == 2


def test_demo_cases_put_work_in_every_tier(engine):
    """The demo's cases come from the real engine: inboxes of head teachers, villages and
    principals hold tasks, each with a due date and an audit trail that verifies."""
    from engine.tasks import TaskQuery
    from ledger.demo_cases import seed_cases
    with engine.db.transaction() as session:
        build_demo_town(session, engine.clock())
    engine.repository.deploy_paths([ROOT / "processes"], actor="init")
    cases = seed_cases(engine)
    rows, total = engine.tasks.list(TaskQuery(status="open", per_page=500))
    by_role = Counter(row.candidate_role for row in rows)
    assert by_role["head_teacher"] == cases.started - cases.at_village - cases.at_principal > 0
    assert by_role["village_secretary"] == cases.at_village > 0
    assert by_role["principal"] == cases.at_principal > 0
    assert by_role["registrar"] == 2
    assert all(row.due_at is not None and not row.unroutable for row in rows)
    assert engine.history.verify_chain(rows[0].instance_id).ok
