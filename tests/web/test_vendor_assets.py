"""bpmn-js is served by the app from node_modules (issue 13, 14: no CDN, the deployment may be offline)."""
from __future__ import annotations

import pytest

from api import vendor
from api.app import create_app
from api.settings import Settings

VIEWER = "/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"


@pytest.fixture
def client(tmp_path):
    """The files need no database: the app on an empty SQLite file, never migrated."""
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path / 'v.db'}", var_dir=tmp_path, secret_key="t")
    app = create_app(settings)
    yield app.test_client()
    app.extensions["baoxue.engine"].close()


def test_the_viewer_script_is_served_from_node_modules(client):
    response = client.get(VIEWER)
    assert response.status_code == 200, "node_modules/bpmn-js missing: run make install"
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert b"bpmn-navigated-viewer" in response.data[:200]
    assert "public" in response.headers["Cache-Control"]


def test_the_stylesheets_and_their_font_resolve_under_the_same_prefix(client):
    css = client.get("/vendor/bpmn-js/assets/bpmn-font/css/bpmn.css")
    assert css.status_code == 200 and b"../font/bpmn.woff2" in css.data
    assert client.get("/vendor/bpmn-js/assets/bpmn-font/font/bpmn.woff2").status_code == 200
    assert client.get("/vendor/bpmn-js/assets/bpmn-js.css").status_code == 200


@pytest.mark.parametrize("name", ["../package.json", "assets/../../package.json", "index.js",
                                  "%2e%2e/%2e%2e/bpmn-moddle/package.json"])
def test_a_file_outside_the_list_is_a_404(client, name):
    response = client.get(f"/vendor/bpmn-js/{name}")
    assert response.status_code == 404
    assert b"bpmn-js" not in response.data and b'"name"' not in response.data


def test_a_listed_file_not_installed_is_a_404_that_says_so(client, monkeypatch, tmp_path):
    monkeypatch.setattr(vendor, "BPMN_JS_DIST", tmp_path / "missing")
    response = client.get(VIEWER)
    assert response.status_code == 404
    assert "make install" in response.get_data(as_text=True)
