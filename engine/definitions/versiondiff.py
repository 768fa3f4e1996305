"""What changed between two versions of one process (issue 14 "Process list and versions").

Elements are compared by id: those of the process and of its embedded sub-processes (called
processes only by the key a call activity names). Only the process model is read, never its
drawing (BPMNDI): moving a shape or a waypoint changes nothing here. Each element's facts:

* ``name``, ``type`` (the BPMN tag, e.g. ``userTask``), ``lane`` (the lane's name: a role code),
  ``parent`` (the embedded sub-process holding it, if any);
* ``incoming`` / ``outgoing``: the sequence flows' ids, sorted, read from the flows' own
  ``sourceRef``/``targetRef`` (the ``<incoming>`` children are optional and may disagree);
* a sequence flow's ``source``, ``target`` and ``condition``; a call activity's ``calledElement``;
  a boundary event's ``attachedTo`` and ``cancelActivity``; an event's ``event`` (kind and the
  message, signal, escalation or error it names) and ``timer`` (``timeDuration: "P3D"``);
* a script task's ``script``; SpiffWorkflow's extensions by their tag (``instructions`` for
  ``instructionsForEndUser``, ``preScript``, ``postScript``, ``messagePayload``...) and each
  ``spiffworkflow:property`` by its name (``formJsonSchemaFilename``, ``dueIn``, ``dueDays``...).

Texts are compared with surrounding white space stripped (re-indenting is no change). Form
files (the ``form*`` properties' values) whose content differs, parsed as JSON, are reported
under ``forms``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping

from .diagram import bpmn_processes
from .xmlsafety import local_name

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CONTAINERS = {"subProcess", "transaction", "adHocSubProcess"}
NOT_ELEMENTS = {"laneSet", "lane", "flowNodeRef", "incoming", "outgoing", "extensionElements", "documentation",
                "ioSpecification", "dataInputAssociation", "dataOutputAssociation", "property",
                "multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "conditionExpression", "script"}
EVENT_REFS = {"messageEventDefinition": "messageRef", "signalEventDefinition": "signalRef",
              "escalationEventDefinition": "escalationRef", "errorEventDefinition": "errorRef"}
TIMER_PARTS = ("timeDuration", "timeDate", "timeCycle")
EXTENSION_FIELDS = {"instructionsForEndUser": "instructions"}
# Facts that are not compared as changes (where the element sits is its lane and flows).
NOT_COMPARED = {"parent"}
# Fact names the diff gives itself; a property of the same name is reported as property:<name>.
OWN_FIELDS = {"name", "type", "lane", "parent", "incoming", "outgoing", "source", "target", "condition",
              "calledElement", "attachedTo", "cancelActivity", "event", "timer", "script", "loop",
              *EXTENSION_FIELDS.values()}


@dataclass
class ProcessModel:
    """The facts of every element of one process (see the module doc) and its form files."""
    process_id: str
    name: str | None = None
    elements: dict[str, dict] = field(default_factory=dict)
    forms: set[str] = field(default_factory=set)


def read_model(files: Mapping[str, bytes], process_id: str) -> ProcessModel | None:
    """The model of ``process_id`` from a version's files, or None if no BPMN file holds it."""
    for _, process in bpmn_processes(files):
        if process.get("id") == process_id:
            return _model(process)
    return None


def _text(el) -> str | None:
    if el is None:
        return None
    value = "".join(el.itertext()).strip()
    return value or None


def _model(process) -> ProcessModel:
    model = ProcessModel(process.get("id"), process.get("name"))
    lanes = {}
    for lane in process.iter("{*}lane"):
        for ref in lane.findall("{*}flowNodeRef"):
            if ref.text:
                lanes[ref.text.strip()] = lane.get("name")
    flows = [el for el in process.iter("{*}sequenceFlow") if el.get("id")]
    for el in process.iter():
        if not isinstance(el.tag, str) or el is process or not el.get("id"):
            continue
        parent = el.getparent()
        if local_name(el) in NOT_ELEMENTS or parent is None or \
                (parent is not process and local_name(parent) not in CONTAINERS):
            continue
        facts = _facts(el, lanes)
        if parent is not process:
            facts["parent"] = parent.get("id")
        model.elements[el.get("id")] = facts
    for flow in flows:
        for end, key in (("sourceRef", "outgoing"), ("targetRef", "incoming")):
            node = model.elements.get(flow.get(end) or "")
            if node is not None:
                node.setdefault(key, []).append(flow.get("id"))
    for facts in model.elements.values():
        for key in ("incoming", "outgoing"):
            if key in facts:
                facts[key] = sorted(facts[key])
        model.forms.update(value for name, value in facts.items()
                           if name.removeprefix("property:").startswith("form") and isinstance(value, str)
                           and value.lower().endswith(".json"))
    return model


def _facts(el, lanes: Mapping[str, str | None]) -> dict:
    tag = local_name(el)
    facts: dict = {"type": tag, "name": el.get("name")}
    if el.get("id") in lanes:
        facts["lane"] = lanes[el.get("id")]
    if tag == "sequenceFlow":
        facts.update(source=el.get("sourceRef"), target=el.get("targetRef"),
                     condition=_text(el.find("{*}conditionExpression")))
    if tag == "callActivity":
        facts["calledElement"] = el.get("calledElement")
    if tag == "boundaryEvent":
        facts.update(attachedTo=el.get("attachedToRef"), cancelActivity=el.get("cancelActivity", "true"))
    if el.find("{*}script") is not None:
        facts["script"] = _text(el.find("{*}script"))
    loop = el.find("{*}multiInstanceLoopCharacteristics")
    if loop is not None:
        facts["loop"] = json.dumps({k: v for k, v in sorted(loop.attrib.items())}, ensure_ascii=False)
    events = []
    for definition in el:
        kind = local_name(definition) if isinstance(definition.tag, str) else ""
        if kind.endswith("EventDefinition"):
            ref = definition.get(EVENT_REFS[kind], "") if kind in EVENT_REFS else ""
            events.append(f"{kind.removesuffix('EventDefinition')}{':' + ref if ref else ''}")
            if kind == "timerEventDefinition":
                facts["timer"] = "; ".join(f"{part}: {_text(definition.find('{*}' + part))}"
                                           for part in TIMER_PARTS if definition.find("{*}" + part) is not None)
    if events:
        facts["event"] = ", ".join(events)
    facts.update(_extensions(el))
    return {key: value for key, value in facts.items() if value is not None}


def _extensions(el) -> dict:
    """SpiffWorkflow's extension elements of ``el`` (not of elements inside it)."""
    found = {}
    container = el.find("{*}extensionElements")
    if container is None:
        return found
    for ext in container:
        if not isinstance(ext.tag, str) or not ext.tag.startswith(f"{{{SPIFF_NS}}}"):
            continue
        tag = local_name(ext)
        if tag == "properties":
            for prop in ext.findall("{*}property"):
                name = prop.get("name") or ""
                found[f"property:{name}" if name in OWN_FIELDS else name] = prop.get("value")
        else:
            found[EXTENSION_FIELDS.get(tag, tag)] = _text(ext)
    return found


def _summary(element_id: str, facts: dict) -> dict:
    return {"id": element_id, "type": facts.get("type"), "name": facts.get("name")}


def diff_models(before: ProcessModel, after: ProcessModel) -> dict:
    """``{added: [{id, type, name}], removed: [...], changed: [{id, type, name, changes:
    [{field, before, after}]}]}``; lists in document order of ``after`` (removed: of
    ``before``); a changed element is named as it is in ``after``."""
    added = [_summary(i, f) for i, f in after.elements.items() if i not in before.elements]
    removed = [_summary(i, f) for i, f in before.elements.items() if i not in after.elements]
    changed = []
    if (before.name or None) != (after.name or None):
        changed.append({"id": after.process_id, "type": "process", "name": after.name,
                        "changes": [{"field": "name", "before": before.name, "after": after.name}]})
    for element_id, facts in after.elements.items():
        old = before.elements.get(element_id)
        if old is None:
            continue
        changes = [{"field": key, "before": old.get(key), "after": facts.get(key)}
                   for key in _ordered_keys(old, facts) if key not in NOT_COMPARED and old.get(key) != facts.get(key)]
        if changes:
            changed.append({**_summary(element_id, facts), "changes": changes})
    return {"added": added, "removed": removed, "changed": changed}


def _ordered_keys(old: dict, new: dict) -> list[str]:
    keys = list(new)
    keys += [key for key in old if key not in new]
    return keys


def _form_content(files: Mapping[str, bytes], name: str):
    raw = files[name]
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def diff_forms(before_files: Mapping[str, bytes], before: ProcessModel,
               after_files: Mapping[str, bytes], after: ProcessModel) -> list[dict]:
    """``[{file, change: added|removed|changed}]``, by file name, for the form files the two
    versions' elements name (a name no longer named, or not among the files, is removed)."""
    old = {name for name in before.forms if name in before_files}
    new = {name for name in after.forms if name in after_files}
    result = []
    for name in sorted(old | new):
        if name not in old:
            result.append({"file": name, "change": "added"})
        elif name not in new:
            result.append({"file": name, "change": "removed"})
        elif _form_content(before_files, name) != _form_content(after_files, name):
            result.append({"file": name, "change": "changed"})
    return result


def version_diff(process_id: str, before_files: Mapping[str, bytes], after_files: Mapping[str, bytes]) -> dict:
    """The diff of ``process_id`` between two versions' files (``Repository.files``):
    ``{added, removed, changed}`` of ``diff_models`` and ``forms`` of ``diff_forms``. A version
    whose files do not hold the process counts as empty."""
    before = read_model(before_files, process_id) or ProcessModel(process_id)
    after = read_model(after_files, process_id) or ProcessModel(process_id)
    return {**diff_models(before, after), "forms": diff_forms(before_files, before, after_files, after)}
