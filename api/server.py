"""Run the app under gunicorn (several workers) with a timer worker process beside it."""
from __future__ import annotations

import atexit
import subprocess
import sys

from gunicorn.app.base import BaseApplication

# gunicorn's default line logs the request line ("%(r)s", with the query string) and the
# Referer, and both can carry a child's name (GET /api/v1/inbox?q=张小明). This one logs the
# path without its query (%(U)s) and no Referer: issue 8, names stay out of logs.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'


class _Gunicorn(BaseApplication):
    def __init__(self, options):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .app import create_app
        return create_app()


def serve(host: str, port: int, workers: int, timer_worker: bool = True) -> None:
    """Block serving http://host:port; Ctrl-C stops the server and the timer worker."""
    if timer_worker:
        child = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"])
        atexit.register(child.terminate)
    _Gunicorn({"bind": f"{host}:{port}", "workers": workers, "threads": 8,
               "worker_class": "gthread", "timeout": 60, "accesslog": "-",
               "access_log_format": ACCESS_LOG_FORMAT}).run()
