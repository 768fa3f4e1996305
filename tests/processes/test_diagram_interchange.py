"""Every process file carries its drawing (issue 14 "Every process has a drawing"): BPMNDI made by
``make layout`` (processes/layout/), so that bpmn-js, bpmn.io tools, spiff-arena and Camunda
Modeler open it and the case page can show the path a case took (issue 13).

Complete means: a shape for every participant, lane, flow node (boundary events included) and
data object or store reference; an edge for every sequence flow and message flow; every shape
with bounds and every edge with at least two waypoints; each sub-process drawn either expanded
in its parent's plane (its content there too) or collapsed with a plane of its own (bpmn-js
drills down into it). A file that fails: run ``make layout`` (processes/README.md "Layout").
"""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from api.settings import ROOT

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
PROCESS_FILES = sorted((ROOT / "processes").glob("*.bpmn"))

# Drawn as shapes: every flow node (tasks, events, gateways, sub-processes, call activities)
# and the references to data (the data objects themselves are not drawn).
SHAPE_KINDS = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
               "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
               "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
               "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
               "dataObjectReference", "dataStoreReference"}
SCOPES = {"process", "subProcess", "transaction", "adHocSubProcess"}


def local(element) -> str:
    return etree.QName(element).localname


def missing_di(path: Path) -> list[str]:
    """What the file's DI lacks, one line per problem (empty: complete)."""
    root = etree.parse(str(path)).getroot()
    planes = {}     # plane's bpmnElement → {element id: DI element}
    for plane in root.iter(f"{{{BPMNDI}}}BPMNPlane"):
        planes[plane.get("bpmnElement")] = {di.get("bpmnElement"): di for di in plane
                                            if isinstance(di.tag, str) and di.get("bpmnElement")}
    if not planes:
        return ["no BPMNDiagram at all"]
    drawn = {}      # element id → (plane id, DI element), over every plane
    problems = []
    for plane_id, elements in planes.items():
        for element_id, di in elements.items():
            if element_id in drawn:
                problems.append(f"{element_id}: drawn twice (planes {drawn[element_id][0]}, {plane_id})")
            drawn[element_id] = (plane_id, di)
            if local(di) == "BPMNShape":
                bounds = di.find(f"{{{DC}}}Bounds")
                if bounds is None or any(bounds.get(a) is None for a in ("x", "y", "width", "height")):
                    problems.append(f"{element_id}: shape without bounds")
            elif local(di) == "BPMNEdge" and len(di.findall(f"{{{DI}}}waypoint")) < 2:
                problems.append(f"{element_id}: edge with fewer than two waypoints")

    def shape(element_id):
        di = drawn.get(element_id, (None, None))[1]
        return di is not None and local(di) == "BPMNShape"

    def edge(element_id):
        di = drawn.get(element_id, (None, None))[1]
        return di is not None and local(di) == "BPMNEdge"

    for participant in root.iter(f"{{{BPMN}}}participant"):
        if not shape(participant.get("id")):
            problems.append(f"participant {participant.get('id')}: no shape")
    for lane in root.iter(f"{{{BPMN}}}lane"):
        if not shape(lane.get("id")):
            problems.append(f"lane {lane.get('id')}: no shape")
    for flow in root.iter(f"{{{BPMN}}}messageFlow"):
        if not edge(flow.get("id")):
            problems.append(f"message flow {flow.get('id')}: no edge")
    for element in root.iter(f"{{{BPMN}}}*"):
        kind, element_id = local(element), element.get("id")
        if kind in SHAPE_KINDS and not shape(element_id):
            problems.append(f"{kind} {element_id}: no shape")
        elif kind == "sequenceFlow" and not edge(element_id):
            problems.append(f"sequence flow {element_id}: no edge")
        if kind in SCOPES - {"process"} and shape(element_id):
            expanded = drawn[element_id][1].get("isExpanded") == "true"
            if not expanded and element_id not in planes:
                problems.append(f"collapsed {kind} {element_id}: no plane of its own to drill into")
    return problems


@pytest.mark.parametrize("path", PROCESS_FILES, ids=lambda p: p.name)
def test_every_process_file_has_a_complete_drawing(path):
    assert missing_di(path) == [], f"{path.name}: run make layout"


def test_a_file_without_a_drawing_is_refused(tmp_path):
    source = (ROOT / "processes" / "registry_restoration.bpmn").read_text(encoding="utf-8")
    bare = source[:source.index("  <bpmndi:BPMNDiagram")] + "</bpmn:definitions>\n"
    (tmp_path / "bare.bpmn").write_text(bare, encoding="utf-8")
    assert missing_di(tmp_path / "bare.bpmn") == ["no BPMNDiagram at all"]


def test_a_missing_edge_a_lane_without_shape_and_a_one_point_edge_are_each_named(tmp_path):
    text = (ROOT / "processes" / "registry_restoration.bpmn").read_text(encoding="utf-8")
    tree = etree.fromstring(text.encode())
    plane = tree.find(f".//{{{BPMNDI}}}BPMNPlane")
    by_element = {di.get("bpmnElement"): di for di in plane}
    plane.remove(by_element["f1"])
    plane.remove(by_element["lane_principal"])
    for waypoint in by_element["f2"].findall(f"{{{DI}}}waypoint")[1:]:
        by_element["f2"].remove(waypoint)
    by_element["supervise"].remove(by_element["supervise"].find(f"{{{DC}}}Bounds"))
    (tmp_path / "broken.bpmn").write_bytes(etree.tostring(tree))
    assert sorted(missing_di(tmp_path / "broken.bpmn")) == [
        "f2: edge with fewer than two waypoints", "lane lane_principal: no shape",
        "sequence flow f1: no edge", "supervise: shape without bounds"]


def test_a_collapsed_sub_process_needs_its_own_plane(tmp_path):
    text = (ROOT / "processes" / "persuasion.bpmn").read_text(encoding="utf-8")
    tree = etree.fromstring(text.encode())
    watch_plane = next(p for p in tree.iter(f"{{{BPMNDI}}}BPMNPlane") if p.get("bpmnElement") == "watch")
    diagram = watch_plane.getparent()
    diagram.getparent().remove(diagram)
    (tmp_path / "p.bpmn").write_bytes(etree.tostring(tree))
    problems = missing_di(tmp_path / "p.bpmn")
    assert "collapsed subProcess watch: no plane of its own to drill into" in problems
