"""The roles of DOMAIN.md ("Organisations and roles"): codes, Chinese names, scope kinds.

The code is what a BPMN lane is named; the scope kind says which org unit of a case a
task in that lane goes to (the child's class, school, village, or the town).
``admin`` is the system administrator, not a domain role: no lane may use it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    code: str
    name_zh: str
    scope: str  # town | school | class | village | county


ROLES: tuple[Role, ...] = (
    Role("task_force_leader", "专班组长", "town"),
    Role("task_force_deputy", "专班副组长", "town"),
    Role("livelihood_office", "镇民生服务办", "town"),
    Role("town_government", "镇政府", "town"),
    Role("judicial_office", "镇司法所", "town"),
    Role("discipline_inspector", "镇纪委/联合督查组", "town"),
    Role("disabled_persons_federation", "镇残联", "town"),
    Role("civil_affairs", "民政", "town"),
    # Contacts the town refers a case to (issue 10 §5): they see a child only through their tasks.
    Role("labour_inspectorate", "劳动保障监察联络员", "town"),
    Role("police_liaison", "派出所联络民警", "town"),
    Role("principal", "校长", "school"),
    Role("moral_education_office", "德育处", "school"),
    Role("student_aid_officer", "学生资助专干", "school"),
    Role("counsellor", "心理辅导教师", "school"),
    Role("head_teacher", "班主任", "class"),
    Role("registrar", "学籍管理员", "school"),
    # Teaches disabled children at home (送教上门, processes/home_teaching.bpmn): visits of the plan.
    Role("home_teacher", "送教教师", "school"),
    Role("village_secretary", "村（场、社区）书记", "village"),
    Role("grid_worker", "网格员", "village"),
    Role("county_bureau", "县教育局", "county"),
)

ROLE_BY_CODE = {role.code: role for role in ROLES}
LANE_ROLES = frozenset(ROLE_BY_CODE)
SYSTEM_ADMIN = "admin"
