"""Versions of real processes for the version tests (issue 14): processes/persuasion.bpmn and a
modified copy, edited as an administrator would in a modeller.

``persuasion_v2``: phone_call renamed, home_visit's dueDays changed, a task added after the
phone call (confirm_call, in the head teacher's lane, with its shape), the escalation task
phone_call_oversee removed (its timer leads straight to the end event), the drawing of both
kept in step. ``moved``: the same file with one shape moved and one edge bent (drawing only).
"""
from __future__ import annotations

from lxml import etree

from api.settings import ROOT

PERSUASION = ROOT / "processes" / "persuasion.bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
B = "{%s}" % NS["bpmn"]


def _one(root, path: str):
    found = root.xpath(path, namespaces=NS)
    assert len(found) == 1, (path, len(found))
    return found[0]


def _shape(root, element_id: str):
    return _one(root, f"//bpmndi:BPMNShape[@bpmnElement='{element_id}']")


def persuasion_v2() -> bytes:
    root = etree.fromstring(PERSUASION.read_bytes())
    _one(root, "//bpmn:userTask[@id='phone_call']").set("name", "电话联系家长")
    _one(root, "//bpmn:userTask[@id='home_visit']//spiffworkflow:property[@name='dueDays']").set("value", "working")

    # Added: phone_call → confirm_call → (what phone_call led to).
    recorded = _one(root, "//bpmn:sequenceFlow[@id='pf_phone_call_recorded']")
    after_call = recorded.get("targetRef")
    recorded.set("targetRef", "confirm_call")
    task = etree.Element(B + "userTask", id="confirm_call", name="核对通话记录")
    etree.SubElement(task, B + "incoming").text = "pf_phone_call_recorded"
    etree.SubElement(task, B + "outgoing").text = "pf_call_confirmed"
    recorded.addprevious(task)
    recorded.addnext(etree.Element(B + "sequenceFlow", id="pf_call_confirmed", sourceRef="confirm_call",
                                   targetRef=after_call))
    for incoming in root.xpath(f"//*[@id='{after_call}']/bpmn:incoming[text()='pf_phone_call_recorded']",
                               namespaces=NS):
        incoming.text = "pf_call_confirmed"
    ref = _one(root, "//bpmn:flowNodeRef[text()='phone_call']")
    ref.addnext(etree.Element(B + "flowNodeRef"))
    ref.getnext().text = "confirm_call"
    call_shape = _shape(root, "phone_call")
    shape = etree.fromstring(etree.tostring(call_shape))
    shape.set("id", "confirm_call_di")
    shape.set("bpmnElement", "confirm_call")
    bounds = shape.find("dc:Bounds", NS)
    bounds.set("y", str(float(bounds.get("y")) + 120))
    call_shape.addnext(shape)
    edge = _one(root, "//bpmndi:BPMNEdge[@bpmnElement='pf_phone_call_recorded']")
    new_edge = etree.fromstring(etree.tostring(edge))
    new_edge.set("id", "pf_call_confirmed_di")
    new_edge.set("bpmnElement", "pf_call_confirmed")
    edge.addnext(new_edge)

    # Removed: phone_call_oversee; the overdue timer now ends at once.
    oversee = _one(root, "//bpmn:userTask[@id='phone_call_oversee']")
    oversee.getparent().remove(oversee)
    _one(root, "//bpmn:sequenceFlow[@id='f_phone_call_overdue']").set("targetRef", "phone_call_overseen")
    flow = _one(root, "//bpmn:sequenceFlow[@id='f_phone_call_oversee']")
    flow.getparent().remove(flow)
    _one(root, "//*[@id='phone_call_overseen']/bpmn:incoming").text = "f_phone_call_overdue"
    for gone in root.xpath("//bpmn:flowNodeRef[text()='phone_call_oversee']"
                           " | //bpmndi:BPMNShape[@bpmnElement='phone_call_oversee']"
                           " | //bpmndi:BPMNEdge[@bpmnElement='f_phone_call_oversee']", namespaces=NS):
        gone.getparent().remove(gone)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def moved(content: bytes) -> bytes:
    """``content`` with the drawing changed only: a shape moved, an edge's waypoint moved."""
    root = etree.fromstring(content)
    bounds = _shape(root, "home_visit").find("dc:Bounds", NS)
    bounds.set("x", str(float(bounds.get("x")) + 40))
    point = root.xpath("//bpmndi:BPMNEdge/di:waypoint", namespaces=NS)[0]
    point.set("y", str(float(point.get("y")) + 15))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def deploy_versions(engine, tmp_path) -> None:
    """persuasion versions 1 (the repository's), 2 (``persuasion_v2``, note 增加核对通话记录),
    3 (2 with the drawing moved, note 调整布局)."""
    engine.repository.deploy_paths([PERSUASION], actor="admin")
    v2 = persuasion_v2()
    for version, content, note in ((2, v2, "增加核对通话记录"), (3, moved(v2), "调整布局")):
        path = tmp_path / f"v{version}" / "persuasion.bpmn"
        path.parent.mkdir()
        path.write_bytes(content)
        deployed = engine.repository.deploy_paths([path], actor="admin", note=note)
        assert [(d.process_key, d.version, d.created) for d in deployed] == [("persuasion", version, True)]
