"""kill -9 during a burst of class reports (issue 8, fault 2): no absence is ever without its case.

A real server (``baoxue serve --no-worker``, gunicorn, 2 processes) on PostgreSQL takes
``--reports`` concurrent attendance reports (``--per-report`` children each, all absent
without leave, today or the last school day) and is killed with SIGKILL (its whole process
group) ``--kill-after`` seconds after the first report is stored. The script counts the children recorded
absent with no open case right after the kill, runs ``baoxue worker`` for a few seconds
(recovery), counts again, then re-sends every report and counts again (re-sending must
neither lose nor duplicate anything). Exit 1 unless the last two counts are 0 and no child
has two open cases.

    .venv/bin/python -m tests.stress.killnine [--pg URL] [--reports 23] [--per-report 4]
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from api.settings import ROOT
from engine.persistence.models import ProcessInstance
from ledger.attendance_models import AttendanceRecord
from tests.api.town import PASSWORD
from tests.processes.harness import CALENDAR

from .common import ENV, arguments, build, pg_schema

ZONE = ZoneInfo("Asia/Shanghai")


def main() -> int:
    args = arguments(__doc__.splitlines()[0], reports=(23, "concurrent class reports"),
                     **{"per-report": (4, "children per report"), "kill-after": (0.05, "seconds after the first report is stored")})
    day = datetime.now(ZONE).date()
    while not CALENDAR.is_working_day(day):
        day -= timedelta(days=1)
    children = [101 + n for n in range(args.reports * args.per_report)]
    with pg_schema(args.pg) as url:
        town = build(url, len(children))
        env = {**os.environ, **ENV, "BAOXUE_DATABASE_URL": url}
        port = _free_port()
        server = _serve(env, port)
        token = _token(port)
        batches = [children[i:i + args.per_report] for i in range(0, len(children), args.per_report)]
        with ThreadPoolExecutor(len(batches)) as pool:
            futures = [pool.submit(_report, port, token, day, batch) for batch in batches]
            # Kill at the worst moment: reports are being stored and handed to cases.
            _wait(lambda: _recorded(town, day) >= args.per_report, 60)
            time.sleep(args.kill_after)
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            answered = [f.result() for f in futures]
        after_kill, stored_at_kill = _absent_without_case(town, day), _recorded(town, day)
        worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--interval", "0.5"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: not _absent_without_case(town, day), 120)   # leases of the dead server run out (30 s)
        worker.terminate()
        worker.wait()
        after_recovery = _absent_without_case(town, day)
        server = _serve(env, port)
        resent = [_report(port, token, day, batch) for batch in batches]
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
        after_resend = _absent_without_case(town, day)
        recorded, doubled = _recorded(town, day), _doubled(town)
        town.engine.close()
    print(f"kill -9 on PostgreSQL: {len(batches)} reports of {args.per_report} children at once, server killed "
          f"{args.kill_after:g} s after the first report was stored")
    print(f"  answers before the kill: {_tally(answered)}; re-sent: {_tally(resent)}")
    print(f"  children recorded absent (after re-sending): {recorded}; stored before the kill: {stored_at_kill}")
    print(f"  absent without an open case: right after the kill {len(after_kill)}, after the worker's recovery "
          f"{len(after_recovery)}, after re-sending {len(after_resend)}; children with two open cases: {doubled}")
    ok = not after_recovery and not after_resend and not doubled
    print("  OK" if ok else "  FAILED")
    return 0 if ok else 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(env, port) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--no-worker", "--port", str(port),
                               "--workers", "2"], cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(lambda: _get(port, "/healthz") == 200, 60)
    return server


def _get(port, path) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status
    except (urllib.error.URLError, OSError):
        return None


def _post(port, path, body, token=None) -> tuple[int | str, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, {}
    except (urllib.error.URLError, OSError, ConnectionError) as err:
        return type(err).__name__, {}


def _token(port) -> str:
    status, body = _post(port, "/api/v1/auth/token", {"username": "pzx", "password": PASSWORD})
    assert status == 201, status
    return body["token"]


def _report(port, token, day, batch):
    return _post(port, "/api/v1/attendance", {"school_code": "zx", "date": day.isoformat(), "records": [
        {"child_id": child, "status": "absent_unexcused"} for child in batch]}, token)[0]


def _tally(answers) -> dict:
    counts: dict = {}
    for answer in answers:
        counts[answer] = counts.get(answer, 0) + 1
    return counts


def _absent_without_case(town, day) -> list[int]:
    with town.engine.db.read() as session:
        absent = set(session.scalars(select(AttendanceRecord.child_id).where(
            AttendanceRecord.date == day, AttendanceRecord.status == "absent_unexcused")))
        with_case = {int(key.split(":")[1]) for key in session.scalars(select(ProcessInstance.business_key).where(
            ProcessInstance.process_key == "persuasion", ProcessInstance.status.in_(("active", "error"))))}
    return sorted(absent - with_case)


def _recorded(town, day) -> int:
    with town.engine.db.read() as session:
        return session.scalar(select(func.count()).select_from(AttendanceRecord).where(AttendanceRecord.date == day))


def _doubled(town) -> int:
    with town.engine.db.read() as session:
        rows = session.execute(select(ProcessInstance.business_key, func.count()).where(
            ProcessInstance.process_key == "persuasion", ProcessInstance.status.in_(("active", "error")))
            .group_by(ProcessInstance.business_key).having(func.count() > 1)).all()
    return len(rows)


def _wait(condition, seconds) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if condition():
            return
        time.sleep(0.3)


if __name__ == "__main__":
    sys.exit(main())
