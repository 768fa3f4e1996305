"""Dates that must follow what the case already knows are refused beside the field, on REST
and on the task page, and nothing is stored (issue 17 "Forms check what the record already
knows"; ``x-notBefore`` with case variables ``$name``)."""
from __future__ import annotations

from tests.web.conftest import csrf_token, sign_in

from .forms_data import REGISTRY, STRIKE
from .harness import P
from .test_persuasion import through_notice


def refused(town, username, element_id, data) -> dict:
    task = town.task(username, element_id)
    response = town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers(username),
                                json={"data": data})
    assert response.status_code == 422, response.json
    return response.json["errors"]


def test_restoration_and_strike_off_cannot_precede_the_return(scenario):
    town = scenario
    case = through_notice(town)
    town.report("2025-10-13", {1: P})                              # back after the notice
    assert refused(town, "regzx", "restore_registry", {**REGISTRY, "done_on": "2025-10-12"}) == {
        "done_on": "不能早于返校日期（2025-10-13）"}

    # The task page says the same beside the field and stores nothing.
    page = town.app.test_client()
    assert sign_in(page, "regzx").status_code == 302
    task = town.task("regzx", "restore_registry")
    answer = page.post(f"/tasks/{task['task_id']}", data={
        "registry_action": "restore", "done_on": "2025-10-12", "confirmed_in_system": "true",
        "csrf_token": csrf_token(page, "/inbox")})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "不能早于返校日期（2025-10-13）" in html
    assert town.names("regzx") == ["restore_registry"]
    assert "restore_registry" not in [e.element_id for e in town.audit(case.id, "task_completed")]

    town.complete("regzx", "restore_registry", {**REGISTRY, "done_on": "2025-10-13"})
    town.at("2025-10-15")
    assert refused(town, "livelihood", "strike_off", {**STRIKE, "struck_off_on": "2025-10-12"}) == {
        "struck_off_on": "不能早于学籍恢复日期（2025-10-13）"}
    town.complete("livelihood", "strike_off", {**STRIKE, "struck_off_on": "2025-10-14"})
    assert town.names("livelihood") == []
