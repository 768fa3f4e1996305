"""Which message a waiting catch event may take: strict correlation, per catch event.

SpiffWorkflow 3.2 correlates loosely (engine/README.md, "Messages and correlation"): a
(sub)workflow that has caught nothing yet catches any message of the name, and after that
*any* one matching key suffices (PR #434). So a called process or a multi-instance child
waiting for ``returned`` catches every child's ``returned``, and a catch whose instance has
no value for a property matches everything. Here a catch expects, for each correlation
property of its message, one value: the (sub)process's own fixed correlation (an earlier
message set it), else the task's variable named by the retrieval expression. A property
with no value (absent, None, blank text) makes the catch *uncorrelatable*: it never matches.
A message matches a catch only if it gives every property a value, equal to the expected one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity

from ..errors import InvalidInput


def has_value(value) -> bool:
    """A correlation value that can identify something: not None, not blank text."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def same_value(a, b) -> bool:
    """Equal as correlation values: same JSON type and value. Python's ``True == 1`` would let
    a message correlated on ``child_id: true`` reach child 1's case."""
    return type(a) is type(b) and a == b


def _fixed_correlations(workflow) -> dict:
    """``{property: value}`` fixed for ``workflow`` by messages it caught or threw: its own,
    then those of the workflows it is embedded in (nearest first). A called process is an
    instance of its own: its caller's correlation does not carry into it (nor does one
    multi-instance child's into another's)."""
    known = {}
    while workflow is not None:
        for values in workflow.correlations.values():
            for name, value in values.items():
                known.setdefault(name, value)
        parent = getattr(workflow, "parent_workflow", None)
        if parent is None:
            break
        caller = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        if caller is None or isinstance(caller.task_spec, CallActivity):
            break
        workflow = parent
    return known


def expected_correlation(task, definition) -> tuple[dict, list[str]]:
    """``({property: value}, [properties without a value])`` that the waiting ``task``
    expects for message ``definition`` (a MessageEventDefinition). The second list is empty
    for a catch that can be matched."""
    known = _fixed_correlations(task.workflow)
    values, missing = {}, []
    for prop in definition.correlation_properties:
        variable = (prop.retrieval_expression or "").strip()
        value = known.get(prop.name)
        if not has_value(value):
            value = task.data.get(variable)
        if has_value(value):
            values[prop.name] = value
        else:
            missing.append(prop.name)
    return values, missing


def message_values(definition, script_engine, content: dict) -> dict:
    """``{property: value}`` that a message with ``content`` (payload and correlation) gives
    for ``definition``'s correlation properties, read by their retrieval expressions as
    SpiffWorkflow does. A property the message does not carry (the expression fails:
    SpiffWorkflow would raise a bare NameError into the catching instance) or carries
    without a value is left out."""
    values = {}
    for prop in definition.correlation_properties:
        try:
            value = script_engine.environment.evaluate(prop.retrieval_expression, dict(content))
        except Exception:  # noqa: BLE001 - any failure means: the message does not carry it
            continue
        if has_value(value):
            values[prop.name] = value
    return values


def takes(task, definition, given: dict) -> bool:
    """True if waiting ``task`` takes a message of ``definition`` that gives ``given``
    (``message_values``). A start event sets the correlation of what it starts: it takes a
    message that gives every property, unless its process already fixed other values."""
    expected, missing = expected_correlation(task, definition)
    names = [prop.name for prop in definition.correlation_properties]
    if not all(name in given for name in names):
        return False
    if missing and isinstance(task.task_spec, StartEvent):
        return all(same_value(given[name], expected[name]) for name in expected)
    return not missing and all(same_value(given[name], expected[name]) for name in names)


def correlation_matches(expected: dict, given: dict) -> bool:
    """Every property the catch event expects must be given, with a value, and equal. A
    property with no value (None, blank) matches nothing, not even another missing one
    (issue 9: a case without ``child_id`` caught every child's ``returned``)."""
    return all(has_value(value) and has_value(given.get(key)) and same_value(given[key], value)
               for key, value in expected.items())


def require_keys(name, correlation, required) -> None:
    """Raise InvalidInput (422) unless ``correlation`` gives each of ``required`` (property
    names) a value: ``{"correlation.<property>": "required" | "has no value"}``."""
    errors = {f"correlation.{key}": ("required" if key not in correlation else "has no value")
              for key in sorted(required) if not has_value(correlation.get(key))}
    if errors:
        raise InvalidInput(f"message {name} is correlated by {', '.join(sorted(required))}: "
                           "give each a value in the correlation", errors=errors)


REQUIRED_PAYLOAD = "requiredPayload"


@dataclass
class MessageUse:
    """How one process (with what it calls or embeds) uses one message: its correlation
    property names, the payload keys its catches declare they need (``requiredPayload``),
    and where it throws the message itself (the ids of its throw events, end events, send
    tasks)."""

    correlation: set[str] = field(default_factory=set)
    payload: set[str] = field(default_factory=set)
    thrown_at: set[str] = field(default_factory=set)


def required_payload(task_spec) -> list[str]:
    """The payload keys a message catch declares it needs: its comma-separated property
    ``requiredPayload`` (what its message variable's readers index, e.g. ``returned["date"]``).
    A message without one of them is refused before it is stored (``MessageService.deliver``)."""
    value = ((getattr(task_spec, "extensions", None) or {}).get("properties") or {}).get(REQUIRED_PAYLOAD)
    return [name.strip() for name in (value or "").split(",") if name.strip()]


def message_uses(spec, subprocess_specs) -> dict[str, MessageUse]:
    """``{message name: MessageUse}`` over the message events of a process and the
    processes it calls or embeds (a message's correlation properties are the same wherever
    it is used; payload needs come from its catches, ``thrown_at`` from its throws)."""
    uses: dict[str, MessageUse] = {}
    for each in [spec, *(s for s in (subprocess_specs or {}).values() if s is not None)]:
        for task_spec in each.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            parts = getattr(definition, "event_definitions", None) or [definition]
            # An event-based gateway holds the definitions of the catches after it, in the
            # order of its outputs (SpiffWorkflow moves them there): the catch keeps its properties.
            catches = task_spec.outputs if isinstance(task_spec, EventBasedGateway) else [task_spec] * len(parts)
            for part, catch in zip(parts, catches):
                if not isinstance(part, MessageEventDefinition):
                    continue
                use = uses.setdefault(part.name, MessageUse())
                use.correlation.update(p.name for p in part.correlation_properties)
                if isinstance(task_spec, ThrowingEvent):
                    use.thrown_at.add(task_spec.bpmn_id)
                else:
                    use.payload.update(required_payload(catch))
    return uses


def message_keys(spec, subprocess_specs) -> dict[str, set[str]]:
    """``{message name: {correlation property}}`` (``message_uses``' correlations)."""
    return {name: use.correlation for name, use in message_uses(spec, subprocess_specs).items()}


def require_payload(name, payload: dict, required) -> None:
    """Raise InvalidInput (422) unless ``payload`` gives each of ``required`` (the keys the
    message's catches declare, ``requiredPayload``) a value: ``{"payload.<key>": ...}``. A
    catch whose script reads ``returned["date"]`` would otherwise put the case in error."""
    errors = {f"payload.{key}": ("required by the process that receives it" if key not in payload
                                 else "has no value") for key in sorted(required) if not has_value(payload.get(key))}
    if errors:
        raise InvalidInput(f"message {name} needs {', '.join(sorted(required))} in its payload "
                           "(requiredPayload of the events that catch it)", errors=errors)
