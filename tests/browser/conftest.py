"""Browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright, against a live server.

Never a downloaded browser. With ``BAOXUE_TEST_CHROMIUM`` set (CI) a missing browser is a
failure; without it the browser tests are skipped on machines that lack Chromium.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from api.app import create_app
from api.settings import ROOT, Settings

CHROMIUM = os.environ.get("BAOXUE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("BAOXUE_TEST_CHROMIUM"):
            pytest.fail(f"Chromium not found at {CHROMIUM} (CI must install Debian's chromium)")
        pytest.skip("Chromium not installed: browser tests run in CI (.ci/run)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app(tmp_path):
    """A served app on a fresh SQLite database with the test town and processes/ deployed."""
    from tests.api.town import build_town
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path / 'live.db'}", var_dir=tmp_path,
                                 secret_key="browser-test")
    app = create_app(settings)
    engine = app.extensions["baoxue.engine"]
    engine.migrate()
    build_town(engine)
    engine.repository.deploy_paths([ROOT / "processes"], actor="admin")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    engine.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@contextmanager
def served_town(tmp_path, name: str):
    """A scenario town (``tests.processes.harness.Town``, its clock fixed) with processes/
    deployed, served live on a free port: yields ``(town, base URL)``; the server stops and
    the engine closes when the block ends."""
    from api.wiring import build_engine
    from tests.processes.harness import Town
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path / name}", var_dir=tmp_path,
                                 secret_key="browser-test")
    town = Town.build(settings, build_engine, create_app)
    town.engine.repository.deploy_paths([ROOT / "processes"], actor="admin")
    server = make_server("127.0.0.1", 0, town.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield town, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        town.engine.close()
