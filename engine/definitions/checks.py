"""Static checks on parsed BPMN/DMN trees: lane roles, scripts and expressions.

SpiffWorkflow checks none of this at parse time; a bad script or condition only fails when
an instance reaches it (SPIFFWORKFLOW-NOTES §1). Each check returns DeployErrors and never
raises.
"""

from __future__ import annotations

import ast
import re
from typing import Callable, Collection, Mapping

from lxml import etree

from .errors import DeployError
from .xsd import NSMAP
from .xmlsafety import describe, element_error

Checker = Callable[[str, str], list[str]]


def syntax_only(source: str, mode: str = 'exec') -> list[str]:
    """Fallback checker when no sandbox checker is given: plain Python syntax, no policy.
    Compiling to an AST executes nothing."""
    try:
        ast.parse(source, '<bpmn>', mode)
    except SyntaxError as exc:
        return [f'Line {exc.lineno}: SyntaxError: {exc.msg}']
    except (ValueError, MemoryError, RecursionError) as exc:  # NUL bytes, absurd nesting
        return [f'{type(exc).__name__}: {exc}']
    return []


def guarded(check: Checker) -> Checker:
    """Wrap a checker so that a crash inside it becomes a message instead of an exception."""
    def run(source: str, mode: str) -> list[str]:
        try:
            return [str(m) for m in (check(source, mode) or [])]
        except Exception as exc:  # noqa: BLE001 - validate_bundle must never raise
            return [f'the checker failed: {type(exc).__name__}: {exc}']
    return run


# ---- lanes ---------------------------------------------------------------------------------
def check_lanes(file: str, root: etree._Element, known_roles: Collection[str]) -> list[DeployError]:
    """Each lane's name must be a known role code: routing sends a lane's tasks to the
    holders of the role with that code (ARCHITECTURE "Routing")."""
    errors = []
    hint = ''
    if known_roles:
        shown = sorted(known_roles)[:12]
        hint = ' (known role codes: ' + ', '.join(shown) + (', ...' if len(known_roles) > 12 else '') + ')'
    for lane in root.xpath('.//bpmn:lane', namespaces=NSMAP):
        name = lane.get('name')
        if not name:
            errors.append(element_error(file, lane, f'lane {lane.get("id")} has no name: a lane name '
                                        f'must be a known role code{hint}'))
        elif name not in known_roles:
            extra = ' (remove the surrounding spaces)' if name.strip() in known_roles else hint
            errors.append(element_error(file, lane, f'lane "{name}" ({lane.get("id")}): "{name}" is '
                                        f'not a known role code{extra}'))
    return errors


def check_subprocess_lanes(file: str, root: etree._Element) -> list[DeployError]:
    """SpiffWorkflow gives every element inside an embedded subprocess that sits in a lane
    that subprocess's lane, whatever lane lists the inner element: a task of another lane
    would be routed to the wrong role, silently. Such a subprocess must be in no lane."""
    lane_of = {}
    for lane in root.xpath('.//bpmn:lane', namespaces=NSMAP):
        for ref in lane.xpath('./bpmn:flowNodeRef', namespaces=NSMAP):
            lane_of[(ref.text or '').strip()] = lane.get('name')
    errors = []
    for sub in root.xpath('.//bpmn:subProcess | .//bpmn:transaction', namespaces=NSMAP):
        outer = lane_of.get(sub.get('id'))
        if outer is None:
            continue
        for inner in sub.xpath('.//bpmn:*[@id]', namespaces=NSMAP):
            inner_lane = lane_of.get(inner.get('id'))
            if inner_lane is not None and inner_lane != outer:
                errors.append(element_error(file, inner, (
                    f'{describe(inner)} is listed in lane "{inner_lane}" but sits in {describe(sub)}, '
                    f'which is in lane "{outer}": SpiffWorkflow would give it lane "{outer}". '
                    f'Take the subprocess out of its lane (list only its inner elements)')))
    return errors


_HUMAN_TASKS = './/bpmn:userTask | .//bpmn:manualTask'


def _lane_names(scope: etree._Element) -> dict[str, str | None]:
    """{flow node id: lane name} for the lanes drawn in ``scope`` (a file or a process)."""
    lane_of = {}
    for lane in scope.xpath('.//bpmn:lane', namespaces=NSMAP):
        for ref in lane.xpath('./bpmn:flowNodeRef', namespaces=NSMAP):
            lane_of[(ref.text or '').strip()] = lane.get('name')
    return lane_of


def _laneless_tasks(process: etree._Element, processes: Mapping[str, etree._Element],
                    seen: frozenset = frozenset()) -> list[str]:
    """Ids of the human tasks that run in ``process`` without a lane: its own that no lane
    holds (directly or through the embedded subprocess they sit in: SpiffWorkflow gives those
    the subprocess's lane), and, through its call activities outside any lane, those of the
    processes it calls (as ``process/task``)."""
    lane_of = _lane_names(process)

    def laneless(el):
        holders = [el] + [a for a in el.iterancestors() if a.get('id') and a is not process]
        return not any(h.get('id') in lane_of for h in holders)

    found = [t.get('id') for t in process.xpath(_HUMAN_TASKS, namespaces=NSMAP) if laneless(t)]
    seen = seen | {process.get('id')}
    for call in process.xpath('.//bpmn:callActivity[@calledElement]', namespaces=NSMAP):
        called = processes.get(call.get('calledElement'))
        if laneless(call) and called is not None and called.get('id') not in seen:
            found += [f'{called.get("id")}/{t}' for t in _laneless_tasks(called, processes, seen)]
    return found


def check_laneless_tasks(roots: Mapping[str, etree._Element], routing_properties: Collection[str]) -> list[DeployError]:
    """In a process drawn with lanes that no call activity of the deploy calls, a user or
    manual task in no lane (itself or the embedded subprocess it sits in) has no role to go
    to: the router would send it to its fallback, silently. An error, unless the task routes
    itself by one of the caller's ``routing_properties`` (e.g. a party's role). A called
    process's tasks without a lane take the lane of the activity that calls it
    (``note_called_lanes``), so called processes are not checked here."""
    called = {call.get('calledElement') for root in roots.values()
              for call in root.xpath('.//bpmn:callActivity[@calledElement]', namespaces=NSMAP)}
    errors = []
    for file, root in roots.items():
        for process in root.xpath('./bpmn:process', namespaces=NSMAP):
            if process.get('id') in called or not process.xpath('.//bpmn:lane', namespaces=NSMAP):
                continue
            for task_id in _laneless_tasks(process, {}):
                task = process.xpath('.//*[@id=$i]', namespaces=NSMAP, i=task_id)[0]
                names = {p.get('name') for p in task.xpath(
                    './bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property', namespaces=NSMAP)}
                if not names & set(routing_properties):
                    errors.append(element_error(file, task, (
                        f'{describe(task)} lies in no lane, so it has no role to go to: put it in a lane '
                        '(用户任务不在任何泳道内，无法分派：请放入一个泳道)')))
    return errors


def note_called_lanes(roots: Mapping[str, etree._Element]) -> list[DeployError]:
    """Warnings, one per call activity in a lane whose called process has human tasks outside
    any lane: those tasks are routed by the call activity's lane (``runtime.projections.
    effective_lane``; SpiffWorkflow alone gives them no lane, spiff-arena #1131)."""
    processes = {p.get('id'): p for root in roots.values()
                 for p in root.xpath('//bpmn:process[@id]', namespaces=NSMAP)}
    notes = []
    for file, root in roots.items():
        lane_of = _lane_names(root)
        for call in root.xpath('.//bpmn:callActivity[@calledElement]', namespaces=NSMAP):
            lane, called = lane_of.get(call.get('id')), processes.get(call.get('calledElement'))
            if lane is None or called is None:
                continue
            laneless = _laneless_tasks(called, processes)
            if laneless:
                shown = ', '.join(laneless[:5]) + (', ...' if len(laneless) > 5 else '')
                notes.append(element_error(file, call, (
                    f'{describe(call)} in lane "{lane}" calls process "{called.get("id")}", whose '
                    f'task(s) {shown} lie in no lane: they are routed as lane "{lane}" (a called '
                    'task without a lane takes the lane of the activity that called it)')))
    return notes


# ---- references SpiffWorkflow ignores silently --------------------------------------------
_CONTAINERS = './/bpmn:process | .//bpmn:subProcess | .//bpmn:transaction | .//bpmn:adHocSubProcess'


def check_references(file: str, root: etree._Element) -> list[DeployError]:
    """References that SpiffWorkflow does not check and silently drops (the XSD declares
    them IDREF but lxml does not enforce that): a flow's sourceRef, a boundary event's
    attachedToRef, a gateway's default flow. (A dangling targetRef is reported by the parser.)"""
    errors = []
    for container in root.xpath(_CONTAINERS, namespaces=NSMAP):
        ids = {c.get('id') for c in container if isinstance(c.tag, str) and c.get('id')}
        where = describe(container)
        for flow in container.xpath('./bpmn:sequenceFlow', namespaces=NSMAP):
            if flow.get('sourceRef') is not None and flow.get('sourceRef') not in ids:
                errors.append(element_error(file, flow, f'sequence flow {flow.get("id")} starts at '
                                            f'sourceRef "{flow.get("sourceRef")}", which is not an '
                                            f'element of {where}: the flow would never be taken'))
        for event in container.xpath('./bpmn:boundaryEvent', namespaces=NSMAP):
            if event.get('attachedToRef') not in ids:
                errors.append(element_error(file, event, f'{describe(event)} is attached to '
                                            f'"{event.get("attachedToRef")}", which is not an '
                                            f'activity of {where}: it would never fire'))
        gateways = './bpmn:exclusiveGateway[@default] | ./bpmn:inclusiveGateway[@default]'
        for gateway in container.xpath(gateways, namespaces=NSMAP):
            outgoing = container.xpath('./bpmn:sequenceFlow[@sourceRef=$g]/@id', namespaces=NSMAP,
                                       g=gateway.get('id'))
            if gateway.get('default') not in outgoing:
                errors.append(element_error(file, gateway, f'{describe(gateway)}: the default flow '
                                            f'"{gateway.get("default")}" is not one of its outgoing '
                                            'sequence flows'))
    return errors


# ---- scripts and expressions ----------------------------------------------------------------
# (xpath from the document root, mode, what to call it). The error names the nearest element
# with an id (the task, flow, event or correlation property holding the expression).
_EXPRESSIONS = [
    ('.//spiffworkflow:preScript', 'exec', 'preScript'),
    ('.//spiffworkflow:postScript', 'exec', 'postScript'),
    ('.//bpmn:sequenceFlow/bpmn:conditionExpression', 'eval', 'condition'),
    ('.//bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality', 'eval', 'loopCardinality'),
    ('.//bpmn:multiInstanceLoopCharacteristics/bpmn:completionCondition', 'eval', 'completionCondition'),
    ('.//bpmn:standardLoopCharacteristics/bpmn:loopCondition', 'eval', 'loopCondition'),
    ('.//bpmn:adHocSubProcess/bpmn:completionCondition', 'eval', 'completionCondition'),
    ('.//bpmn:conditionalEventDefinition/bpmn:condition', 'eval', 'condition'),
    ('.//spiffworkflow:messagePayload', 'eval', 'messagePayload'),
    ('.//spiffworkflow:payloadExpression', 'eval', 'payloadExpression'),
    # formalExpression, renamed messagePath by the XSD validator's preprocessing: any child.
    ('.//bpmn:correlationPropertyRetrievalExpression/*', 'eval', 'correlation retrieval expression'),
    ('.//spiffworkflow:processVariableCorrelation/spiffworkflow:expression', 'eval',
     'correlation expression'),
]


def _compile_error(file, el, what, source, mode, check):
    messages = check(source, mode)
    if messages:
        return element_error(file, el, f'{describe(el)}: {what} does not compile: ' + '; '.join(messages))
    return None


def check_expressions(file: str, root: etree._Element, check: Checker) -> list[DeployError]:
    """Scripts (exec) and expressions (eval) of a BPMN file must compile with ``check``."""
    errors = []
    for task in root.xpath('.//bpmn:scriptTask', namespaces=NSMAP):
        scripts = task.xpath('./bpmn:script', namespaces=NSMAP)
        source = scripts[-1].text if scripts else None
        if not source or not source.strip():
            # The default engine runs exec(None) -> TypeError when the task is reached.
            errors.append(element_error(file, task, f'{describe(task)} has no script'))
            continue
        errors.append(_compile_error(file, task, 'script', source, 'exec', check))
    for xpath, mode, what in _EXPRESSIONS:
        for el in root.xpath(xpath, namespaces=NSMAP):
            if el.text and el.text.strip():
                errors.append(_compile_error(file, el, what, el.text, mode, check))
    for param in root.xpath('.//spiffworkflow:serviceTaskOperator//spiffworkflow:parameter[@value]',
                            namespaces=NSMAP):
        # Each value is evaluated as Python before the service is called.
        errors.append(_compile_error(file, param, f'service parameter "{param.get("id")}"',
                                     param.get('value'), 'eval', check))
    return [e for e in errors if e is not None]


# ---- DMN ------------------------------------------------------------------------------------
def _dmn(root, name):
    return root.xpath(f'.//*[local-name()="{name}"]')


# SpiffWorkflow's DMNEngine replaces "?" outside quotes by the input value (4 < ? < 6).
_QUESTION = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')


def check_dmn_expressions(file: str, root: etree._Element, check: Checker) -> list[DeployError]:
    """DMN input expressions, input entries and output entries are Python for SpiffWorkflow's
    DMNEngine; check them the way it combines them (DMNEngine.evaluate / needs_eq)."""
    errors = []
    for text in _dmn(root, 'inputExpression'):
        for t in text.xpath('./*[local-name()="text"]'):
            if t.text and t.text.strip():
                errors.append(_compile_error(file, text, 'input expression', t.text, 'eval', check))
    for entry in _dmn(root, 'outputEntry'):
        for t in entry.xpath('./*[local-name()="text"]'):
            if t.text and t.text.strip():
                errors.append(_compile_error(file, entry, 'output entry', t.text, 'eval', check))
    for entry in _dmn(root, 'inputEntry'):
        for t in entry.xpath('./*[local-name()="text"]'):
            text = (t.text or '').strip()
            if not text or text == '-':
                continue
            match = _QUESTION.sub('dmninputexpr', text)
            if 'dmninputexpr' in match:
                combined = match
            elif not syntax_only(text, 'exec'):
                combined = f'(dmninputexpr) == ({text})'
            else:
                combined = f'dmninputexpr {text}'
            errors.append(_compile_error(file, entry, f'input entry {text!r}', combined, 'eval', check))
    return [e for e in errors if e is not None]


MAX_ID_LENGTH = 255   # process keys, element ids and names are stored in 255-character columns


def check_lengths(file: str, root: etree._Element) -> list[DeployError]:
    """Ids and names longer than the engine stores: refused at deploy, not failed at run time."""
    errors = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attribute in ("id", "name"):
            value = el.get(attribute)
            if value is not None and len(value) > MAX_ID_LENGTH:
                errors.append(element_error(file, el, f'{attribute} is {len(value)} characters long; '
                                                      f'at most {MAX_ID_LENGTH} are allowed'))
    return errors
