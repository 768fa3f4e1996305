"""A small town for API tests: one school with two classes, two villages, users per role."""
from __future__ import annotations

from datetime import date

from ledger.accounts import create_user
from ledger.models import Child, OrgUnit

PASSWORD = "pw-for-tests"

UNITS = [
    ("town", "蛟潭镇", "town", None), ("zx", "蛟潭中心学校", "school", "town"),
    ("zx-3", "三年级", "grade", "zx"), ("zx-3-1", "三年级1班", "class", "zx-3"),
    ("zx-3-2", "三年级2班", "class", "zx-3"), ("fg", "福港学校", "school", "town"),
    ("fg-1", "一年级", "grade", "fg"), ("fg-1-1", "一年级1班", "class", "fg-1"),
    ("v-jt", "蛟潭村", "village", "town"), ("v-fg", "福港村", "village", "town"),
]
USERS = {
    "ht31": [("head_teacher", "zx-3-1")], "ht32": [("head_teacher", "zx-3-2")],
    "ht11": [("head_teacher", "fg-1-1")], "pzx": [("principal", "zx")], "pfg": [("principal", "fg")],
    "regzx": [("registrar", "zx")], "vsjt": [("village_secretary", "v-jt")],
    "vsfg": [("village_secretary", "v-fg")], "leader": [("task_force_leader", "town")],
    "deputy": [("task_force_deputy", "town")], "inspector": [("discipline_inspector", "town")],
    "town": [("town_government", "town")], "admin": [("admin", "town")],
}
CHILDREN = {  # id: (name, class, school, village)
    1: ("张小明", "zx-3-1", "zx", "v-jt"), 2: ("李红", "zx-3-2", "zx", "v-fg"),
    3: ("王芳芳", "fg-1-1", "fg", "v-fg"), 4: ("赵无校", None, None, "v-jt"),
}


def build_town(engine) -> None:
    now = engine.clock()
    with engine.db.transaction() as session:
        for code, name, kind, parent in UNITS:
            session.add(OrgUnit(code=code, name=name, kind=kind, parent_code=parent))
        session.flush()
        for username, roles in USERS.items():
            create_user(session, username, username.upper(), PASSWORD, now=now, roles=roles)
        for child_id, (name, klass, school, village) in CHILDREN.items():
            session.add(Child(id=child_id, name=name, gender="男", birth_date=date(2016, 5, child_id),
                              id_number=f"44010120160501{child_id:03d}X"[:18], class_code=klass,
                              school_code=school, village_code=village, created_at=now))


def token(client, username: str) -> dict:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}
