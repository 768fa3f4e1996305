"""The fields of the child register (适龄儿童少年底数台账, DOMAIN-REFERENCE §3.1): one list.

Each field says its Chinese label, its group (who keeps it: ``access.register_fields_for``),
its kind (how ``ledger.register`` checks a new value) and its mask (how a page, a REST answer
and the change history show it: ``ledger.privacy``). Codes are English glossary names stored
in the column; the labels are what the ledgers print.

Groups (DOMAIN.md "Ledgers" and roles):

* ``identity`` 身份: kept by the school's registry (学籍) and the village's census alike;
* ``school`` 就学: school, class, 学籍号, place of study — the school (registrar, principal);
* ``residence`` 户籍与监护: household, addresses, guardians — the child's village (secretary);
* ``census`` 状态与核查: 就学状态, special groups, risk, verification — both the school and
  the village mark them (DOMAIN.md "Ledgers": the census marks status, special groups, risk).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .case_outcomes import STATUSES
from .privacy import mask_id, mask_name, mask_phone, mask_registry_number


def mask_birth_date(value: str | None) -> str:
    """A birth date shows its year only (pages show the age, DOMAIN-REFERENCE §7.2 item 1)."""
    return f"{value[:4]}-**-**" if value else ""


# Flags of ``Child.special_groups`` (a comma list). DOMAIN-REFERENCE §3.1 "Special groups";
# ``returnee`` (县域外回流) is DOMAIN.md's sixth special group.
SPECIAL_GROUPS = {
    "disability": "残疾", "orphan": "孤儿", "no_effective_guardian": "事实无人抚养",
    "left_behind": "留守儿童", "hardship": "困境儿童", "migrant": "随迁子女（外来务工人员子女）",
    "returnee": "县域外回流", "poverty_alleviated": "脱贫户", "monitored_household": "防返贫监测户",
    "subsistence_allowance": "低保", "extreme_poverty": "特困供养", "no_hukou": "无户籍",
    "juvenile_case": "涉案未成年人", "single_parent": "单亲"}
DISABILITY_TYPES = {"visual": "视力残疾", "hearing": "听力残疾", "speech": "言语残疾", "physical": "肢体残疾",
                    "intellectual": "智力残疾", "mental": "精神残疾", "multiple": "多重残疾"}
DISABILITY_GRADES = {"1": "一级", "2": "二级", "3": "三级", "4": "四级"}
RISK_LEVELS = {"none": "无", "low": "低", "medium": "中", "high": "高"}
RISK_FACTORS = {"dislikes_school": "厌学", "learning_difficulty": "学业困难", "family_finances": "家庭经济",
                "working_away": "外出务工", "early_marriage": "早婚", "internet_addiction": "网络沉迷",
                "illness": "疾病", "no_guardian": "监护缺失"}
VERIFY_METHODS = {"home_visit": "入户", "phone": "电话", "registry_match": "学籍比对",
                  "proof_elsewhere": "在外就读证明"}
STUDY_PLACES = {"local": "本地", "other_county": "县外省内", "out_of_province": "省外"}
HUKOU_TYPES = {"agricultural": "农业户口", "non_agricultural": "非农业户口", "resident": "居民户口"}
# 父母务工情况: how many parents work away (→ 留守 0/1/2).
PARENTS_WORK = {"none": "父母均在家", "one": "一方外出务工", "both": "父母均外出务工"}
GENDERS = {"男": "男", "女": "女"}
STATUS_CHOICES = {code: s.label for code, s in STATUSES.items()}


@dataclass(frozen=True)
class RegisterField:
    name: str              # the Child column
    label: str             # 中文
    group: str             # identity | school | residence | census
    kind: str = "text"     # text | phone | date | choice | flags | org | id_number | registry
    max_len: int = 64
    choices: dict = field(default_factory=dict)
    org_kind: str | None = None      # for kind "org": the org unit kind the code must name
    required: bool = False           # may not be cleared
    mask: object = None              # a privacy mask for the shown value


def _f(name, label, group, kind="text", **kw) -> RegisterField:
    return RegisterField(name, label, group, kind, **kw)


FIELDS: dict[str, RegisterField] = {f.name: f for f in (
    _f("name", "姓名", "identity", max_len=64, required=True, mask=mask_name),
    _f("gender", "性别", "identity", "choice", choices=GENDERS, required=True),
    _f("birth_date", "出生日期", "identity", "date", required=True, mask=mask_birth_date),
    _f("id_number", "身份证号", "identity", "id_number", required=True, mask=mask_id),
    _f("ethnicity", "民族", "identity", max_len=16),
    _f("school_code", "就读学校", "school", "org", org_kind="school"),
    _f("class_code", "班级", "school", "org", org_kind="class"),
    _f("registry_no", "学籍号", "school", "registry", max_len=32, mask=mask_registry_number),
    _f("study_place", "就读地", "school", "choice", choices=STUDY_PLACES),
    _f("village_code", "村（社区）", "residence", "org", org_kind="village"),
    _f("village_group", "村民小组/网格", "residence", max_len=64),
    _f("household_no", "户编号", "residence", max_len=32),
    _f("hukou_place", "户口所在地", "residence", max_len=255),
    _f("hukou_type", "户口性质", "residence", "choice", choices=HUKOU_TYPES),
    _f("address", "现居住地", "residence", max_len=255),
    _f("guardian_name", "监护人姓名", "residence", mask=mask_name),
    _f("guardian_relation", "监护人与本人关系", "residence", max_len=16),
    _f("guardian_phone", "监护人电话", "residence", "phone", mask=mask_phone),
    _f("guardian2_name", "第二监护人姓名", "residence", mask=mask_name),
    _f("guardian2_relation", "第二监护人与本人关系", "residence", max_len=16),
    _f("guardian2_phone", "第二监护人电话", "residence", "phone", mask=mask_phone),
    _f("parents_work", "父母务工情况", "residence", "choice", choices=PARENTS_WORK),
    _f("carer", "实际照护人", "residence", mask=mask_name),
    _f("enrolment_status", "就学状态", "census", "choice", choices=STATUS_CHOICES, required=True),
    _f("special_groups", "特殊群体", "census", "flags", choices=SPECIAL_GROUPS),
    _f("disability_type", "残疾类别", "census", "choice", choices=DISABILITY_TYPES),
    _f("disability_grade", "残疾等级", "census", "choice", choices=DISABILITY_GRADES),
    # A disability certificate number is the ID number plus two digits: masked as an ID.
    _f("disability_certificate", "残疾证号", "census", max_len=24, mask=mask_id),
    _f("risk_level", "辍学风险等级", "census", "choice", choices=RISK_LEVELS),
    _f("risk_factors", "风险因素", "census", "flags", choices=RISK_FACTORS),
    _f("verify_method", "核查方式", "census", "choice", choices=VERIFY_METHODS),
    _f("verified_by", "核查人", "census", max_len=64),
    _f("verified_on", "核查日期", "census", "date"),
)}
GROUPS = {"identity": "身份", "school": "就学", "residence": "户籍与监护", "census": "状态与核查"}
FIELDS_OF_GROUP = {g: frozenset(f.name for f in FIELDS.values() if f.group == g) for g in GROUPS}


def shown(name: str, value: str | None) -> str:
    """A stored (text) value as pages and REST answers show it: masked where the field is
    sensitive, a code as its Chinese label, flags as labels joined by 、."""
    spec = FIELDS.get(name)
    if value in (None, "") or spec is None:
        return value or ""
    if spec.mask is not None:
        return spec.mask(value)
    if spec.kind == "flags":
        return "、".join(spec.choices.get(v, v) for v in value.split(",") if v)
    if spec.kind == "choice":
        return spec.choices.get(value, value)
    return value
