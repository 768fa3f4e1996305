"""What the trace of an instance needs from a version's BPMN files: per process, which file
draws it, its elements' names, the sequence flow joining two elements, its call activities.

The engine records a path as pairs of elements (``runtime.path``); the flow ids come from
here. Elements of an embedded sub-process belong to the process that encloses it (its
diagram is drawn in that file, on the sub-process's own plane).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping

from lxml import etree

from .parsing import file_kind
from .xmlsafety import local_name, parse_xml

FLOW_NODES_SKIPPED = {"sequenceFlow", "laneSet", "lane", "flowNodeRef", "incoming", "outgoing",
                      "extensionElements", "documentation"}


@dataclass
class ProcessDiagram:
    process_id: str
    file_name: str
    name: str | None = None
    names: dict[str, str | None] = field(default_factory=dict)      # element id -> name
    kinds: dict[str, str] = field(default_factory=dict)             # element id -> BPMN tag
    flows: dict[tuple[str, str], list[str]] = field(default_factory=dict)   # (source, target) -> flow ids
    calls: dict[str, str] = field(default_factory=dict)             # call activity id -> called process id

    def flow_ids(self, source: str, target: str) -> list[str]:
        """The sequence flows from ``source`` to ``target`` (two only if the file draws two)."""
        return self.flows.get((source, target), [])


def bpmn_processes(files: Mapping[str, bytes]) -> Iterator[tuple[str, etree._Element]]:
    """``(file name, <process> element)`` of every process with an id in the BPMN files of
    ``files`` (a version's stored files), in file-name order. Unreadable files are skipped:
    stored files were validated when deployed."""
    for file_name, data in sorted(files.items()):
        if file_kind(file_name) != "bpmn":
            continue
        root, errors = parse_xml(file_name, data)
        if root is None or errors:
            continue
        for process in root:
            if local_name(process) == "process" and process.get("id"):
                yield file_name, process


def process_diagrams(files: Mapping[str, bytes]) -> dict[str, ProcessDiagram]:
    """``{process id: ProcessDiagram}`` for every executable process in ``files`` (the stored
    files of one deployment, validated when deployed). Unreadable files are skipped."""
    found: dict[str, ProcessDiagram] = {}
    for file_name, process in bpmn_processes(files):
        found.setdefault(process.get("id"), _read(process, file_name))
    return found


def _read(process, file_name: str) -> ProcessDiagram:
    diagram = ProcessDiagram(process.get("id"), file_name, process.get("name"))
    for el in process.iter():
        if not isinstance(el.tag, str) or el is process:
            continue
        tag = local_name(el)
        element_id = el.get("id")
        if tag == "sequenceFlow" and element_id:
            pair = (el.get("sourceRef"), el.get("targetRef"))
            diagram.flows.setdefault(pair, []).append(element_id)
        elif element_id and tag not in FLOW_NODES_SKIPPED and el.getparent() is not None \
                and local_name(el.getparent()) in ("process", "subProcess", "transaction", "adHocSubProcess"):
            diagram.names[element_id] = el.get("name")
            diagram.kinds[element_id] = tag
            if tag == "callActivity" and el.get("calledElement"):
                diagram.calls[element_id] = el.get("calledElement")
    return diagram
