"""The town's organisation from a file: the town, its schools (grades, classes, teaching
points) and its villages, for an installation that is not the demo (DOMAIN.md
"Organisations and roles": tasks go to the holders of a role in the child's class, school or
village, so these units must exist before anyone can be granted a role).

The file is JSON, checked with jsonschema before anything is written::

    {"town": {"code": "jt", "name": "蛟潭镇"},
     "schools": [{"code": "zx", "name": "蛟潭中心学校",
                  "grades": [{"grade": 1, "classes": 3}, ...],
                  "teaching_points": [{"code": "zx-tp1", "name": "坑口教学点"}]}],
     "villages": [{"code": "v-jiaotan", "name": "蛟潭村"}]}

Grades and classes get the codes the demo uses (``zx-1``, ``zx-1-2``) and names
(``一年级``, ``一年级2班``). Loading again is safe: units already there keep their code
and are renamed if the file renames them; a unit whose kind or parent the file would
change, or a second town, is refused (moving units would move the tasks and children they
hold). Units missing from the file are left alone.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import jsonschema
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput

from .form_messages import form_message
from .models import OrgUnit

GRADE_NAMES = "一二三四五六七八九"
_CODE = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}
_NAME = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": r"^[^<>\x00-\x1f]+$"}
_UNIT = {"type": "object", "required": ["code", "name"], "additionalProperties": False,
         "properties": {"code": _CODE, "name": _NAME}}
SCHEMA = {
    "type": "object", "required": ["town"], "additionalProperties": False,
    "properties": {
        "town": _UNIT,
        "schools": {"type": "array", "maxItems": 200, "items": {
            "type": "object", "required": ["code", "name"], "additionalProperties": False,
            "properties": {
                "code": _CODE, "name": _NAME,
                "grades": {"type": "array", "maxItems": 9, "items": {
                    "type": "object", "required": ["grade", "classes"], "additionalProperties": False,
                    "properties": {"grade": {"type": "integer", "minimum": 1, "maximum": 9},
                                   "classes": {"type": "integer", "minimum": 1, "maximum": 40}}}},
                "teaching_points": {"type": "array", "maxItems": 50, "items": _UNIT}}}},
        "villages": {"type": "array", "maxItems": 500, "items": _UNIT},
    },
}


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)     # codes
    renamed: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)         # in the database, not in the file: left alone


def units_from(document: dict) -> list[tuple[str, str, str, str | None]]:
    """``[(code, name, kind, parent_code)]``, parents before children. Raises InvalidInput
    ({json path: reason}) when the document breaks the schema or repeats a code."""
    problems = dict(_problem(error) for error in jsonschema.Draft202012Validator(SCHEMA).iter_errors(document))
    if not problems:
        problems = _unreadable_names(document)
    if problems:
        raise InvalidInput("单位文件格式有误 (organisation file is not valid)", errors=problems)
    town = document["town"]
    units = [(town["code"], town["name"], "town", None)]
    for school in document.get("schools", []):
        units.append((school["code"], school["name"], "school", town["code"]))
        for grade in school.get("grades", []):
            number = grade["grade"]
            grade_code, grade_name = f"{school['code']}-{number}", f"{GRADE_NAMES[number - 1]}年级"
            units.append((grade_code, grade_name, "grade", school["code"]))
            units += [(f"{grade_code}-{n}", f"{grade_name}{n}班", "class", grade_code)
                      for n in range(1, grade["classes"] + 1)]
        units += [(tp["code"], tp["name"], "teaching_point", school["code"]) for tp in school.get("teaching_points", [])]
    units += [(v["code"], v["name"], "village", town["code"]) for v in document.get("villages", [])]
    seen: dict[str, int] = {}
    repeated = {}
    for index, (code, *_rest) in enumerate(units):
        if code in seen:
            repeated[code] = "单位代码重复 (code used twice; grade and class codes are <school>-<grade>[-<class>])"
        seen[code] = index
    if repeated:
        raise InvalidInput("单位代码重复 (repeated codes)", errors=repeated)
    return units


def _unreadable_names(document: dict) -> dict[str, str]:
    """Names a person could not read or would misread: blank, or with invisible format
    characters (zero-width spaces, a right-to-left override that reverses the page header)."""
    named = [("town", document["town"])]
    for i, school in enumerate(document.get("schools", [])):
        named.append((f"schools/{i}", school))
        named += [(f"schools/{i}/teaching_points/{j}", tp) for j, tp in enumerate(school.get("teaching_points", []))]
    named += [(f"villages/{i}", village) for i, village in enumerate(document.get("villages", []))]
    problems = {}
    for path, unit in named:
        name = unit["name"]
        if not name.strip() or any(unicodedata.category(c) in ("Cf", "Zl", "Zp") for c in name) \
                or name != name.strip():
            problems[f"{path}/name"] = "名称不能为空，不能以空格开头或结尾，不能含不可见的格式字符"
    return problems


def _problem(error: jsonschema.ValidationError) -> tuple[str, str]:
    """(place in the file, Chinese reason): ``schools/0/code``, ``代码只能用…``."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        path.append(next((name for name in error.validator_value if name not in error.instance), ""))
    elif error.validator == "pattern" and path and path[-1] == "code":
        return "/".join(path), "代码只能用小写字母、数字和连字符，以字母或数字开头，最长 63 个字符"
    elif error.validator == "pattern":
        return "/".join(path), "名称不能含 < > 或控制字符"
    return "/".join(path) or "(文件)", form_message(error)


def load_org_units(session: Session, document: dict) -> LoadResult:
    """Create or rename the units of ``document`` in the caller's transaction (all or
    nothing). Raises InvalidInput for a bad document, a second town, or a unit whose kind or
    parent would change."""
    units = units_from(document)
    existing = {u.code: u for u in session.scalars(select(OrgUnit))}
    towns = [u.code for u in existing.values() if u.kind == "town" and u.parent_code is None]
    if towns and towns != [units[0][0]]:
        raise InvalidInput("已有另一个镇 (another town exists)",
                           errors={"town/code": f"数据库中的镇是 {towns[0]}，一个安装只管理一个镇"})
    conflicts = {code: f"已存在的单位是{existing[code].kind}（上级 {existing[code].parent_code}），不能改为"
                       f"{kind}（上级 {parent}）"
                 for code, _name, kind, parent in units
                 if code in existing and (existing[code].kind, existing[code].parent_code) != (kind, parent)}
    if conflicts:
        raise InvalidInput("单位的类型或上级不能改变 (a unit cannot change kind or parent)", errors=conflicts)
    result = LoadResult()
    for sort, (code, name, kind, parent) in enumerate(units):
        unit = existing.get(code)
        if unit is None:
            session.add(OrgUnit(code=code, name=name, kind=kind, parent_code=parent, sort=sort))
            session.flush()    # parents first: the next unit's foreign key holds
            result.created.append(code)
        elif unit.name != name:
            unit.name = name
            result.renamed.append(code)
        else:
            result.unchanged += 1
    listed = {code for code, *_ in units}
    result.kept = sorted(code for code in existing if code not in listed)
    return result
