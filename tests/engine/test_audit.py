"""The audit chain: every state change is a keyed link; editing, deleting or recomputing
one is detected, and the checkpoint file catches what the database alone cannot."""
from __future__ import annotations

import json
import threading

from sqlalchemy import delete, select, update

from engine.audit import KEYED, LEGACY, AuditKeyring, link_hash, read_checkpoints, verify_all, write_checkpoint
from engine.audit.chain import event_fields
from engine.persistence.models import AuditEvent, AuditStream, HumanTask

from .conftest import AUDIT_KEY
from .helpers import deploy, task_named


def run_case(engine):
    deploy(engine, "two_lanes.bpmn")
    started = engine.runtime.start("two_lanes", {"requester": "u1"}, actor="u1")
    fill = task_named(engine, started.instance_id, "fill")
    engine.tasks.claim(fill.id, "u1")
    engine.runtime.complete_task(fill.id, {"amount": 70}, actor="u1")
    return started.instance_id


def test_events_carry_actor_time_element_data_and_a_keyed_link(engine, clock):
    instance_id = run_case(engine)
    events = engine.history.events(instance_id)
    completed = next(e for e in events if e.kind == "task_completed")
    assert (completed.actor, completed.element_id, completed.at) == ("u1", "fill", clock())
    assert json.loads(completed.data)["completed_by"] == "u1"
    assert json.loads(completed.data)["completed_at"] == clock().isoformat()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {(e.alg, e.key_id) for e in events} == {(KEYED, AuditKeyring(AUDIT_KEY).current.key_id)}
    assert engine.history.verify_chain(instance_id).ok
    assert engine.history.verify_chain(None).ok             # version_deployed chain


def test_edited_event_is_detected(engine):
    instance_id = run_case(engine)
    with engine.db.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                 AuditEvent.kind == "task_completed")
                        .values(data='{"name":"Fill in the request","submitted":{"amount":7}}'))
    report = engine.history.verify_chain(instance_id)
    assert not report.ok and "altered" in report.problems[0]


def test_deleted_event_in_the_middle_or_at_the_end_is_detected(engine):
    instance_id = run_case(engine)
    with engine.db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.seq == 2))
    report = engine.history.verify_chain(instance_id)
    assert report.first_bad == 2 and any("missing" in p for p in report.problems)

    other = engine.runtime.start("two_lanes", {}).instance_id
    with engine.db.transaction() as session:
        last = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == other)
                              .order_by(AuditEvent.seq.desc()))
        session.delete(last)
    assert not engine.history.verify_chain(other).ok


FORGER = AuditKeyring(b"a-forger-s-guessed-key")


def plain_sha256(event, prev):
    event.alg, event.key_id = LEGACY, None
    return link_hash(None, LEGACY, None, prev, event.stream, event.seq, event_fields(event), event.data)


def own_key(event, prev):
    event.alg, event.key_id = KEYED, FORGER.current.key_id
    return link_hash(FORGER, KEYED, event.key_id, prev, event.stream, event.seq, event_fields(event), event.data)


def _forge(engine, instance_id, sign):
    """Edit the second event, recompute every link from it on with ``sign``, and the head."""
    with engine.db.transaction() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                 .order_by(AuditEvent.seq)).all()
        events[1].actor = "someone-else"
        prev = events[0].hash
        for event in events[1:]:
            event.prev_hash = prev
            event.hash = prev = sign(event, prev)
        session.get(AuditStream, events[0].stream).head_hash = prev


def test_recomputing_the_chain_without_the_key_is_detected(engine):
    plain = run_case(engine)
    _forge(engine, plain, plain_sha256)                  # the old plain SHA-256 scheme
    report = engine.history.verify_chain(plain)
    assert report.first_bad == 2 and "downgrade" in report.problems[0]

    keyed = engine.runtime.start("two_lanes", {}, actor="u1").instance_id
    _forge(engine, keyed, own_key)                    # HMAC, with a key of the forger's own
    report = engine.history.verify_chain(keyed)
    assert report.first_bad == 2 and "unknown algorithm or key" in report.problems[0]


def test_a_rolled_back_head_passes_the_chain_check_but_not_the_checkpoint(engine, tmp_path, clock):
    instance_id = run_case(engine)
    path = tmp_path / "checkpoints.jsonl"
    assert write_checkpoint(engine.db, path, clock()).report.ok
    with engine.db.transaction() as session:
        newest = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                .order_by(AuditEvent.seq.desc()))
        head = session.get(AuditStream, newest.stream)
        head.seq, head.head_hash = newest.seq - 1, newest.prev_hash
        session.delete(newest)
    assert engine.history.verify_chain(instance_id).ok          # the database alone cannot tell
    report = engine.history.verify_all(path)
    bad = report.chain(f"instance:{instance_id}")
    assert not bad.ok and "newest links were deleted" in bad.problems[0]


def test_an_edited_task_row_disagrees_with_the_chain(engine):
    instance_id = run_case(engine)
    with engine.db.transaction() as session:
        session.execute(update(HumanTask).where(HumanTask.instance_id == instance_id,
                                                HumanTask.status == "completed").values(completed_by="mallory"))
    report = engine.history.verify_chain(instance_id)
    assert any("completed by mallory" in p and "says u1" in p for p in report.problems)
    with engine.db.read() as session:
        assert not verify_all(session).chain("task completions").ok


def test_legacy_links_verify_until_sealed_and_none_may_follow(engine, tmp_path, clock):
    """Events written before the keyed chain (alg sha256) verify as legacy; the first
    checkpoint seals them and a legacy link added later is a forgery."""
    deploy(engine, "two_lanes.bpmn")
    instance_id = engine.runtime.start("two_lanes", {}, actor="u1").instance_id
    with engine.db.transaction() as session:     # make the chain what an old database holds
        prev = "0" * 64
        for event in session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                     .order_by(AuditEvent.seq)):
            event.alg, event.key_id, event.prev_hash = LEGACY, None, prev
            event.hash = prev = link_hash(None, LEGACY, None, prev, event.stream, event.seq,
                                          event_fields(event), event.data)
        session.get(AuditStream, f"instance:{instance_id}").head_hash = prev
    report = engine.history.verify_all(tmp_path / "none-yet.jsonl")
    assert report.ok and report.chain(f"instance:{instance_id}").legacy > 0
    assert any("legacy" in note for note in report.notes)
    write_checkpoint(engine.db, tmp_path / "c.jsonl", clock())
    engine.runtime.set_variables(instance_id, {"x": 1}, actor="u1")       # a keyed link after them
    assert engine.history.verify_all(tmp_path / "c.jsonl").ok


def test_concurrent_checkpoints_make_one_consistent_file(make_engine, tmp_path, clock):
    """Several workers checkpoint at once: the lock keeps the lines numbered and linked."""
    engines = [make_engine() for _ in range(4)]
    run_case(engines[0])
    path = tmp_path / "checkpoints.jsonl"
    errors = []

    def checkpoint(engine):
        try:
            write_checkpoint(engine.db, path, clock())
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=checkpoint, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with read_checkpoints(path, engines[0].audit_keys) as file:
        assert file.count == 4 and file.report.ok
    assert engines[0].history.verify_all(path).ok


def test_garbage_in_the_checkpoint_file_is_reported_not_raised(engine, tmp_path, clock):
    run_case(engine)
    path = tmp_path / "checkpoints.jsonl"
    write_checkpoint(engine.db, path, clock())
    with open(path, "ab") as handle:
        handle.write(b'{"n": 2, "heads": {"instance:1": 5}}\n\xff\xfe not json\n')
    report = engine.history.verify_all(path)
    [file] = [r for r in report.bad if r.stream.startswith("checkpoint file")]
    assert file.first_bad == 2 and any("heads not of the form" in p for p in file.problems)
    assert any("line 3: not a checkpoint record" in p for p in file.problems)
    before = path.read_bytes()
    result = write_checkpoint(engine.db, path, clock())       # the worker says so, and seals nothing
    assert not result.written and not result.report.ok and path.read_bytes() == before
