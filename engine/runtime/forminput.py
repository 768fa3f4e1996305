"""What a task completion may write into a case: the fields its form declares, never a
protected variable.

A JSON Schema without ``additionalProperties: false`` accepts any extra field, and
SpiffWorkflow merges whatever a completion carries into the task data: a completion that
sent ``child_id`` moved its case to another child, and the next task to another village.
So, whatever the schema says:

* a task with a form accepts only the top-level fields its schema declares (``properties``,
  also inside ``allOf``/``anyOf``/``oneOf``/``if``/``then``/``else``/``dependentSchemas`` and
  local ``$ref``s); ``patternProperties`` and ``additionalProperties`` declare nothing;
* a task without a form declares nothing: it accepts no field, except the output item an
  instance of a multi-instance must set (``multiinstance.output_item_name``);
* no completion may set a protected variable: the engine's own (``engine_variables``:
  correlation properties of the process's messages and the variables they are read from,
  the variables message catches fill) and those the caller declares
  (``EngineConfig.protected_variables``, e.g. the router's ``child_id``).

A form whose data goes under ``spiffworkflow:variableName`` sets that one variable: it
must not be protected. Deploy refuses a form that declares a protected variable
(``engine.definitions.formfields``); this is the run-time side, for every completion.
"""
from __future__ import annotations

from typing import Callable, Collection, Iterable

from jsonschema import ValidationError
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition

from ..formschema import declared_fields
from .multiinstance import output_item_name


def engine_variables(workflow) -> set[str]:
    """Variables the engine itself owns in ``workflow`` (its process and all subprocess
    specs): each message's correlation property names and the plain variable names they
    are read from (``projections.subscription_correlation`` matches on them), and each
    catch's ``messageVariable`` (the message's payload lands there)."""
    specs = [workflow.spec, *workflow.subprocess_specs.values()]
    names: set[str] = set()
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            parts = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
            for part in parts:
                names.update(_event_variables(part))
    return names


def _event_variables(definition) -> Iterable[str]:
    for prop in getattr(definition, "correlation_properties", None) or []:
        yield prop.name
        if isinstance(prop.retrieval_expression, str) and prop.retrieval_expression.strip().isidentifier():
            yield prop.retrieval_expression.strip()
    if isinstance(getattr(definition, "message_var", None), str):
        yield definition.message_var


def field_errors(task, data, schema: dict | None, protected: Collection[str],
                 message: Callable | None = None) -> dict[str, str]:
    """``{field: reason}`` for every field of ``data`` the completion of ``task`` may not
    set: not declared by ``schema`` (a task without a form declares only a multi-instance
    output item), or a protected variable; ``{}`` when none. ``message(ValidationError)``
    words the reasons (validator ``additionalProperties`` for an undeclared field,
    ``x-protected`` for a protected one)."""
    if not isinstance(data, dict):
        return {}   # validate_form words that one
    variable = getattr(task.task_spec, "variable", None)
    errors = {}
    declared = declared_fields(schema) if schema is not None else {output_item_name(task)} - {None}
    for name in data:
        if name not in declared:
            errors[name] = _reason(message, "additionalProperties", name, data,
                                   f"{name} is not a field of this form" if schema is not None
                                   else f"{name}: this task has no form, it takes no data")
    for name in [variable] if variable else list(data):
        if name in protected:
            errors[name] = _reason(message, "x-protected", name, data,
                                   f"{name} is set by the process; a form may not change it")
    return errors


def _reason(message, validator, name, data, text) -> str:
    if message is None:
        return text
    return message(ValidationError(text, validator=validator, path=[name], instance=data, validator_value=name))
