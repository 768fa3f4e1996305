"""The server's access log keeps names out (issue 8): ``baoxue serve`` (real gunicorn) logs
each request's method, path and status, never its query string nor its Referer."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from urllib.parse import quote

from api.settings import ROOT

NAME = "张小明"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, **headers) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def _wait_until_up(base: str, server: subprocess.Popen) -> None:
    """Poll /healthz until gunicorn answers (no fixed sleep: it is up when it answers)."""
    for _ in range(600):
        if server.poll() is not None:
            raise AssertionError(f"the server stopped: {server.stdout.read()}")
        try:
            if _get(f"{base}/healthz") == 200:
                return
        except OSError:
            pass
        try:
            server.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
    raise AssertionError("the server never answered /healthz")


def test_the_access_log_has_paths_and_statuses_but_no_query_strings(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BAOXUE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
           "BAOXUE_SECRET_KEY": "log-test", "PYTHONPATH": str(ROOT)}
    # /healthz answers 200 only on a migrated database.
    subprocess.run([sys.executable, "-m", "api.cli", "init"], env=env, cwd=tmp_path, check=True, capture_output=True)
    server = subprocess.Popen([sys.executable, "-c", f"from api.server import serve; serve('127.0.0.1', {port}, 1, False)"],
                              env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_until_up(base, server)
        query = quote(NAME)
        assert _get(f"{base}/api/v1/inbox?q={query}") == 401
        assert _get(f"{base}/login?next=/inbox%3Fq%3D{query}", Referer=f"{base}/inbox?q={query}") == 200
    finally:
        server.terminate()
        log = server.communicate(timeout=60)[0]
    assert '"GET /api/v1/inbox HTTP/1.1" 401' in log and '"GET /login HTTP/1.1" 200' in log
    assert query not in log and NAME not in log and "q=" not in log and "next=" not in log
