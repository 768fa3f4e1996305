"""The case page's diagram (issue 13 "One case"): api/static/trace_diagram.js with bpmn-js from
node_modules, in Debian's Chromium at 360 px, under the pages' CSP.

A test-only Flask app renders the partial api/templates/_trace_diagram.html and answers the
three endpoints of its contract (diagram-state, bpmn, element-runs) with a fixture: a persuasion
case that went round the leader's loop twice (gw_round and persuade ran twice) through a
lawful exit (the called process lawful_exit, entered), is back at school, waits for the strike-off
and has an overdue oversight.
"""
from __future__ import annotations

import json
import threading

import pytest
from flask import Flask, abort, jsonify, render_template_string, request
from playwright.sync_api import expect
from werkzeug.serving import make_server

from api.settings import ROOT
from api.vendor import bp as vendor
from api.web import PAGE_HEADERS

BASE = "/api/v1/process-instances/5"
STATE = {
    "instance_id": 5, "process_id": "persuasion", "version": 3,
    "processes": {
        "persuasion": {
            "bpmn_url": f"{BASE}/bpmn?process=persuasion",
            "elements": {
                "start": {"runs": 1, "state": "completed"}, "open_case": {"runs": 1, "state": "completed"},
                "gw_round": {"runs": 2, "state": "completed"}, "persuade": {"runs": 2, "state": "completed"},
                "on_lawful_exit": {"runs": 1, "state": "completed"},
                "take_lawful_exit": {"runs": 1, "state": "completed"},
                "handle_lawful_exit": {"runs": 1, "state": "completed"},
                "gw_exit_outcome": {"runs": 1, "state": "completed"},
                "resume_persuasion": {"runs": 1, "state": "completed"},
                "on_returned": {"runs": 1, "state": "completed"}, "mark_returned": {"runs": 1, "state": "completed"},
                "gw_reported": {"runs": 1, "state": "completed"}, "returned_event": {"runs": 1, "state": "completed"},
                "restore_registry": {"runs": 1, "state": "completed"},
                "strike_off": {"runs": 1, "state": "active"},
                "strike_off_oversee": {"runs": 1, "state": "overdue"},
            },
            "flows": ["f_start", "f_opened", "f_persuade", "f_lawful_exit", "f_lawful_exit_taken", "f_exit_handled",
                      "f_exit_continues", "f_resumed", "f_returned", "f_to_stage", "f_after_report", "f_to_registry",
                      "f_restored", "f_strike_off_overdue"],
        },
        "lawful_exit": {
            "bpmn_url": f"{BASE}/bpmn?process=lawful_exit",
            "elements": {"start": {"runs": 1, "state": "completed"}, "gw_cause": {"runs": 1, "state": "completed"},
                         "illness_plan": {"runs": 1, "state": "error"}},
            "flows": [],
        },
    },
    "calls": {"handle_lawful_exit": "lawful_exit"},
    "recorded_since": "2026-12-01T02:00:00+00:00",
}
FILES = {"persuasion": "persuasion.bpmn", "lawful_exit": "lawful_exit.bpmn"}
RUNS = {
    "strike_off": {"element_id": "strike_off", "name": "销号", "runs": [
        {"task_id": 41, "ready_at": "2026-11-20T01:00:00+00:00", "completed_at": "2026-11-21T03:30:00+00:00",
         "actor": "registrar-zx", "actor_name": "李学籍", "role_name": "学籍管理员", "org_unit_name": "中心小学",
         "due_at": "2026-11-25T09:00:00+00:00", "met": True,
         "fields": [{"label": "销号日期", "value": "2026-11-21"}, {"label": "备注", "value": "<b>已复学</b>"}]},
        {"task_id": 57, "ready_at": "2026-11-28T01:00:00+00:00", "completed_at": None,
         "actor": None, "actor_name": None, "role_name": "学籍管理员", "org_unit_name": "中心小学",
         "due_at": "2026-11-30T09:00:00+00:00", "met": False, "fields": []},
    ]},
}
PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{{ url_for('static', filename='baoxue.css') }}"></head>
<body><main>{% with diagram_state_url = state_url %}{% include "_trace_diagram.html" %}{% endwith %}</main></body></html>"""


def fixture_app() -> Flask:
    """The partial and its endpoints, nothing else (no database, no login)."""
    app = Flask("trace_fixture", template_folder=str(ROOT / "api" / "templates"),
                static_folder=str(ROOT / "api" / "static"))
    app.register_blueprint(vendor)
    app.config["RUNS_ASKED"] = []

    @app.get("/case")
    def case():
        return render_template_string(PAGE, state_url=f"{BASE}/diagram-state")

    @app.get("/viewer")
    def viewer():
        return render_template_string('<!doctype html><html><head><meta charset="utf-8"></head><body>'
                                      '<div id="c" style="width:1200px;height:800px"></div>'
                                      '<script src="/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"></script>'
                                      '</body></html>')

    @app.get("/favicon.ico")
    def favicon():
        return "", 204

    @app.get(f"{BASE}/diagram-state")
    def state():
        return jsonify(STATE)

    @app.get(f"{BASE}/bpmn")
    def bpmn():
        name = FILES.get(request.args.get("process", "")) or request.args.get("file")
        if name not in {p.name for p in (ROOT / "processes").glob("*.bpmn")}:
            abort(404)
        return (ROOT / "processes" / name).read_text(encoding="utf-8"), 200, {"Content-Type": "application/xml"}

    @app.get(f"{BASE}/element-runs")
    def element_runs():
        app.config["RUNS_ASKED"].append(dict(request.args))
        return jsonify(RUNS.get(request.args["element"], {"element_id": request.args["element"], "name": "", "runs": []}))

    @app.after_request
    def csp(response):
        if response.mimetype == "text/html" and request.path == "/case":
            response.headers.update(PAGE_HEADERS)   # the case page's own policy
        return response

    return app


@pytest.fixture
def fixture_url():
    app = fixture_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()


def open_case(page, url):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{url}/case")
    expect(page.locator("[data-trace-diagram]")).to_have_attribute("data-ready", "true")
    return problems


def stroke(page, element_id):
    return page.evaluate("""(id) => {
        const visual = document.querySelector(`.td-canvas [data-element-id="${id}"] .djs-visual > :is(rect, circle, polygon, path)`);
        return getComputedStyle(visual).stroke; }""", element_id)


def test_the_case_diagram_shows_the_path_taken_with_counts_and_a_legend(chromium, fixture_url):
    url, _ = fixture_url
    page = chromium.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN")
    problems = open_case(page, url)

    completed = page.locator('.td-canvas g.djs-element[data-element-id="open_case"]')
    expect(completed).to_have_class(lambda_has("td-completed"))
    assert stroke(page, "open_case") == "rgb(46, 125, 50)"
    expect(page.locator('g.djs-element[data-element-id="f_start"]')).to_have_class(lambda_has("td-taken"))
    assert stroke(page, "f_start") == "rgb(21, 101, 192)"
    assert stroke(page, "f_cleared") == "rgb(34, 36, 42)"   # not taken: bpmn-js's own colour
    expect(page.locator('g.djs-element[data-element-id="strike_off"]')).to_have_class(lambda_has("td-active"))
    expect(page.locator('g.djs-element[data-element-id="strike_off_oversee"]')).to_have_class(lambda_has("td-overdue"))
    expect(page.locator('.djs-overlays[data-container-id="persuade"] .td-badge')).to_have_text("2")
    expect(page.locator('.djs-overlays[data-container-id="gw_round"] .td-badge')).to_have_text("2")
    expect(page.locator('.djs-overlays[data-container-id="open_case"] .td-badge')).to_have_count(0)
    expect(page.locator(".td-legend")).to_contain_text("已完成")
    for label in ("已走路径", "待办", "已逾期", "出错"):
        expect(page.locator(".td-legend")).to_contain_text(label)
    expect(page.locator(".td-note")).to_contain_text("2026-12-01 10:00 之前走过的连线未记录")
    assert problems == []


def lambda_has(cls):
    import re
    return re.compile(rf"(^|\s){cls}(\s|$)")


def click_element(page, element_id):
    """Click an element as a person would: bring it into view at a readable zoom first."""
    page.evaluate("""(id) => { const v = document.querySelector('[data-trace-diagram]').traceDiagram.viewer;
        const c = v.get('canvas'); c.zoom(1); c.scrollToElement(v.get('elementRegistry').get(id)); }""", element_id)
    # Near the top left corner: a flow may pass over a shape's middle (layout.mjs routes simply).
    page.locator(f'.td-canvas g.djs-element[data-element-id="{element_id}"] .djs-hit').first.click(
        position={"x": 12, "y": 8})


def test_clicking_an_element_lists_its_runs_below_the_diagram_at_360px(chromium, fixture_url):
    url, app = fixture_url
    page = chromium.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN")
    problems = open_case(page, url)

    click_element(page, "strike_off")
    runs = page.locator(".td-panel .td-run")
    expect(runs).to_have_count(2)
    expect(page.locator(".td-panel .td-title")).to_have_text("销号")
    first = runs.nth(0)
    expect(first).to_contain_text("2026-11-20 09:00 → 2026-11-21 11:30")
    expect(first).to_contain_text("李学籍")
    expect(first).to_contain_text("学籍管理员 中心小学")
    expect(first).to_contain_text("2026-11-25 17:00（按期）")
    expect(first).to_contain_text("销号日期")
    expect(first.locator(".td-fields dd").nth(1)).to_have_text("<b>已复学</b>")   # shown as text, never markup
    expect(runs.nth(1)).to_contain_text("尚未完成")
    expect(runs.nth(1).locator(".td-late")).to_contain_text("逾期")
    assert app.config["RUNS_ASKED"] == [{"process": "persuasion", "element": "strike_off"}]

    canvas = page.locator(".td-canvas").bounding_box()
    panel = page.locator(".td-panel").bounding_box()
    assert panel["y"] >= canvas["y"] + canvas["height"]    # the panel goes below at 360 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    click_element(page, "clear_case")   # never reached: no request, a plain answer
    expect(page.locator(".td-panel")).to_contain_text("本案未经过此环节")
    assert len(app.config["RUNS_ASKED"]) == 1
    assert problems == []


def test_a_called_process_opens_in_place_and_the_breadcrumb_leads_back(chromium, fixture_url):
    url, _ = fixture_url
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    problems = open_case(page, url)
    section = page.locator("[data-trace-diagram]")
    expect(page.locator(".td-crumbs")).to_be_hidden()

    click_element(page, "strike_off")
    expect(page.locator(".td-panel .td-run")).to_have_count(2)
    click_element(page, "handle_lawful_exit")
    expect(section).to_have_attribute("data-process", "lawful_exit")
    expect(page.locator(".td-panel .td-run")).to_have_count(0)   # the runs shown were of the other process
    expect(page.locator('g.djs-element[data-element-id="illness_plan"]')).to_have_class(lambda_has("td-error"))
    assert stroke(page, "illness_plan") == "rgb(106, 27, 154)"
    expect(page.locator(".td-crumbs .td-here")).to_have_text("依法不能到校")   # the called process's name
    page.locator(".td-crumbs button", has_text="三级劝返").click()
    expect(section).to_have_attribute("data-process", "persuasion")
    expect(page.locator('.djs-overlays[data-container-id="persuade"] .td-badge')).to_have_text("2")
    expect(page.locator(".td-panel")).to_be_visible()   # the panel (1280 px: beside the diagram)
    assert page.locator(".td-panel").bounding_box()["x"] > page.locator(".td-canvas").bounding_box()["x"] + 300

    # The sub-process drills down in place (bpmn-js's own plane and breadcrumb).
    page.locator('.djs-overlays[data-container-id="persuade"] .bjs-drilldown').click()
    expect(page.locator(".bjs-breadcrumbs")).to_contain_text("三级劝返")
    assert problems == []


def test_the_coloured_svg_for_the_printed_trace(chromium, fixture_url):
    url, _ = fixture_url
    page = chromium.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN")
    problems = open_case(page, url)
    svg = page.evaluate("""async () => { const m = await import('/static/trace_diagram.js');
        return m.coloredSvg(document.querySelector('[data-trace-diagram]')); }""")
    assert svg.lstrip().startswith("<svg") or "<svg" in svg[:400]
    assert "#2e7d32" in svg.lower() or "rgb(46, 125, 50)" in svg       # completed
    assert "#1565c0" in svg.lower() or "rgb(21, 101, 192)" in svg       # the path taken
    assert "×2" in svg                                                  # the run counts, drawn in
    assert 'data-element-id="p_persuasion"' in svg                       # the main plane, with the pool
    assert problems == []


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "processes").glob("*.bpmn")))
def test_every_process_opens_in_the_navigated_viewer_without_warnings(chromium, fixture_url, name):
    """Every process's DI is what bpmn-js needs: no import warning but SpiffWorkflow's
    data references by name (loopDataInputRef="staff"), which are not DI."""
    url, _ = fixture_url
    page = chromium.new_page(viewport={"width": 1200, "height": 800})
    page.goto(f"{url}/viewer")
    result = page.evaluate("""async (name) => {
        const viewer = new BpmnJS({container: '#c'});
        const xml = await (await fetch('/api/v1/process-instances/5/bpmn?file=' + name)).text();
        const {warnings} = await viewer.importXML(xml);
        const canvas = viewer.get('canvas');
        return {warnings: warnings.map(w => w.message), planes: canvas.getRootElements().map(r => r.id),
                shapes: viewer.get('elementRegistry').getAll().length};
    }""", name)
    assert [w for w in result["warnings"] if not w.startswith("unresolved reference <")] == []
    assert result["shapes"] > 5
    assert json.dumps(result["planes"])
