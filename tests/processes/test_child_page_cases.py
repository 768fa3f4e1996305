"""The child page lists the child's closed cases too: outcome, dates and a link to each case
page for those who may trace it (issue 17 "The case history must read like a file")."""
from __future__ import annotations

import re

from tests.web.conftest import sign_in

from .forms_data import CALL
from .harness import P
from .test_persuasion import start_case


def child_page(town, username: str) -> str:
    client = town.app.test_client()
    assert sign_in(client, username).status_code == 302
    response = client.get("/children/1")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def closed_section(html: str) -> str:
    return re.search(r'<section class="panel" id="closed-cases">(.*?)</section>', html, re.S).group(1)


def test_a_closed_case_is_listed_with_its_outcome_dates_and_link(scenario):
    town = scenario
    case = start_case(town)                                   # Mon 09-29, day 1
    assert "没有已结的劝返案件" in closed_section(child_page(town, "ht31"))
    town.complete("ht31", "phone_call", CALL)
    town.report("2025-09-30", {1: P})
    town.pass_until("2025-10-22", 8)                          # the watch ends: 劝返成功（未辍学）
    assert town.case(1).status == "completed"

    section = closed_section(child_page(town, "ht31"))        # worked its call: may trace it
    assert f'<a href="/instances/{case.id}">案件 {case.id}</a>' in section
    assert "2025-09-29" in section and "2025-10-22" in section and "劝返成功（未辍学）" in section
    assert "没有进行中的劝返案件" in child_page(town, "ht31")

    # The child's village secretary traces the village's cases (issue 13 "Access"); the moral-education
    # office sees the child, has no task in the case and heads no unit: listed without a link.
    village = closed_section(child_page(town, "vsjt"))
    assert f'href="/instances/{case.id}"' in village
    moral = closed_section(child_page(town, "moral"))
    assert f"案件 {case.id}" in moral and f'href="/instances/{case.id}"' not in moral
