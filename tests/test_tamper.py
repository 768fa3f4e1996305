"""The audit record cannot be quietly rewritten: every tampering of tests/stress/tamper.py,
applied with raw SQL to a small record of real cases (the repo's processes), is reported by
``ledger.audit_record.verify_record`` (what ``baoxue audit verify`` runs), on SQLite and
PostgreSQL; the untouched record verifies clean."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest

from api.settings import ROOT, Settings
from api.wiring import build_engine
from engine.clock import FixedClock
from ledger.access_log import log_access
from ledger.audit_record import verify_record, write_record_checkpoint
from ledger.demo_cases import ASSESS_HIGH
from ledger.models import Child, OrgUnit
from tests.api.town import CHILDREN, UNITS
from tests.stress import tamper

START = datetime(2025, 9, 1, 0, 30, tzinfo=timezone.utc)


def small_record(db_url, tmp_path, clock):
    """Four dropout-risk cases (three with their first task completed), a few access-log
    rows, two checkpoints. Returns (engine, checkpoint path)."""
    settings = Settings.from_env(database_url=db_url, var_dir=tmp_path, secret_key="test", audit_key=tamper.KEY)
    engine = build_engine(settings, clock=clock)
    engine.migrate()
    engine.repository.deploy_paths([settings.processes_dir], actor="test")
    with engine.db.transaction() as session:
        for code, name, kind, parent in UNITS:
            session.add(OrgUnit(code=code, name=name, kind=kind, parent_code=parent))
            session.flush()
        for child_id, (name, klass, school, village) in CHILDREN.items():
            session.add(Child(id=child_id, name=name, gender="男", birth_date=date(2016, 5, child_id),
                              id_number=f"4401012016050{child_id:04d}X", class_code=klass,
                              school_code=school, village_code=village, created_at=clock()))
    for child_id, (_, klass, _, _) in CHILDREN.items():
        clock.advance(timedelta(minutes=5))
        teacher = f"teacher-{klass}"
        started = engine.runtime.start("dropout_risk_check", {"child_id": child_id}, actor=teacher)
        if klass:
            engine.runtime.complete_task(started.next_tasks[0]["task_id"],
                                         {**ASSESS_HIGH, "contacted_on": "2025-09-01"}, actor=teacher)
        with engine.db.transaction() as session:
            log_access(session, teacher, "view", f"child:{child_id}", {"page": "detail"}, clock())
    checkpoint = settings.audit_checkpoint_file
    for _ in range(2):
        clock.advance(timedelta(minutes=10))
        write_record_checkpoint(engine, checkpoint)
    return engine, checkpoint


@pytest.fixture
def record(db_url, tmp_path):
    engine, checkpoint = small_record(db_url, tmp_path, FixedClock(START))
    yield engine, checkpoint
    engine.close()


def test_the_untouched_record_verifies_clean(record):
    engine, checkpoint = record
    report = verify_record(engine, checkpoint)
    assert report.ok, [r.problems for r in report.bad]
    assert report.tasks_checked == 3 and report.chain("access").count == 4
    # the checkpoints chain: the database's identity (engine/audit/identity.py), then one link per line
    assert report.chain("definitions").ok and report.chain("checkpoints").count == 3


@pytest.mark.parametrize("scenario", tamper.SCENARIOS, ids=lambda s: s.__name__)
def test_tampering_is_detected(record, scenario):
    engine, checkpoint = record
    must_turn_bad = tamper.tamper(engine.db.url, checkpoint, scenario)
    report = verify_record(engine, checkpoint)
    assert not report.ok
    bad = {r.stream: r for r in report.bad}
    assert must_turn_bad in bad, sorted(bad)
    assert bad[must_turn_bad].first_bad is not None and bad[must_turn_bad].problems


def test_a_checkpoint_keeps_a_deletion_visible_at_every_later_check(record, tmp_path):
    """The worker goes on trying after a head was rolled back: the deletion is never signed
    as the new truth (no line is written), it stays reported."""
    engine, checkpoint = record
    stream = tamper.tamper(engine.db.url, checkpoint, tamper.delete_newest_event_and_roll_head_back)
    first = write_record_checkpoint(engine, checkpoint)
    later = write_record_checkpoint(engine, checkpoint)
    assert not first.report.chain(stream).ok and not later.report.chain(stream).ok
    assert not first.written and not later.written and len(checkpoint.read_text().splitlines()) == 2
    assert not verify_record(engine, checkpoint).chain(stream).ok


def test_audit_verify_cli_exit_codes(sqlite_url, tmp_path):
    engine, checkpoint = small_record(sqlite_url, tmp_path, FixedClock(START))
    engine.close()
    env = {**os.environ, "BAOXUE_DATABASE_URL": sqlite_url, "BAOXUE_AUDIT_KEY": tamper.KEY,
           "BAOXUE_AUDIT_CHECKPOINT_FILE": str(checkpoint), "PYTHONPATH": str(ROOT)}

    def baoxue(*args):
        return subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)

    clean = baoxue("audit", "verify")
    assert clean.returncode == 0 and clean.stdout.strip().splitlines()[-1].startswith("audit record intact")
    written = baoxue("audit", "checkpoint")
    assert written.returncode == 0 and "checkpoint #3" in written.stdout
    stream = tamper.tamper(sqlite_url, checkpoint, tamper.delete_whole_case_history)
    broken = baoxue("audit", "verify")
    assert broken.returncode == 1
    assert f"BAD {stream}: first bad position #1: the whole chain is gone" in broken.stdout
