"""Small BPMN diagrams written in the test itself: start → the given nodes in order → end.

    xml = linear_process("sign_all", user_task("sign", form="sign.schema.json",
                                                loop=multi_instance("units", "signatures", "unit", "signature")))

Nodes need no incoming/outgoing: the sequence flows are added between them. ``lanes``
({lane name: [node ids]}) puts nodes in lanes; ``head`` adds elements before the process
(messages, correlation properties).
"""
from __future__ import annotations

import re

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def user_task(task_id: str, *, form: str | None = None, loop: str = "", postscript: str | None = None,
              name: str | None = None, variable: str | None = None) -> str:
    """A userTask, optionally with a form (its data under ``variable``), a postScript and
    loop characteristics."""
    extensions = ""
    if form:
        extensions += ('<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
                       f'value="{form}"/></spiffworkflow:properties>')
    if variable:
        extensions += f"<spiffworkflow:variableName>{variable}</spiffworkflow:variableName>"
    if postscript:
        extensions += f"<spiffworkflow:postScript>{postscript}</spiffworkflow:postScript>"
    if extensions:
        extensions = f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>"
    return f'<bpmn:userTask id="{task_id}" name="{name or task_id}">{extensions}{loop}</bpmn:userTask>'


def multi_instance(collection: str | None, output: str | None, item: str | None, output_item: str | None, *,
                   cardinality: str | None = None, sequential: bool = False, scripts_on_instances: bool = False,
                   completion: str | None = None) -> str:
    """multiInstanceLoopCharacteristics over ``collection`` (or ``cardinality``), collecting
    each instance's ``output_item`` into ``output``. The task's pre/postScript run once on the
    whole multi-instance unless ``scripts_on_instances``."""
    parts = [f"<bpmn:loopCardinality>{cardinality}</bpmn:loopCardinality>" if cardinality else "",
             f"<bpmn:loopDataInputRef>{collection}</bpmn:loopDataInputRef>" if collection else "",
             f"<bpmn:loopDataOutputRef>{output}</bpmn:loopDataOutputRef>" if output else "",
             f'<bpmn:inputDataItem id="{item}" name="{item}"/>' if item else "",
             f'<bpmn:outputDataItem id="{output_item}" name="{output_item}"/>' if output_item else "",
             f"<bpmn:completionCondition>{completion}</bpmn:completionCondition>" if completion else ""]
    flag = (' isSequential="true"' if sequential else "") + \
        (' spiffworkflow:scriptsOnInstances="true"' if scripts_on_instances else "")
    return f"<bpmn:multiInstanceLoopCharacteristics{flag}>{''.join(parts)}</bpmn:multiInstanceLoopCharacteristics>"


def linear_process(process_id: str, *nodes: str, lanes: dict[str, list[str]] | None = None, head: str = "") -> str:
    """A BPMN file with one executable process running ``nodes`` one after the other."""
    ids = ["start", *[re.search(r'id="([^"]+)"', node).group(1) for node in nodes], "end"]
    flows = "".join(f'<bpmn:sequenceFlow id="flow_{i}" sourceRef="{a}" targetRef="{b}"/>'
                    for i, (a, b) in enumerate(zip(ids, ids[1:])))
    lane_set = ""
    if lanes:
        lane_set = "<bpmn:laneSet id=\"lanes\">" + "".join(
            f'<bpmn:lane id="lane_{i}" name="{name}">'
            + "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs) + "</bpmn:lane>"
            for i, (name, refs) in enumerate(lanes.items())) + "</bpmn:laneSet>"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            f'xmlns:spiffworkflow="{SPIFF_NS}" id="defs_{process_id}" targetNamespace="http://baoxue.local/test">'
            f'{head}<bpmn:process id="{process_id}" isExecutable="true">{lane_set}'
            f'<bpmn:startEvent id="start"/>{"".join(nodes)}<bpmn:endEvent id="end"/>{flows}'
            f"</bpmn:process></bpmn:definitions>")


def process_file(process_id: str, body: str, *, head: str = "") -> str:
    """A BPMN file with one executable process whose elements and flows are ``body`` as
    written (for shapes ``linear_process`` cannot draw: branches, subprocesses, boundaries)."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            f'xmlns:spiffworkflow="{SPIFF_NS}" id="defs_{process_id}" targetNamespace="http://baoxue.local/test">'
            f'{head}<bpmn:process id="{process_id}" isExecutable="true">{body}</bpmn:process></bpmn:definitions>')


def flows(*pairs: str) -> str:
    """Sequence flows from ``"a>b"`` pairs; ``"a>b?cond"`` adds a condition. Ids are
    ``f_a_b`` (a gateway's ``default`` names one of them)."""
    out = []
    for pair in pairs:
        path, _, condition = pair.partition("?")
        source, target = path.split(">")
        cond = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
        out.append(f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" targetRef="{target}">'
                   f"{cond}</bpmn:sequenceFlow>")
    return "".join(out)
