"""A persuasion case driven to its documents, shared by the document tests: child 1 of the
test town (张小明, 三年级1班, 蛟潭村) with a guardian, address, 户籍地 in the register,
present on Friday 26 September 2025 and away from Monday 29 September."""
from __future__ import annotations

import json
import re

from sqlalchemy import select, update

from ledger.accounts import create_user
from ledger.models import AccessLog, Child
from tests.api.town import PASSWORD
from tests.web.conftest import sign_in

from .forms_data import CALL, CONFIRM, NOTICE, RECEIPT, REPORT, VILLAGE, VISIT
from .harness import P, U

FULL_ID = "44010120160501001X"
MASKED_ID = "440101************"   # ledger.privacy.mask_id: the region code only
REPORT_URL = "/instances/{}/documents/dropout-report"
NOTICE_URL = "/instances/{}/documents/return-notice"


def register(town) -> None:
    """What the register knows of child 1 (the notice fills it in), and a county bureau reader."""
    with town.engine.db.transaction() as session:
        session.execute(update(Child).where(Child.id == 1).values(
            guardian_name="张建国", guardian_relation="父亲", guardian_phone="13800001234",
            address="蛟潭镇蛟潭村3组12号", hukou_place="蛟潭镇蛟潭村"))
        create_user(session, "county", "县教育局张科长", PASSWORD, now=town.clock(), roles=[("county_bureau", "town")])


def school_and_village_fail(town) -> int:
    """Present Fri 09-26; away from Mon 09-29: the call on day 1, the home visit on day 3
    (09 October, after the National Day holiday), the village check on day 4; day 5 is the
    make-up Saturday 11 October."""
    register(town)
    town.report("2025-09-26", {1: P})
    town.report_days("2025-09-29", "2025-09-29", {1: U})
    town.complete("ht31", "phone_call", CALL)
    town.report_days("2025-09-30", "2025-10-09", {1: U})
    town.complete("ht31", "home_visit", VISIT)
    town.report_days("2025-10-10", "2025-10-10", {1: U})
    town.complete("vsjt", "village_check", VILLAGE)
    town.report_days("2025-10-11", "2025-10-11", {1: U})
    return town.case(1).id


def confirmed(town) -> int:
    """The report filed Monday 13 October and confirmed Thursday 16 October."""
    case_id = school_and_village_fail(town)
    town.at("2025-10-13", 9)
    town.complete("ht31", "dropout_report", {**REPORT, "report_suggestion": "请镇政府督促监护人送子女返校"})
    town.at("2025-10-16", 9)
    town.complete("pzx", "confirm_report", {**CONFIRM, "report_sent_on": "2025-10-16"})
    return case_id


def served(town, **notice) -> int:
    """... received by the town on the 16th, the notice served on Friday 17 October."""
    case_id = confirmed(town)
    town.complete("town", "receive_report", {**RECEIPT, "receipt_on": "2025-10-16"})
    town.at("2025-10-17", 9)
    town.complete("town", "issue_notice", {**NOTICE, "notice_issued_on": "2025-10-17", "notice_served_on": "2025-10-17",
                                           "notice_witness": "村书记王某", **notice})
    return case_id


def browser(town, username: str):
    client = town.app.test_client()
    response = sign_in(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def page(client, url: str) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def text_of(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def print_part(body: str) -> str:
    """The A4 article of a document page, as text."""
    return text_of(body[body.index('<article class="doc'):])


def views(town, child_id: int = 1) -> list[tuple[str, str, dict]]:
    with town.engine.db.read() as session:
        rows = session.scalars(select(AccessLog).where(AccessLog.subject == f"child:{child_id}").order_by(AccessLog.id))
        return [(r.username, r.action, json.loads(r.detail)) for r in rows
                if "document" in json.loads(r.detail or "{}")]


def task_page(town, client, username: str, element_id: str) -> str:
    status, body = page(client, f"/tasks/{town.task(username, element_id)['task_id']}")
    assert status == 200, body
    return body
