"""The task page: what it shows, who sees it, and submitting the form as the REST API would."""
from __future__ import annotations

import re

from ledger.accounts import create_user

from .conftest import csrf_token

GOOD = {"visited_on": "2025-03-04", "reason": "family", "attitude": "support", "contacted": "false",
        "family_size": "5", "distance_km": "2.5", "supports": ["lunch", "transport"],
        "summary": "见到母亲，同意下周一返校", "confirmed": "true"}


def submit(browser, task_id, data):
    return browser.post(f"/tasks/{task_id}", data={**data, "csrf_token": csrf_token(browser, "/inbox")})


def test_the_page_shows_instructions_case_and_every_widget_kind(browser, home_visit):
    task_id = home_visit()
    response = browser("ht31").get(f"/tasks/{task_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<strong>3 日内</strong>" in html and "<script>alert" not in html and "&lt;script&gt;" in html
    assert "张小明</a>，男" in html and "班主任 三年级1班" in html       # the candidate's view
    assert "流程启动" in html and "认领此任务" in html
    assert re.search(r'<input type="date" id="f-visited_on" name="visited_on"', html)
    assert re.search(r'<select id="f-reason" name="reason"', html) and '<option value="family">家庭困难</option>' in html
    assert re.search(r'<input type="radio" name="attitude" value="support"', html)
    assert re.search(r'<input type="radio" name="contacted" value="true"\s*> 是', html)
    assert re.search(r'<input type="radio" name="contacted" value="false"\s*> 否', html)
    assert re.search(r'<input type="number" inputmode="numeric" id="f-family_size" name="family_size" value="" '
                     r'step="1" min="1" max="20"', html)
    assert re.search(r'<input type="number" inputmode="decimal" id="f-distance_km"[^>]*step="any"', html)
    assert re.search(r'<input type="checkbox" name="supports" value="transport"\s*> 交通帮扶', html)
    assert re.search(r'<textarea id="f-summary" name="summary" rows="4" maxlength="500"', html)
    assert "写明见到谁、谈了什么" in html and "与学生的关系请写在家访情况中" in html
    assert re.search(r'<input type="text" id="f-contact_name" name="contact_name"', html)
    assert re.search(r'<input type="checkbox" name="confirmed" value="true"[^>]*> 以上情况属实', html)
    assert html.index('name="visited_on"') < html.index('name="reason"') < html.index('name="contact_name"') \
        < html.index('name="confirmed"')
    assert '家访日期<span class="required"' in html and '监护人姓名<span class="required"' not in html


def test_a_missing_required_field_comes_back_with_the_chinese_error_and_the_entered_values(town, browser, home_visit):
    task_id = home_visit()
    ht31 = browser("ht31")
    response = submit(ht31, task_id, {**GOOD, "summary": "", "family_size": "2.5", "confirmed": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="field-summary">.*?<p class="error" id="e-summary" role="alert">此项为必填项</p>', html, re.S)
    assert re.search(r'id="field-family_size">.*?<p class="error"[^>]*>请填写整数</p>', html, re.S)
    assert re.search(r'id="field-confirmed">.*?<p class="error"[^>]*>请确认此项</p>', html, re.S)
    assert 'value="2025-03-04"' in html and '<option value="family" selected>' in html
    assert re.search(r'name="contacted" value="false" checked', html)
    assert re.search(r'name="supports" value="lunch" checked', html)
    assert re.search(r'name="supports" value="subsidy">', html)
    assert 'name="family_size" value="2.5"' in html
    assert town.extensions["baoxue.engine"].tasks.get(task_id).status == "open"


def test_a_good_submit_hands_over_to_the_village_and_a_second_one_conflicts(town, browser, home_visit, as_user, client):
    task_id = home_visit()
    ht31 = browser("ht31")
    response = submit(ht31, task_id, GOOD)
    assert response.status_code == 302 and response.location == "/inbox"
    inbox = ht31.get("/inbox").get_data(as_text=True)
    assert "已提交。已转交: 村（场、社区）书记 蛟潭村" in inbox and task_id not in inbox
    again = submit(ht31, task_id, GOOD)
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "此任务已办结（由 HT31 提交），无需再次提交" in html and 'class="task-form"' not in html
    # the village secretary's task, with the head teacher's answers typed as the schema says
    vsjt = browser("vsjt")
    follow = re.search(r'href="/tasks/([^"]+)">村书记跟进', vsjt.get("/inbox").get_data(as_text=True)).group(1)
    data = client.get(f"/api/v1/tasks/{follow}", headers=as_user("vsjt")).json["data"]
    assert data["family_size"] == 5 and data["distance_km"] == 2.5 and data["contacted"] is False
    assert data["supports"] == ["lunch", "transport"] and data["confirmed"] is True and "contact_name" not in data
    page = vsjt.get(f"/tasks/{follow}").get_data(as_text=True)
    assert "办结：班主任家访" in page and "班主任 三年级1班 · HT31（ht31）" in page
    assert re.search(r'<button type="submit" class="button">完成</button>', page)
    done = submit(vsjt, follow, {})
    assert done.status_code == 302
    assert "已提交。此案件已办结。" in vsjt.get("/inbox").get_data(as_text=True)


def test_someone_outside_the_scope_gets_a_chinese_404(browser, home_visit):
    task_id = home_visit()
    for path in (f"/tasks/{task_id}", "/tasks/no-such-task"):
        response = browser("ht32").get(path)
        assert response.status_code == 404 and "任务不存在，或您无权查看此任务" in response.get_data(as_text=True)
    ht32 = browser("ht32")
    assert submit(ht32, task_id, GOOD).status_code == 404
    assert ht32.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_token(ht32, "/inbox")}).status_code == 404


def test_a_supervisor_reads_the_task_but_gets_no_form(browser, home_visit):
    task_id = home_visit()
    html = browser("pzx").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "班主任家访" in html and 'class="task-form"' not in html and "不是它的办理人" in html
    assert "认领此任务" not in html


def test_claim_release_and_a_colleagues_claim_blocks_the_submit(town, browser, home_visit):
    engine = town.extensions["baoxue.engine"]
    with engine.db.transaction() as session:
        create_user(session, "ht31b", "副班主任", "pw-for-tests", now=engine.clock(),
                    roles=[("head_teacher", "zx-3-1")])
    task_id = home_visit()
    ht31, colleague = browser("ht31"), browser("ht31b")
    claimed = ht31.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_token(ht31, "/inbox")})
    assert claimed.status_code == 302 and claimed.location == f"/tasks/{task_id}"
    page = ht31.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "已认领此任务" in page and "已由 HT31 认领" in page and "释放认领" in page
    assert engine.tasks.get(task_id).assignee == "ht31"
    blocked = submit(colleague, task_id, GOOD)
    assert blocked.status_code == 409 and "该任务已由 HT31 认领" in blocked.get_data(as_text=True)
    colleague.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_token(colleague, "/inbox")})
    assert "该任务已由 HT31 认领" in colleague.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert engine.tasks.get(task_id).assignee == "ht31"
    released = ht31.post(f"/tasks/{task_id}/unclaim", data={"csrf_token": csrf_token(ht31, "/inbox")})
    assert released.status_code == 302 and engine.tasks.get(task_id).assignee is None
    assert submit(colleague, task_id, GOOD).status_code == 302
