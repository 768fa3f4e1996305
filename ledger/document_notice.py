"""《限期返校通知书》 and its 送达回证 as data (DOMAIN-REFERENCE §3.4, §5.1; issue 10 §6).

* Every law cited carries its article (``LAWS``): 义务教育法 arts. 5 ¶2, 11 ¶1 and 58 always,
  art. 14 ¶1 when the cause is work (``WORK_CAUSES``); 未成年人保护法 art. 16 (5); 家庭教育促进法
  art. 14.
* The facts paragraph is built from the recorded steps (``facts``): the first day absent, the
  count at the report, each recorded attempt with its date, the report's filing.
* The guardian's rights (administrative review within 60 days, a suit within 6 months), the
  contact person and phone, and whether the court may be asked to enforce: the issuing
  office's settings (``ledger.document_settings``). The signing official is the one the
  ``issue_notice`` step records.
* Known fields are filled in: the addressee is the guardian of the register and the place of
  service the child's address until the step records its own.
"""
from __future__ import annotations

from engine.calendar import add_working_days

from .document_case import Case, cn_date
from .document_settings import notice_settings

WORK_CAUSES = {"working_away", "child_labour"}
EDU_LAW = "《中华人民共和国义务教育法》"
LAWS = {
    "art5": (EDU_LAW, "第五条第二款", "适龄儿童、少年的父母或者其他法定监护人应当依法保证其按时入学接受并完成义务教育。"),
    "art11": (EDU_LAW, "第十一条第一款", "凡年满六周岁的儿童，其父母或者其他法定监护人应当送其入学接受并完成义务教育；"
              "条件不具备的地区的儿童，可以推迟到七周岁。"),
    "art14": (EDU_LAW, "第十四条第一款", "禁止用人单位招用应当接受义务教育的适龄儿童、少年。"),
    "art58": (EDU_LAW, "第五十八条", "适龄儿童、少年的父母或者其他法定监护人无正当理由未依照本法规定送适龄儿童、少年入学接受"
              "义务教育的，由当地乡镇人民政府或者县级人民政府教育行政部门给予批评教育，责令限期改正。"),
    "minors16": ("《中华人民共和国未成年人保护法》", "第十六条第五项", "未成年人的父母或者其他监护人应当履行下列监护职责：……"
                 "尊重未成年人受教育的权利，保障适龄未成年人依法接受并完成义务教育。"),
    "family14": ("《中华人民共和国家庭教育促进法》", "第十四条", "父母或者其他监护人应当……承担对未成年人实施家庭教育的主体责任。"),
}
METHOD_VERBS = {"phone_call": "电话联系监护人", "home_visit": "到家中家访", "village_check": "入户核实",
                "joint_persuasion": "开展镇村校联合劝返", "legal_education": "对监护人开展法治教育"}


def notice(case: Case, report: dict | None, *, draft: bool = False) -> dict:
    """{notice_no, signer, recipient, served_at, first_absence, absent_days, deadline,
    deadline_computed, facts, laws: [{law, article, text}], rights, contact, phone,
    court_enforcement, issuer, issued_on, service: {method, served_on, recipient, place,
    witness, refusal_note}}; dates as 2025年10月17日. A ``draft`` (issue_notice still open)
    leaves the notice's own fields blank but fills what is known. ``report``: the confirmed
    report (``ledger.document_report.report``) or None."""
    issued = {"submitted": {}} if draft else case.latest("issue_notice")
    got = issued["submitted"]
    data = case.engine.runtime.variables(case.instance_id)
    deadline, computed = (None if draft else data.get("return_deadline")), False
    if not deadline and got.get("notice_served_on"):
        deadline, computed = add_working_days(got["notice_served_on"], 3), True   # as the postScript does
    child, rules = case.row or {}, notice_settings()
    recipient = got.get("notice_recipient") or (child.get("guardian_name") or "")
    place = got.get("notice_served_at") or (child.get("address") or "")
    cause = (report or {}).get("cause_code") or data.get("cause")
    laws = [k for k in ("art5", "art11", "art14", "art58", "minors16", "family14")
            if k != "art14" or cause in WORK_CAUSES]
    return {"notice_no": got.get("notice_no", ""), "signer": got.get("notice_signer", ""),
            "recipient": recipient, "first_absence": cn_date(data.get("first_absence")),
            "absent_days": (report or {}).get("absent_days"), "deadline": cn_date(deadline),
            "deadline_computed": computed, "facts": facts(case, report, data, upto=issued.get("seq")),
            "laws": [dict(zip(("law", "article", "text"), LAWS[k])) for k in laws],
            "rights": f"你如对本通知不服，可以自收到本通知书之日起六十日内向{rules.review_body}申请行政复议，"
                      "也可以自收到本通知书之日起六个月内依法向人民法院提起行政诉讼。",
            "contact": rules.contact, "phone": rules.phone, "court_enforcement": rules.court_enforcement,
            "issuer": case.issuer(), "issued_on": cn_date(got.get("notice_issued_on")),
            "service": {"method": case.title(issued, "notice_service_method") if not draft else "",
                        "served_on": cn_date(got.get("notice_served_on")), "recipient": recipient, "place": place,
                        "witness": got.get("notice_witness", ""), "refusal_note": got.get("notice_refusal_note", "")}}


def facts(case: Case, report: dict | None, data: dict, *, upto: int | None = None) -> str:
    """The facts paragraph, from what the case recorded (never a fixed sentence), beginning
    with the predicate of the notice's first sentence ("系<school><class>学生，…"): since when
    the child is away, the count at the report, each attempt with its date and what came of
    it (those completed before audit sequence ``upto``: the notice's own step), and the
    report's filing with its number."""
    child = case.child()
    # The paragraph continues the notice's first words, "你的被监护人<name>（…）": its own first
    # clause is the predicate (the review: "…身份证号…）。" was a sentence without one).
    who = f"系{child.get('school', '')}{child.get('class_name', '')}学生"
    since = cn_date(data.get("first_absence"))
    absent = (report or {}).get("absent_days")
    lines = [who + "，" + (f"自{since}起无正当理由未到校上课" if since else "无正当理由未到校上课")
             + (f"，至学校填报辍学情况报告单时已连续缺课{absent}个教学日。" if absent else "。")]
    for a in case.attempts(before=upto):
        said = "，".join(p for p in (a.attitude_title and f"监护人{a.attitude_title}", a.result) if p)
        lines.append(f"{cn_date(a.on)}，{a.people or '工作人员'}{METHOD_VERBS.get(a.element_id, a.measure)}"
                     + (f"（{said}）" if said else "") + "；")
    if report and report.get("report_no"):
        lines.append(f"{report.get('sent_on') or report.get('filed_on')}，学校将《义务教育阶段学生辍学情况报告单》"
                     f"（{report['report_no']}）报送本机关。")
    lines.append("经学校、村（社区）多次劝返，该生至今仍未返校。")
    return "".join(lines)
