"""The demo town 蛟潭镇 (CONTRACT.md "Demo accounts"): org units, accounts, generated children.

``build_demo_town(session, now)`` fills an empty database in the caller's transaction:
the town; three schools (DOMAIN.md "Org units") with grades and classes; two teaching points
of the central school; nine villages, farms and communities; one account per (role, org
unit) with password ``baoxue-demo``; about 300 children. Everything is generated from a
fixed seed (Faker zh_CN names): no real person's data. The ID numbers use region codes
ending in 99, which no county carries, so they cannot belong to anyone.
Returns a ``DemoTown``; ``created`` is False (and nothing is written) when the database
already holds org units or users.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import idnumber
from .accounts import hash_password
from .models import Child, OrgUnit, RoleAssignment, User
from .roles import SYSTEM_ADMIN

DEMO_PASSWORD = "baoxue-demo"
SEED = 20250901
TOWN_CODE, TOWN_NAME = "town", "蛟潭镇"
GRADE_NAMES = "一二三四五六七八九"
# code, name, {grade: number of classes}: 中心学校 is primary (1-6), 二中 middle (7-9), 福港 nine-year.
SCHOOLS = (
    ("zx", "蛟潭中心学校", {1: 2, 2: 1, 3: 2, 4: 1, 5: 2, 6: 1}),
    ("ez", "蛟潭二中", {7: 2, 8: 2, 9: 1}),
    ("fg", "福港学校", {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1}),
)
TEACHING_POINTS = (("zx-tp-shanbei", "山背教学点"), ("zx-tp-longtou", "龙头教学点"))
# code, name, catchment area (jt: 中心学校 then 二中; fg: 福港学校), relative population
VILLAGES = (
    ("v-jiaotan", "蛟潭村", "jt", 5), ("v-xinxu", "新圩村", "jt", 3), ("v-tangwei", "塘尾村", "jt", 3),
    ("v-longtou", "龙头村", "jt", 2), ("v-shanbei", "山背村", "jt", 2), ("v-xinjie", "新街社区", "jt", 4),
    ("v-fugang", "福港村", "fg", 4), ("v-gangkou", "港口村", "fg", 2), ("v-hongxing", "红星农场", "fg", 2),
)
SCHOOL_AREA = {"zx": "jt", "ez": "jt", "fg": "fg"}
FIXED_ACCOUNTS = (  # CONTRACT.md: fixed usernames of the town-level roles
    ("admin", SYSTEM_ADMIN), ("inspector", "discipline_inspector"), ("leader", "task_force_leader"),
    ("deputy", "task_force_deputy"), ("office", "livelihood_office"), ("town", "town_government"),
    ("judicial", "judicial_office"), ("dpf", "disabled_persons_federation"), ("civil", "civil_affairs"),
    # ledger.routing sends county-scope lanes to the town unit, so the county's reader sits there.
    ("county", "county_bureau"),
)
SCHOOL_ROLES = ("principal", "moral_education_office", "registrar")
# Roles added later (issue 10 §5, support measures): named by a Faker of their own, so that
# every name generated before (accounts and children) stays the same.
SUPPORT_ACCOUNTS = (("labour", "labour_inspectorate"), ("police", "police_liaison"))
SUPPORT_SCHOOL_ROLES = ("student_aid_officer", "counsellor")
SUPPORT_SEED = SEED + 1
# Home teaching (issue 11): one home teacher per school, named by a Faker of its own (names above stay).
HOME_SCHOOL_ROLES, HOME_SEED = ("home_teacher",), SEED + 2
ENROLLED, NOT_ENROLLED = 288, 12
# Share of children with each flag (a realistic minority; left-behind is the common one).
FLAG_RATES = (("poverty_alleviated", 0.08), ("subsistence_allowance", 0.05), ("disability", 0.02))
LEFT_BEHIND_RATE, MIGRANT_RATE, RETURNEE_RATE = 0.22, 0.05, 0.03
LOCAL_REGION = "440999"
MIGRANT_REGIONS = ("450999", "520999", "430999")   # 广西, 贵州, 湖南; county "99" is unassigned


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    org_unit: str


@dataclass
class DemoTown:
    created: bool
    accounts: list[DemoAccount] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)   # code -> full label (学校 + 班级)
    children: int = 0
    reason: str = ""


@dataclass(frozen=True)
class _Unit:
    code: str
    name: str
    kind: str
    parent: str | None
    label: str


def build_demo_town(session: Session, now: datetime) -> DemoTown:
    """Write the demo town in ``session`` (one transaction: the caller's)."""
    if session.scalar(select(func.count()).select_from(OrgUnit)) or \
            session.scalar(select(func.count()).select_from(User)):
        return DemoTown(created=False, reason="数据库已有单位或账号，未加载演示数据 (database not empty)")
    rng, fake = random.Random(SEED), Faker("zh_CN")
    fake.seed_instance(SEED)
    units = _units()
    for sort, unit in enumerate(units):
        # Parents come first in the list; the flush inserts in that order, so foreign keys hold.
        session.add(OrgUnit(code=unit.code, name=unit.name, kind=unit.kind, parent_code=unit.parent, sort=sort))
    session.flush()
    accounts = _accounts(units, fake)
    _add_accounts(session, accounts, now)
    children = _children(units, rng, fake, now)
    session.add_all(children)
    session.flush()
    return DemoTown(created=True, accounts=accounts, units={u.code: u.label for u in units},
                    children=len(children))


def school_year_start(today: date) -> date:
    """1 September of the school year ``today`` falls in (DOMAIN.md: the 2025-2026 plan)."""
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def _units() -> list[_Unit]:
    units = [_Unit(TOWN_CODE, TOWN_NAME, "town", None, TOWN_NAME)]
    for code, name, grades in SCHOOLS:
        units.append(_Unit(code, name, "school", TOWN_CODE, name))
        for grade, classes in grades.items():
            grade_code, grade_name = f"{code}-{grade}", f"{GRADE_NAMES[grade - 1]}年级"
            units.append(_Unit(grade_code, grade_name, "grade", code, f"{name}{grade_name}"))
            for number in range(1, classes + 1):
                units.append(_Unit(f"{grade_code}-{number}", f"{grade_name}{number}班", "class", grade_code,
                                   f"{name}{grade_name}{number}班"))
    # Teaching points belong to the central school; their pupils are on its registry.
    units += [_Unit(code, name, "teaching_point", "zx", f"蛟潭中心学校{name}") for code, name in TEACHING_POINTS]
    units += [_Unit(code, name, "village", TOWN_CODE, name) for code, name, _, _ in VILLAGES]
    return units


def _accounts(units: list[_Unit], fake: Faker) -> list[DemoAccount]:
    """One account per (role, org unit); two grid workers per village (door-to-door needs two)."""
    accounts = [DemoAccount(username, "系统管理员" if role == SYSTEM_ADMIN else fake.name(), role, TOWN_CODE)
                for username, role in FIXED_ACCOUNTS]
    later = Faker("zh_CN")
    later.seed_instance(SUPPORT_SEED)
    accounts += [DemoAccount(username, later.name(), role, TOWN_CODE) for username, role in SUPPORT_ACCOUNTS]
    for unit in units:
        if unit.kind == "school":
            accounts += [DemoAccount(f"{role}-{unit.code}", fake.name(), role, unit.code) for role in SCHOOL_ROLES]
            accounts += [DemoAccount(f"{role}-{unit.code}", later.name(), role, unit.code)
                         for role in SUPPORT_SCHOOL_ROLES]
        elif unit.kind == "class":
            accounts.append(DemoAccount(f"head_teacher-{unit.code}", fake.name(), "head_teacher", unit.code))
        elif unit.kind == "village":
            accounts += [DemoAccount(f"village_secretary-{unit.code}", fake.name(), "village_secretary", unit.code),
                         DemoAccount(f"grid_worker-{unit.code}", fake.name(), "grid_worker", unit.code),
                         DemoAccount(f"grid_worker-{unit.code}-2", fake.name(), "grid_worker", unit.code)]
    home = Faker("zh_CN")
    home.seed_instance(HOME_SEED)
    accounts += [DemoAccount(f"{role}-{unit.code}", home.name(), role, unit.code)
                 for unit in units if unit.kind == "school" for role in HOME_SCHOOL_ROLES]
    return accounts


def _add_accounts(session: Session, accounts: list[DemoAccount], now: datetime) -> None:
    # scrypt costs ~50 ms a hash: hash the shared demo password once, not ~90 times.
    # Demo only: the shared, published password bypasses ledger.passwords on purpose.
    shared_hash = hash_password(DEMO_PASSWORD)
    users = [User(username=a.username, display_name=a.display_name, active=True, password_hash=shared_hash,
                  created_at=now) for a in accounts]
    session.add_all(users)
    session.flush()
    session.add_all(RoleAssignment(user_id=user.id, role=a.role, org_unit_code=a.org_unit)
                    for user, a in zip(users, accounts))


def _children(units: list[_Unit], rng: random.Random, fake: Faker, now: datetime) -> list[Child]:
    """288 pupils spread over every class (each class gets some) and 12 children not enrolled."""
    classes = [u for u in units if u.kind == "class"]
    slots = classes * 6 + rng.choices(classes, k=ENROLLED - 6 * len(classes))
    start = school_year_start(now.date())
    used: set[str] = set()
    children = []
    for klass in sorted(slots, key=lambda u: u.code):
        school, grade = klass.code.split("-")[0], int(klass.code.split("-")[1])
        # Grade g in the year starting 1 Sept Y: six years old by 31 August of its first year.
        born = _day_between(rng, date(start.year - 6 - grade, 9, 1), date(start.year - 5 - grade, 8, 31))
        children.append(_child(rng, fake, used, born, now, school=school, klass=klass.code,
                               village=_home_village(rng, SCHOOL_AREA[school])))
    today = now.date()
    for n in range(NOT_ENROLLED):
        # Half are just of school age (应入未入); the rest never enrolled or left early.
        lo, hi = (6, 7) if n % 2 == 0 else (8, 15)
        born = _day_between(rng, _years_before(today, hi + 1) + timedelta(days=1), _years_before(today, lo))
        village = rng.choices(VILLAGES, weights=[v[3] for v in VILLAGES])[0][0]
        children.append(_child(rng, fake, used, born, now, school=None, klass=None, village=village,
                               status="not_enrolled", extra_disability=0.25))
    return children


def _home_village(rng: random.Random, area: str) -> str | None:
    """Mostly the school's catchment; a few from the other area or from outside the town."""
    roll = rng.random()
    if roll < 0.03:
        return None   # lives in a neighbouring town: village-lane tasks fall back to the deputy
    pool = [v for v in VILLAGES if (v[2] == area) != (roll < 0.08)]
    return rng.choices(pool, weights=[v[3] for v in pool])[0][0]


def _child(rng, fake, used, born, now, *, school, klass, village, status="enrolled", extra_disability=0.0) -> Child:
    male = rng.random() < 0.52
    surname = fake.last_name()
    name = surname + (fake.first_name_male() if male else fake.first_name_female())
    groups = []
    origin = rng.random()
    if origin < MIGRANT_RATE:
        groups.append("migrant")        # 外来务工人员子女: registered in another province
    elif origin < MIGRANT_RATE + RETURNEE_RATE:
        groups.append("returnee")       # 县域外回流
    if "migrant" not in groups and rng.random() < LEFT_BEHIND_RATE:
        groups.append("left_behind")    # parents work away: grandparents are the guardians
    groups += [flag for flag, rate in FLAG_RATES
               if rng.random() < rate + (extra_disability if flag == "disability" else 0)]
    region = rng.choice(MIGRANT_REGIONS) if "migrant" in groups else LOCAL_REGION
    number = _unique_id(rng, used, region, born, male)
    relation, guardian = _guardian(rng, fake, surname, "left_behind" in groups)
    return Child(name=name, gender="男" if male else "女", birth_date=born, id_number=number,
                 school_code=school, class_code=klass, village_code=village, guardian_name=guardian,
                 guardian_relation=relation, guardian_phone=_phone(rng), address=_address(rng, village),
                 hukou_place=_hukou(region, village), special_groups=",".join(groups), enrolment_status=status, created_at=now)


def _guardian(rng: random.Random, fake: Faker, surname: str, left_behind: bool) -> tuple[str, str]:
    relation = rng.choice(("祖父", "祖母", "外祖父", "外祖母") if left_behind else ("父亲", "父亲", "母亲"))
    if relation in ("父亲", "祖父"):
        return relation, surname + fake.first_name_male()
    given = fake.first_name_male() if relation == "外祖父" else fake.first_name_female()
    return relation, fake.last_name() + given


def _unique_id(rng: random.Random, used: set[str], region: str, born: date, male: bool) -> str:
    while True:
        number = idnumber.make(region, born, rng.randrange(500) * 2 + (1 if male else 0))
        if number not in used:
            used.add(number)
            return number


def _phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "135", "150", "187", "199")) + f"{rng.randrange(10**8):08d}"


def _hukou(region: str, village: str | None) -> str:
    """户籍地 (printed on the dropout report): a migrant's province, else the home village."""
    if region != LOCAL_REGION:
        return {"450999": "广西壮族自治区", "520999": "贵州省", "430999": "湖南省"}.get(region, "外省") + "（外省户籍）"
    name = next((v[1] for v in VILLAGES if v[0] == village), "石岭镇下洞村")
    return name if name.startswith("石岭") else f"{TOWN_NAME}{name}"


def _address(rng: random.Random, village: str | None) -> str:
    if village is None:
        return f"石岭镇下洞村{rng.randint(1, 9)}组{rng.randint(1, 80)}号"
    name = next(v[1] for v in VILLAGES if v[0] == village)
    if name.endswith("社区"):
        return f"{TOWN_NAME}{name}{rng.choice(('建设路', '人民路', '新华街'))}{rng.randint(1, 120)}号"
    if name.endswith("农场"):
        return f"{TOWN_NAME}{name}{rng.randint(1, 6)}队{rng.randint(1, 40)}号"
    return f"{TOWN_NAME}{name}{rng.randint(1, 12)}组{rng.randint(1, 60)}号"


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:   # 29 February
        return day.replace(year=day.year - years, day=28)
