"""Multi-instance activities: each output lands with its input item, whatever the order the
instances complete in; an instance completed without its output is refused (422) and the
case goes on (issue 9, items 9 and 10; SPIFFWORKFLOW-NOTES §7)."""
from __future__ import annotations

from uuid import UUID

import pytest

from engine.errors import InvalidInput

from ..diagrams import linear_process, multi_instance, user_task
from .helpers import deploy_diagram, kinds, open_tasks

SIGN = {"type": "object", "properties": {"signature": {"type": "string"}, "note": {"type": "string"}}}
UNITS = ["A", "B", "C"]


def agreements(engine, loop, *, postscript=None, form="sign.schema.json"):
    """Units sign an agreement, one instance each, then someone files the signatures."""
    deploy_diagram(engine, linear_process(
        "agreements", user_task("sign", form=form, loop=loop, postscript=postscript), user_task("file")),
        forms={"sign.schema.json": SIGN})


def instances(engine, instance_id) -> dict:
    """{input item: task id} of the open instances of ``sign``."""
    wf = engine.runtime.workflow(instance_id)
    return {wf.get_task_from_id(UUID(row.id)).data["unit"]: row.id
            for row in open_tasks(engine, instance_id) if row.element_id == "sign"}


def filed(engine, instance_id, name="signatures"):
    return engine.runtime.workflow(instance_id).get_next_task(spec_name="file").data[name]


def sign_in_order(engine, instance_id, order):
    """Complete the instances of the units in ``order`` (sequential ones open one by one)."""
    for unit in order:
        engine.runtime.complete_task(instances(engine, instance_id)[unit], {"signature": f"{unit}-sig"}, actor="u")


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_list_output_follows_the_input_whatever_the_completion_order(engine, sequential):
    agreements(engine, multi_instance("units", "signatures", "unit", "signature", sequential=sequential))
    started = engine.runtime.start("agreements", {"units": UNITS})
    sign_in_order(engine, started.instance_id, ["A", "B", "C"] if sequential else ["C", "A", "B"])
    assert filed(engine, started.instance_id) == ["A-sig", "B-sig", "C-sig"]
    assert engine.runtime.workflow(started.instance_id).get_next_task(spec_name="file").data["units"] == UNITS


def test_dict_output_is_keyed_by_the_input_keys(engine):
    agreements(engine, multi_instance("units", "signatures", "unit", "signature"))
    started = engine.runtime.start("agreements", {"units": {"u1": "A", "u2": "B", "u3": "C"}})
    sign_in_order(engine, started.instance_id, ["B", "C", "A"])
    assert filed(engine, started.instance_id) == {"u1": "A-sig", "u2": "B-sig", "u3": "C-sig"}


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
@pytest.mark.parametrize("existing", [None, []], ids=["new-output", "existing-output"])
def test_cardinality_outputs_go_to_their_index(engine, sequential, existing):
    """loopCardinality: the input item is the index. An existing (empty) output variable used
    to raise NameError data_ouput (SPIFFWORKFLOW-NOTES 10-C)."""
    agreements(engine, multi_instance(None, "signatures", "unit", "signature", cardinality="3",
                                      sequential=sequential))
    started = engine.runtime.start("agreements", {} if existing is None else {"signatures": existing})
    sign_in_order(engine, started.instance_id, [0, 1, 2] if sequential else [2, 0, 1])
    assert filed(engine, started.instance_id) == ["0-sig", "1-sig", "2-sig"]


def test_a_running_list_output_keeps_a_slot_per_input(engine):
    """While instances are open their slots are None: index i is always unit i."""
    agreements(engine, multi_instance("units", "signatures", "unit", "signature"))
    started = engine.runtime.start("agreements", {"units": UNITS})
    sign_in_order(engine, started.instance_id, ["C"])
    (multi_instance_task,) = engine.runtime.workflow(started.instance_id).get_tasks(spec_name="sign")
    assert multi_instance_task.data["signatures"] == [None, None, "C-sig"]


def test_instances_a_completion_condition_cancels_keep_empty_slots(engine):
    agreements(engine, multi_instance("units", "signatures", "unit", "signature",
                                      completion='signature == "B-sig"'))
    started = engine.runtime.start("agreements", {"units": UNITS})
    sign_in_order(engine, started.instance_id, ["C", "B"])             # B ends it: A is cancelled
    assert filed(engine, started.instance_id) == [None, "B-sig", "C-sig"]


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_an_instance_without_its_output_is_refused_and_the_others_go_on(engine, sequential):
    agreements(engine, multi_instance("units", "signatures", "unit", "signature", sequential=sequential))
    started = engine.runtime.start("agreements", {"units": UNITS})
    iid = started.instance_id
    first = "A"
    with pytest.raises(InvalidInput) as refused:
        engine.runtime.complete_task(instances(engine, iid)[first], {"note": "forgot"}, actor="u")
    assert refused.value.errors == {"signature": "required"}
    assert engine.runtime.get(iid).status == "active" and engine.runtime.incidents(iid) == []
    assert first in instances(engine, iid)                      # still open, nothing merged
    assert "task_completed" not in kinds(engine, iid)
    sign_in_order(engine, iid, ["A", "B", "C"] if sequential else ["C", "A", "B"])
    assert filed(engine, iid) == ["A-sig", "B-sig", "C-sig"]


def test_a_postscript_that_does_not_set_the_output_is_refused_too(engine):
    """A postScript run on each instance may set the output item; if it does not, the merge
    fails after the instance completed: refused the same way, the transaction rolled back."""
    agreements(engine, multi_instance("units", "signatures", "unit", "signature", scripts_on_instances=True),
               postscript='if note == "ok":\n    signature = unit + "-by-script"')
    started = engine.runtime.start("agreements", {"units": ["A"]})
    task_id = instances(engine, started.instance_id)["A"]
    with pytest.raises(InvalidInput) as refused:
        engine.runtime.complete_task(task_id, {"note": "no"}, actor="u")
    assert list(refused.value.errors) == ["signature"]
    assert engine.runtime.get(started.instance_id).status == "active"
    assert instances(engine, started.instance_id) == {"A": task_id}
    engine.runtime.complete_task(task_id, {"note": "ok"}, actor="u")
    assert filed(engine, started.instance_id) == ["A-by-script"]


@pytest.mark.parametrize("postscript", [None, "signature = note"], ids=["no-script", "script-on-the-whole"])
def test_deploy_refuses_an_output_item_the_form_cannot_set(engine, postscript):
    """A postScript sets it only if it runs on each instance (scriptsOnInstances)."""
    with pytest.raises(InvalidInput) as refused:
        deploy_diagram(engine, linear_process("agreements", user_task(
            "sign", form="other.schema.json", loop=multi_instance("units", "signatures", "unit", "signature"),
            postscript=postscript)),
            forms={"other.schema.json": {"type": "object", "properties": {"note": {"type": "string"}}}})
    (error,) = refused.value.errors
    assert error["element_id"] == "sign"
    assert '"signature"' in error["message"] and "other.schema.json" in error["message"]
