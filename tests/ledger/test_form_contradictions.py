"""Contradictory answers are refused naming the field, in Chinese (issue 11 review): an end
time not after the start time (``x-after``: a home-teaching visit, a plan's visiting hours),
a guardian recorded absent yet named and signed (a visit), a guardian not reached yet
answering the phone (a persuasion call). The real form files, the engine's validation with
the messages the pages show (``ledger.form_messages``)."""
from __future__ import annotations

import json
from datetime import date

import pytest

from api.settings import ROOT
from engine.errors import InvalidInput
from engine.runtime.formvalidation import validate_form
from ledger.form_messages import form_message
from tests.processes.forms_data import CALL, UNREACHED
from tests.processes.test_home_teaching import PLAN, visit

TODAY = date(2025, 10, 21)
VARIABLES = {"visit_slot": "2025-10-21", "plan_from": "2025-10-20", "committee_on": "2025-10-16",
             "norm_visits_per_month": 2, "norm_periods_per_visit": 2}


def errors(form: str, data: dict) -> dict:
    schema = json.loads((ROOT / "forms" / f"{form}.schema.json").read_text(encoding="utf-8"))
    try:
        validate_form(schema, data, form_message, today=TODAY, variables=VARIABLES)
    except InvalidInput as exc:
        return exc.errors
    return {}


ABSENT = {k: v for k, v in visit("2025-10-21").items() if not k.startswith("visit_guardian")}


@pytest.mark.parametrize(("form", "data", "expected"), [
    ("ht_visit", visit("2025-10-21"), {}),
    ("ht_visit", {**visit("2025-10-21"), "visit_start": "17:00", "visit_end": "15:00"},
     {"visit_end": "应晚于开始时间（17:00）"}),
    ("ht_visit", {**visit("2025-10-21"), "visit_start": "15:00", "visit_end": "15:00"},
     {"visit_end": "应晚于开始时间（15:00）"}),
    ("ht_visit", {**ABSENT, "visit_guardian_present": False}, {}),
    ("ht_visit", {**ABSENT, "visit_guardian_present": False, "visit_guardian_name": "张大山",
                  "visit_guardian_confirmed": True},
     {"visit_guardian_name": "监护人不在场，不能填写在场监护人姓名",
      "visit_guardian_confirmed": "监护人不在场，不能有监护人签名确认"}),
    ("ht_plan", PLAN, {}),
    ("ht_plan", {**PLAN, "plan_visit_start": "16:30", "plan_visit_end": "15:00"},
     {"plan_visit_end": "应晚于送教开始时间（16:30）"}),
    ("phone_call", CALL, {}),
    ("phone_call", UNREACHED, {}),
    ("phone_call", {**UNREACHED, "call_met": "父亲", "call_attitude": "supportive"},
     {"call_met": "未联系上监护人，不能填写接听人",
      "call_attitude": "未联系上监护人，监护人态度应选“未见到（未联系上）监护人”"}),
])
def test_contradictory_answers_are_refused_naming_the_field(form, data, expected):
    assert errors(form, data) == expected


def test_the_date_order_still_reads_as_before():
    assert errors("ht_plan", {**PLAN, "plan_until": "2025-10-19"}) == {"plan_until": "不能早于计划开始日期（2025-10-20）"}
