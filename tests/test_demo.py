"""The demo town of ``baoxue init --demo`` (CONTRACT.md "Demo accounts"), on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from api.settings import ROOT, Settings
from api.wiring import build_engine
from ledger import idnumber
from ledger.accounts import authenticate
from ledger.demo import DEMO_PASSWORD, FIXED_ACCOUNTS, SUPPORT_ACCOUNTS, build_demo_town
from ledger.demo_cases import PERSUASION_FILES
from ledger.directory import holders
from engine.persistence.models import HumanTask
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
    with engine.db.transaction() as session:   # no timing threshold in tests (STYLE); bench/ measures
        town = build_demo_town(session, engine.clock())
    assert town.created
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

        for username, role in FIXED_ACCOUNTS + SUPPORT_ACCOUNTS:
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
    # The whole demo, home-teaching months included: minutes on a busy machine (no timing assert).
    init = baoxue("init", "--demo", env=env, cwd=tmp_path, timeout=600)
    assert init.returncode == 0, init.stderr
    assert "送教上门 (home teaching): 评估" in init.stdout
    assert "baoxue-demo" in init.stdout and "head_teacher-zx-<年级>-<班>" in init.stdout
    for username, _ in FIXED_ACCOUNTS + SUPPORT_ACCOUNTS:
        assert f"\n{username} " in init.stdout
    assert "\nstudent_aid_officer-zx " in init.stdout and "\ncounsellor-fg " in init.stdout
    again = baoxue("init", "--demo", env=env, cwd=tmp_path)
    assert again.returncode == 0 and "未加载演示数据" in again.stdout

    listed = baoxue("users", "list", "--role", "head_teacher", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()[1:-1]]
    assert "head_teacher-zx-3-2" in {row[0] for row in rows}
    assert all(row[0].startswith("head_teacher-") and row[2] == "启用" for row in rows)
    assert len(rows) == int(listed.stdout.splitlines()[-1].split()[1])

    created = baoxue("users", "create", "wang", "--name", "王老师", "--password", "Wang-laoshi-2025",
                     "--role", "head_teacher", "--org", "zx-3-2", "--role", "registrar", "--org", "zx",
                     env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    mine = baoxue("users", "list", "--org", "zx-3-2", env=env, cwd=tmp_path).stdout
    assert "wang" in mine and "王老师" in mine and "registrar@zx" in mine
    taken = baoxue("users", "create", "wang", "--name", "王", "--password", "Wang-laoshi-2025", env=env, cwd=tmp_path)
    assert taken.returncode == 1 and "username" in taken.stderr and "Traceback" not in taken.stderr
    weak = baoxue("users", "create", "li", "--name", "李", "--password", "short", "--role", "janitor",
                  "--org", "zx", env=env, cwd=tmp_path)
    assert weak.returncode == 1 and "password" in weak.stderr and "roles.0.role" in weak.stderr
    common = baoxue("users", "create", "li", "--name", "李", "--password", "12345678", env=env, cwd=tmp_path)
    assert common.returncode == 1 and "密码太常见或太容易猜到" in common.stderr
    assert baoxue("users", "list", "--role", "janitor", env=env, cwd=tmp_path).returncode == 2


def seeded(engine):
    from ledger.demo_cases import seed_cases
    with engine.db.transaction() as session:
        build_demo_town(session, engine.clock())
    engine.repository.deploy_paths([ROOT / "processes"], actor="init")
    return seed_cases(engine)


# Open tasks of the persuasion cases and their files the demo leaves, per element
# (ledger.demo_attendance.SCRIPTS). After the village check the school acknowledges the plan the
# same day (ledger.demo_cases.FOLLOW_UPS); the poverty case's aid and the weariness cases'
# counselling stay open in the case's own file (processes/support_measures.bpmn; a return
# does not cancel them).
PERSUASION_TIERS = {"phone_call": 3, "home_visit": 2, "visit_cosign": 1, "village_check": 2, "student_aid": 1,
                    "civil_aid": 1, "counselling": 8, "labour_referral": 1, "mandatory_report": 1, "dropout_report": 1,
                    "confirm_report": 1, "issue_notice": 1, "legal_education": 1,
                    "leader_decision": 1, "county_procedure": 1, "restore_registry": 1, "strike_off": 1,
                    "home_teaching_placement": 1}
# A closed case for every outcome (a referral to the county is a stage: the demo has a case
# waiting at the county's record). The child's status history per outcome (issue 10 §8); any
# other outcome: one change, to its status.
HISTORIES = {"returned_before_report": [], "tendency_cleared": [],
             "returned_after_report": [("enrolled", "suspected_dropout"), ("suspected_dropout", "enrolled")],
             "returned_after_notice": [("enrolled", "suspected_dropout"), ("suspected_dropout", "dropped_out"),
                                       ("dropped_out", "enrolled")],
             "returned_after_leave": [("enrolled", "sick_leave"), ("sick_leave", "enrolled")]}


def test_demo_cases_put_work_in_every_tier(engine, tmp_path):
    """The demo's cases come from the real engine: inboxes of head teachers, villages and
    principals hold tasks, each with a due date and an audit trail that verifies; the
    persuasion cases come from twelve weeks of attendance replayed through record_day, a
    closed case for each outcome among them."""
    from engine.persistence.models import AuditEvent, HumanTask, Message, ProcessInstance, TimerJob
    from engine.tasks import TaskQuery
    from ledger.attendance_models import AttendanceRecord
    from ledger.case_outcomes import NOT_EXPECTED_AT_SCHOOL
    from ledger.demo_attendance import DAYS
    from ledger.models import AccessLog
    cases = seeded(engine)
    rows, total = engine.tasks.list(TaskQuery(status="open", per_page=500))
    assert total == len(rows)
    risk = Counter(row.candidate_role for row in rows if row.process_key == "dropout_risk_check")
    assert risk["head_teacher"] == cases.started - cases.at_village - cases.at_principal > 0
    assert risk["village_secretary"] == cases.at_village > 0
    assert risk["principal"] == cases.at_principal > 0
    assert sum(row.process_key == "registry_restoration" for row in rows) == 2
    assert all(row.due_at is not None and not row.unroutable for row in rows)

    tiers = Counter(row.element_id for row in rows if row.process_key in PERSUASION_FILES)
    assert tiers == PERSUASION_TIERS == cases.persuasion
    # Nothing the demo left open is overdue: the older weeks' cases are closed (ledger.demo_past).
    assert all(row.due_at > engine.clock() for row in rows if row.process_key in PERSUASION_FILES)
    roles = {row.element_id: row.candidate_role for row in rows if row.process_key in PERSUASION_FILES}
    assert roles["civil_aid"] == "civil_affairs" and roles["legal_education"] == "judicial_office"
    assert roles["student_aid"] == "student_aid_officer" and roles["counselling"] == "counsellor"
    assert roles["labour_referral"] == "labour_inspectorate" and roles["mandatory_report"] == "police_liaison"
    assert roles["confirm_report"] == "principal" and roles["issue_notice"] == "town_government"
    assert roles["leader_decision"] == "task_force_leader" and roles["restore_registry"] == "registrar"
    assert roles["county_procedure"] == "county_bureau"
    assert cases.examples[0].startswith("head_teacher-") and {"judicial", "leader", "town"} <= set(cases.examples)

    today = engine.clock().astimezone(engine.zone).date()
    with engine.db.read() as session:
        instances = session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "persuasion")).all()
        keys = Counter(i.business_key for i in instances)
        assert len(instances) == 36 and set(keys.values()) == {1}          # one case per child
        assert Counter(i.status for i in instances) == {"active": 21, "completed": 15}
        by_id = {i.id: i for i in instances}
        # Attendance went through record_day: every pupil every replayed day (a child placed in a
        # special school or not able to learn is off the roll from then on), each school's
        # principal the reporter, one access-log row per school and day.
        records = session.scalars(select(AttendanceRecord)).all()
        pupils = session.scalar(select(func.count()).select_from(Child).where(Child.school_code.is_not(None)))
        days = {r.date for r in records}
        assert len(days) == DAYS == cases.attendance_days and max(days) <= today
        per_child = Counter(r.child_id for r in records)
        off_roll = set(session.scalars(select(Child.id).where(Child.enrolment_status.in_(NOT_EXPECTED_AT_SCHOOL))))
        assert len(per_child) == pupils and len(records) == cases.attendance_records
        assert all(n == DAYS for c, n in per_child.items() if c not in off_roll)
        assert sum(n < DAYS for n in per_child.values()) == 2               # special school, not able to learn
        assert all(r.reported_by == f"principal-{r.school_code}" for r in records)
        logs = session.scalars(select(AccessLog).where(AccessLog.subject.like("attendance:%"))).all()
        assert len(logs) == 3 * DAYS and all(log.username == "principal-" + log.subject.split(":")[1] for log in logs)
        # Every child with an unexcused day has its case, started by the reporting principal;
        # the one case a head teacher started flags a dropout tendency.
        from ledger.case_outcomes import OUTCOMES, outcome_label
        from ledger.child_status import history, outcomes
        closures = {r.outcome: r for r in outcomes(session)}
        unexcused = {r.child_id for r in records if r.status == "absent_unexcused"}
        tendency = closures["tendency_cleared"].child_id
        assert {f"child:{c}" for c in unexcused | {tendency}} == set(keys) and tendency not in unexcused
        starters = dict(session.execute(select(AuditEvent.instance_id, AuditEvent.actor).where(
            AuditEvent.instance_id.in_(by_id), AuditEvent.kind == "instance_started")).all())
        children = {c.id: c for c in session.scalars(select(Child))}
        school = {i: children[int(by_id[i].business_key[6:])] for i in starters}
        assert len(starters) == 36 and all(actor == (f"head_teacher-{school[i].class_code}" if school[i].id == tendency
                                                     else f"principal-{school[i].school_code}")
                                           for i, actor in starters.items())
        # Excused absences start nothing (the medical leave's days are its case's).
        excused = {r.child_id for r in records if r.status == "absent_excused"} - {
            closures["returned_after_leave"].child_id}
        assert len(excused) == cases.excused > 0 and not excused & unexcused
        assert not {f"child:{c}" for c in excused} & set(keys)
        # The disability cases threw the home-teaching referral; the returned ones got `returned`.
        referral = session.scalars(select(Message).where(Message.name == "home_teaching_referral")).all()
        assert len(referral) == 6
        assert all("disability" in children[json.loads(r.payload)["child_id"]].special_groups for r in referral)
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.name == "returned", Message.status == "delivered")) == 7
        # One closed case per outcome, each on its real path (issue 10 §1, §2, §8): back before the
        # report (在校 throughout), after the report or the notice's deadline (疑似辍学, 辍学, back to
        # 在校), from a medical leave (长期病假 and back), a tendency cleared (no change), the lawful
        # exits (one change, to the outcome's status). The county referral is not built to close.
        assert set(closures) == set(OUTCOMES)
        assert cases.closed == {outcome_label(code): 1 for code in closures}
        for code, row in closures.items():
            assert row.instance_id in by_id and by_id[row.instance_id].status == "completed", code
            steps = HISTORIES.get(code, [("enrolled", OUTCOMES[code].status)])
            assert [(h.status_before, h.status_after) for h in history(session, row.child_id)] == steps, code
            assert children[row.child_id].enrolment_status == (steps[-1][1] if steps else "enrolled"), code
        assert cases.status_changes == sum(len(history(session, c)) for c in children) >= 30
        changed = {r.status_after for c in children for r in history(session, c)}
        assert {"suspected_dropout", "dropped_out", "enrolled", "sick_leave"} <= changed
        # The weekly checks after the strike-off came a week apart, each done by the head teacher.
        weekly = session.scalars(select(HumanTask).where(
            HumanTask.instance_id == closures["returned_after_notice"].instance_id,
            HumanTask.element_id == "weekly_check").order_by(HumanTask.created_at)).all()
        assert len(weekly) == 4 and all(t.status == "completed" for t in weekly)
        notice_child = children[closures["returned_after_notice"].child_id]
        assert {t.completed_by for t in weekly} == {f"head_teacher-{notice_child.class_code}"}
        assert all(b.created_at - a.created_at >= timedelta(days=7) for a, b in zip(weekly, weekly[1:]))
        # One case struck off and in its follow-up weeks: a weekly timer, no open task.
        followup = session.scalars(select(TimerJob).where(TimerJob.element_id == "week_passes",
                                                          TimerJob.status == "waiting")).all()
        assert len(followup) == 1 == cases.followup
        assert not session.scalars(select(HumanTask).where(HumanTask.instance_id == followup[0].instance_id,
                                                           HumanTask.status == "open")).all()
    assert engine.runtime.variables(followup[0].instance_id)["case_status"] == "struck_off"
    judicial = next(row for row in rows if row.element_id == "legal_education")
    assert date.fromisoformat(engine.runtime.variables(judicial.instance_id)["return_deadline"]) < today
    poverty = next(row for row in rows if row.element_id == "civil_aid")
    assert engine.runtime.variables(poverty.instance_id)["cause"] == "poverty"      # the case's support file
    assert engine.messages.linked(poverty.instance_id)["started_by"][0] in by_id
    assert all(engine.history.verify_chain(i).ok for i in by_id)
    # Every writer of the record went through the keyed chains: all of it verifies, the
    # attendance replay's access-log rows included.
    from ledger.audit_record import verify_record
    record = verify_record(engine, None)
    assert record.ok, [r.problems[:2] for r in record.bad]
    assert record.chain("access").count > 0 and record.tasks_checked > 0
    # The child page of the child back after the report (README walk step 6): the closed case
    # with its outcome, and the status history (newest first), 疑似辍学 then back to 在校 weeks
    # ago, each change naming the case.
    back = closures["returned_after_report"]
    html = child_page(engine, tmp_path, f"principal-{children[back.child_id].school_code}", back.child_id)
    closed_cases, changes = (html.split(f'id="{section}"')[1].split("</section>")[0]
                             for section in ("closed-cases", "status-history"))
    assert f'<a href="/instances/{back.instance_id}">' in closed_cases and "劝返复学（报告单报送后）" in closed_cases
    rows_ = re.findall(r'data-label="时间">([^<]+)</td><td data-label="变更">([^<]+)</td>.*?data-label="案件">(\d+)</td>',
                       changes, re.S)
    assert [(change.replace(" ", ""), int(case)) for _, change, case in rows_] == [
        ("疑似辍学→在校", back.instance_id), ("在校→疑似辍学", back.instance_id)]
    assert all(at[:10] < (today - timedelta(days=28)).isoformat() for at, _, _ in rows_)

    # Every report the demo's principals confirmed is kept as confirmed then, as after a page's
    # step (ledger.step_effects): the county's list has each without anyone opening it first.
    from ledger.document_versions import confirmations, confirmed_cases
    from ledger.document_case import Case
    with engine.db.read() as session:
        ids = session.scalars(select(ProcessInstance.id).where(ProcessInstance.process_key == "persuasion")).all()
    confirmed = {i for i in ids if confirmations(Case(engine, i))}
    assert confirmed and {c["instance_id"] for c in confirmed_cases(engine)} == confirmed


def child_page(engine, tmp_path, username: str, child_id: int) -> str:
    """/children/<id> as ``username`` (the demo password), through the app on ``engine``."""
    from api.app import create_app
    from .web.conftest import sign_in
    settings = Settings.from_env(database_url=engine.config.database_url, var_dir=tmp_path, secret_key="test")
    browser = create_app(settings, engine=engine).test_client()
    assert sign_in(browser, username, DEMO_PASSWORD).status_code == 302
    response = browser.get(f"/children/{child_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_demo_cases_are_the_same_every_time(sqlite_url, tmp_path):
    """Seeded RNG: the same children absent on the same days, the same tasks open."""
    from engine.persistence.models import HumanTask, ProcessInstance
    from ledger.attendance_models import AttendanceRecord

    def seed(url):
        engine = build_engine(Settings.from_env(database_url=url, var_dir=tmp_path, secret_key="test"))
        engine.migrate()
        seeded(engine)
        with engine.db.read() as session:
            absences = session.execute(select(AttendanceRecord.child_id, AttendanceRecord.date, AttendanceRecord.status)
                                       .where(AttendanceRecord.status != "present")
                                       .order_by(AttendanceRecord.child_id, AttendanceRecord.date)).all()
            tasks = session.execute(select(ProcessInstance.business_key, HumanTask.element_id)
                                    .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
                                    .where(HumanTask.status == "open")
                                    .order_by(ProcessInstance.business_key, HumanTask.element_id)).all()
        engine.close()
        return absences, tasks
    assert seed(sqlite_url) == seed(f"sqlite:///{tmp_path / 'other.db'}")


def test_demo_agreements_have_tier_1_mostly_signed_and_some_pending(engine):
    """Issue 12: this school year's campaign, through the real processes: most units signed and
    countersigned, one unit's and one head teacher's objection, one unit and some staff pending;
    documents kept and audited."""
    from ledger.agreement_views import RegisterFilter, register
    from ledger.demo_agreements import seed_agreements
    with engine.db.transaction() as session:
        build_demo_town(session, engine.clock())
    engine.repository.deploy_paths([ROOT / "processes"], actor="init")
    made = seed_agreements(engine)
    leader = SimpleNamespace(username="leader", holds=lambda role, unit=None: role == "task_force_leader",
                             units=lambda role: set())
    tier1 = register(engine, leader, RegisterFilter(tier=1))
    assert tier1["school_year"] == made.school_year and tier1["counts"]["total"] == 12   # 3 schools, 9 villages
    assert tier1["counts"]["signed"] == made.units_signed == 10
    assert tier1["counts"]["refused"] == 1 and tier1["counts"]["pending"] == 1
    tier2 = register(engine, leader, RegisterFilter(tier=2))
    assert tier2["counts"]["signed"] + tier2["counts"]["awaiting_countersign"] == made.staff_signed > 0
    assert tier2["counts"]["awaiting_countersign"] == made.staff_awaiting > 0          # the unit head's turn
    assert tier2["counts"]["pending"] == made.staff_pending > 0
    assert tier2["counts"]["refused"] == made.staff_refused == 1          # a head teacher's objection
    assert engine.history.verify_chain(tier1["campaign"]["instance_id"]).ok


def test_demo_home_teaching_has_a_case_at_every_stage_with_visits(engine):
    """Issue 11: the demo's home-teaching cases, made through the real process on the days
    they happen: at the assessment, at the placement, the plan awaiting approval, teaching
    with its visits recorded by the plan's teacher and its months checked, and one closed by
    its term review."""
    from engine.persistence.models import HumanTask, ProcessInstance
    from ledger.demo_home_teaching import SCHOOLS, seed_home_teaching
    from ledger.home_teaching import child_section
    with engine.db.transaction() as session:
        build_demo_town(session, engine.clock())
    engine.repository.deploy_paths([ROOT / "processes"], actor="init")
    made = seed_home_teaching(engine)
    with engine.db.read() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.process_key == "home_teaching")).all()
        children = {int(p.business_key[6:]): p.id for p in session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_key == "home_teaching"))}
        pupils = {c.id: c for c in session.scalars(select(Child).where(Child.id.in_(children)))}
    open_ = {case: sorted(r.element_id for r in rows if r.instance_id == case and r.status == "open")
             for case in made.cases.values()}
    assert open_[made.cases["assessment"]] == ["assess_federation", "assess_school"]
    assert open_[made.cases["placement"]] == ["placement"]
    assert open_[made.cases["plan_approval"]] == ["approve_plan"]
    assert "unscheduled_visit" in open_[made.cases["visiting"]] and open_[made.cases["term_review"]] == []
    assert all(r.due_at is not None and not r.unroutable for r in rows
               if r.status == "open" and r.element_id != "unscheduled_visit")
    assert set(children.values()) == set(made.cases.values())
    assert all("disability" in c.special_groups.split(",") and c.school_code in SCHOOLS for c in pupils.values())

    visiting = engine.runtime.variables(made.cases["visiting"])
    assert visiting["case_status"] == "teaching" and visiting["month_checks"]
    visits = [r for r in rows if r.instance_id == made.cases["visiting"] and r.element_id == "visit"
              and r.status == "completed"]
    teacher = visiting["plan_teacher"]
    assert len(visits) >= 4 and {r.completed_by for r in visits} == {teacher} == {r.assignee for r in visits}
    reviewed = engine.runtime.variables(made.cases["term_review"], "review_closed")
    assert engine.runtime.get(made.cases["term_review"]).status == "completed"
    assert reviewed["case_outcome"] == "enters_school" and len(reviewed["month_checks"]) >= 1
    assert made.visits >= len(visits) and made.months >= 2
    section = child_section(engine, next(c for c, i in children.items() if i == made.cases["visiting"]))
    assert section["stage"] == "送教中" and section["visits"] and section["plan"]["teachers"]
    assert "home_teacher-" not in section["plan"]["teachers"]            # display names, never logins
    assert all(engine.history.verify_chain(case).ok for case in made.cases.values())
    assert "送教上门" in made.line()


def test_demo_inspection_has_a_notice_waiting_for_the_leader(engine):
    """Issue 13: the current quarter's round, through the real processes: the first school failed
    two items and its criticism notice waits for the leader; the inspectors have the rest."""
    from ledger.demo_inspection import seed_inspection
    with engine.db.transaction() as session:
        build_demo_town(session, engine.clock())
    engine.repository.deploy_paths([ROOT / "processes"], actor="init")
    made = seed_inspection(engine)
    assert made.units == 12 and made.passed == 2 and made.failed_unit
    with engine.db.read() as session:
        open_tasks = {(t.element_id, t.candidate_role) for t in session.scalars(
            select(HumanTask).where(HumanTask.status == "open"))}
    assert ("approve_notice", "task_force_leader") in open_tasks
    assert ("inspect_unit", "discipline_inspector") in open_tasks
