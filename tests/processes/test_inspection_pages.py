"""What the inspector and the leader see of a quarterly round (issue 13): the inspection task's
page shows the unit's figures and sampled cases (REST and web), the inbox names the unit, the
notice is a printable page, and a principal sees only their own unit's part."""
from __future__ import annotations

import json

from tests.web.conftest import sign_in

from .harness import P, U
from .inspection_case import complete_for, findings, start, unit_task


def _page(town, username, path):
    client = town.app.test_client()
    assert sign_in(client, username).status_code == 302
    return client.get(path)


def test_the_inspectors_task_shows_figures_and_samples(scenario):
    town = scenario
    town.report("2025-09-29", {1: U, 2: P})                  # a case of the central school (and of 蛟潭村)
    case = town.case(1)
    town.at("2025-09-30", 9)
    opened = start(town)
    task = unit_task(town, "inspector", "inspect_unit", "蛟潭中心学校")
    assert task["org_unit"] == "town" and task["party"]["label"] == "蛟潭中心学校"
    view = town.client.get(f"/api/v1/inspections/tasks/{task['task_id']}", headers=town.headers("inspector")).json
    assert view["unit"] == "zx" and view["round_ref"] == "2025Q3"
    assert view["figures"]["cases_opened"] == 1 and view["figures"]["cases_open"] == 1
    assert view["figures"]["attendance_missing"] > 0          # the test town reported only on 09-29
    assert [s["instance_id"] for s in view["samples"]] == [case.id] and view["samples"][0]["child"] == "张*明"
    again = town.client.get(f"/api/v1/inspections/tasks/{task['task_id']}", headers=town.headers("inspector")).json
    assert again["samples"] == view["samples"]                 # the same sample every time
    html = _page(town, "inspector", f"/tasks/{task['task_id']}").get_data(as_text=True)
    assert "督查对象" in html and "本季度新增劝返案件" in html and f'href="/instances/{case.id}"' in html
    assert "督查对象：蛟潭中心学校" in _page(town, "inspector", "/inbox").get_data(as_text=True)
    # Failings: the leader's approval task links the drafted notice.
    complete_for(town, "inspector", "inspect_unit", "蛟潭中心学校",
                 findings("2025-09-30", {"records": "家访记录缺监护人签字"}))
    approval = unit_task(town, "leader", "approve_notice", "蛟潭中心学校")
    page = _page(town, "leader", f"/tasks/{approval['task_id']}").get_data(as_text=True)
    notice_url = f"/instances/{opened['instance_id']}/inspection/notice/zx"
    assert notice_url in page
    notice = _page(town, "leader", notice_url).get_data(as_text=True)
    assert "关于对蛟潭中心学校控辍保学工作的通报批评" in notice and "家访记录缺监护人签字" in notice and "草稿" in notice
    assert "督查〔2025〕3-" in notice and "〕zx" not in notice          # a document number, no internal code
    word = _page(town, "leader", notice_url + ".docx")
    assert word.status_code == 200 and word.data[:2] == b"PK"
    complete_for(town, "leader", "approve_notice", "蛟潭中心学校", {"notice_decision": "approve"})
    issued = _page(town, "leader", notice_url).get_data(as_text=True)   # kept as issued, its hash on the chain
    sealed = [e for e in town.engine.history.events(opened["instance_id"]) if e.kind == "document_sealed"]
    assert len(sealed) == 1 and json.loads(sealed[0].data)["sha256"] in issued and "草稿" not in issued
    assert town.engine.history.verify_chain(opened["instance_id"]).ok
    # The principal sees their notice, not the round's summary nor another unit's notice.
    assert _page(town, "pzx", notice_url).status_code == 200
    assert _page(town, "pzx", f"/instances/{opened['instance_id']}/inspection/summary").status_code == 404
    assert _page(town, "pfg", notice_url).status_code == 404
    rectify = unit_task(town, "pzx", "rectify", "蛟潭中心学校")
    page = _page(town, "pzx", f"/tasks/{rectify['task_id']}").get_data(as_text=True)
    assert "家访记录缺监护人签字" in page and "福港学校" not in page
    summary = _page(town, "leader", f"/instances/{opened['instance_id']}/inspection/summary").get_data(as_text=True)
    assert "季度控辍保学督查总结报告" in summary and "蛟潭中心学校" in summary
    assert "发起督查" in _page(town, "leader", "/inspections").get_data(as_text=True)
