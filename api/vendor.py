"""Browser libraries installed from npm, served by the app (no CDN: a deployment may be offline).

``GET /vendor/bpmn-js/<name>`` answers one file of ``node_modules/bpmn-js/dist/`` (the
package's ready browser builds, which need no bundler), named by its path inside ``dist/``
so that the stylesheets' relative ``../font/...`` references resolve. Only the files in
``BPMN_JS_FILES`` are served: any other name, ``..`` included, is a 404 without touching the
disk. A listed file that is missing (``make install`` has not run ``npm ci``) is a 404 whose
text says so. The files change only with package-lock.json, so browsers may cache them a day.

``GET /vendor/echarts/echarts.min.js``: ECharts' browser build (``node_modules/echarts/dist/``),
for the figures' charts (/dashboard); the same allow-list rule.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Response, send_file

from .settings import ROOT

log = logging.getLogger(__name__)

BPMN_JS_DIST = ROOT / "node_modules" / "bpmn-js" / "dist"
ECHARTS_DIST = ROOT / "node_modules" / "echarts" / "dist"
ECHARTS_FILES = frozenset({"echarts.min.js"})

# The viewer and modeler bundles and what their pages link: bpmn-js's and diagram-js's CSS and
# the BPMN icon font (bpmn.css loads the fonts from ../font/).
BPMN_JS_FILES = frozenset({
    "bpmn-navigated-viewer.production.min.js",
    "bpmn-navigated-viewer.development.js",
    "bpmn-modeler.production.min.js",
    "assets/diagram-js.css",
    "assets/bpmn-js.css",
    "assets/bpmn-font/css/bpmn.css",
    "assets/bpmn-font/css/bpmn-embedded.css",
    "assets/bpmn-font/font/bpmn.woff2",
    "assets/bpmn-font/font/bpmn.woff",
    "assets/bpmn-font/font/bpmn.ttf",
    "assets/bpmn-font/font/bpmn.eot",
    "assets/bpmn-font/font/bpmn.svg",
})

bp = Blueprint("vendor", __name__)


@bp.get("/vendor/bpmn-js/<path:name>")
def bpmn_js(name: str):
    """One allow-listed file of bpmn-js's ``dist/`` (see the module docstring).

    404 ``text/plain`` for a name not in the list, or for a listed file not installed."""
    return _serve("bpmn-js", BPMN_JS_DIST, BPMN_JS_FILES, name)


@bp.get("/vendor/echarts/<path:name>")
def echarts(name: str):
    """ECharts' browser build (module docstring); 404 as for bpmn-js."""
    return _serve("echarts", ECHARTS_DIST, ECHARTS_FILES, name)


def _serve(package: str, dist: Path, allowed: frozenset, name: str):
    if name not in allowed:
        return _not_found(f"不提供此文件 (not served): {name}")
    path: Path = dist / name
    if not path.is_file():
        log.warning("%s asset missing: %s (run make install)", package, path)
        return _not_found(f"前端组件未安装，请运行 make install ({package} not installed: {name})")
    response = send_file(path, max_age=86400)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _not_found(text: str) -> Response:
    return Response(text + "\n", status=404, mimetype="text/plain")
