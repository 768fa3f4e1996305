"""Administrators suspend, resume and terminate a case on the pages (a reason and the
confirmation box required), and nobody else reaches those pages."""
from __future__ import annotations

from engine.tasks import TaskQuery
from tests.diagrams import linear_process, user_task

from .conftest import csrf_token

ONE = linear_process("one_step", user_task("only", name="唯一步骤"))


def _case(town):
    engine = town.extensions["baoxue.engine"]
    engine.repository.deploy({"one.bpmn": ONE.encode()}, actor="admin")
    return engine, engine.runtime.start("one_step", {}).instance_id


def test_the_administrator_suspends_resumes_and_terminates(browser, town):
    engine, case = _case(town)
    admin = browser("admin")
    page = admin.get(f"/instances/{case}/migrate").get_data(as_text=True)
    assert "本案件已在最新版本" in page and "暂停" in page and "终止" in page and "恢复" not in page
    token = csrf_token(admin, f"/instances/{case}/migrate")

    def act(action, **form):
        return admin.post(f"/instances/{case}/{action}", data={"csrf_token": token, "back": "migrate", **form})

    unconfirmed = act("suspend", reason="家长申请", confirm="")
    assert unconfirmed.status_code == 422 and "请勾选确认框" in unconfirmed.get_data(as_text=True)
    no_reason = act("suspend", reason=" ", confirm="1")
    assert no_reason.status_code == 422 and "请填写原因" in no_reason.get_data(as_text=True)
    assert engine.runtime.get(case).status == "active"
    response = act("suspend", reason="家长申请暂缓", confirm="1")
    assert response.headers["Location"].endswith(f"/instances/{case}/migrate")
    assert engine.runtime.get(case).status == "suspended"
    page = admin.get(f"/instances/{case}/migrate").get_data(as_text=True)
    assert "案件已暂停" in page and "恢复" in page
    act("resume", reason="核实", confirm="1")
    assert engine.runtime.get(case).status == "active"
    act("terminate", reason="重复立案", confirm="1")
    assert engine.runtime.get(case).status == "terminated"
    kinds = [e.kind for e in engine.history.events(case)]
    assert kinds.count("instance_suspended") == 1 and "instance_terminated" in kinds


def test_others_are_refused(browser, town):
    engine, case = _case(town)
    leader = browser("leader")
    assert leader.get(f"/instances/{case}/migrate").status_code == 403
    assert leader.get("/processes/one_step/migrate").status_code == 403
    token = csrf_token(leader, "/inbox")
    assert leader.post(f"/instances/{case}/suspend", data={"csrf_token": token, "reason": "x",
                                                           "confirm": "1"}).status_code == 403
    assert engine.runtime.get(case).status == "active"


def test_a_suspended_cases_task_page_says_so_and_refuses_the_form(browser, town):
    """The task's own person reads why nothing can be done (tryout finding: the page said
    they were not the task's person), and a forced submission is a 409 that changes nothing."""
    engine = town.extensions["baoxue.engine"]
    process = linear_process("one_step", user_task("only", name="唯一步骤"), lanes={"town_government": ["only"]})
    engine.repository.deploy({"one.bpmn": process.encode()}, actor="admin")
    case = engine.runtime.start("one_step", {}).instance_id
    (task,) = engine.tasks.list(TaskQuery(instance_id=case))[0]
    engine.lifecycle.suspend(case, "核实情况", actor="admin")
    clerk = browser("town")
    page = clerk.get(f"/tasks/{task.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "本案件已由系统管理员暂停" in text and "不是它的办理人" not in text
    forced = clerk.post(f"/tasks/{task.id}", data={"csrf_token": csrf_token(clerk, f"/tasks/{task.id}")})
    assert forced.status_code == 409 and "本案件已由系统管理员暂停" in forced.get_data(as_text=True)
    assert engine.tasks.get(task.id).status == "open"
