"""The drawing never changes what a process does (issue 13/14): SpiffWorkflow orders a node's
outgoing flows by the y position of their targets' shapes, so a shape moved in the editor would
change which condition a gateway tries first and which parallel branch runs first. The engine
parses every file as if it had no drawing: the same flow order with DI, without, or moved."""
from __future__ import annotations

import re

import pytest

from api.settings import ROOT
from engine.definitions.parsing import load_specs

PROCESSES = sorted((ROOT / "processes").glob("*.bpmn"))
FORMS = {p.name: p.read_bytes() for p in (ROOT / "forms").glob("*.json")}
DIAGRAM = re.compile(rb"<bpmndi:BPMNDiagram.*?</bpmndi:BPMNDiagram>", re.S)
Y = re.compile(rb'(<dc:Bounds [^>]*?y=")(\d+(?:\.\d+)?)(")')


def outputs(files: dict, process_id: str) -> dict:
    spec, subprocesses = load_specs(files, process_id)
    order = {}
    for process in (spec, *(s for s in subprocesses.values() if s is not None)):
        for name, task_spec in process.task_specs.items():
            order[(process.name, name)] = [o.name for o in task_spec.outputs]
    return order


def flipped(data: bytes) -> bytes:
    """Every shape moved: y mirrored, so targets that were above are now below."""
    return Y.sub(lambda m: m.group(1) + str(10_000 - float(m.group(2))).encode() + m.group(3), data)


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.stem)
def test_flow_order_does_not_depend_on_the_drawing(path):
    files = {**FORMS, **{p.name: p.read_bytes() for p in PROCESSES}}
    process_id = re.search(rb'<bpmn:process id="([^"]+)"', path.read_bytes()).group(1).decode()
    drawn = outputs(files, process_id)
    assert DIAGRAM.search(files[path.name]), "every process carries its drawing"
    assert outputs({**files, path.name: DIAGRAM.sub(b"", files[path.name])}, process_id) == drawn
    assert outputs({**files, path.name: flipped(files[path.name])}, process_id) == drawn
