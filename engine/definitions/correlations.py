"""Deploy warnings about message correlation: catches that may wait uncorrelatable.

A waiting message catch takes the value of each correlation property from its instance's
data (the variable its retrieval expression names) or from an earlier message of the same
process (``engine.runtime.correlation``). When neither is certain, an instance can reach the
catch without a value: it then waits ``uncorrelatable`` (visible, never matched) instead of
catching other cases' messages. That is allowed, so these are warnings, not errors: they
name each catch and what would make its key certain: the variable required to start (the
start event's ``requiredVariables`` property or a process data input: a start without it is
then a 422, ``engine.instances.required_start_variables``), or a message start event with the
same correlation property.

``check_required_payload`` (errors, not warnings): the ``requiredPayload`` property that
declares what a message catch needs of the payload is well formed and where it belongs.
"""
from __future__ import annotations

import ast

from lxml import etree

from .errors import DeployError
from .xmlsafety import describe, element_error
from .xsd import NSMAP

_CATCHES = ('.//bpmn:intermediateCatchEvent[bpmn:messageEventDefinition]'
            ' | .//bpmn:boundaryEvent[bpmn:messageEventDefinition]'
            ' | .//bpmn:subProcess/bpmn:startEvent[bpmn:messageEventDefinition]'
            ' | .//bpmn:receiveTask')


def _properties_by_message(root) -> dict[str, list[tuple[str, str]]]:
    """``{message id: [(property name, retrieval expression)]}``."""
    found: dict[str, list[tuple[str, str]]] = {}
    for prop in root.xpath('.//bpmn:correlationProperty', namespaces=NSMAP):
        for retrieval in prop.xpath('./bpmn:correlationPropertyRetrievalExpression', namespaces=NSMAP):
            # formalExpression, or messagePath after the XSD validator's preprocessing: any child.
            text = ''.join(child.text or '' for child in retrieval if isinstance(child.tag, str)).strip()
            # SpiffWorkflow names a property by its id (the key a message's correlation uses).
            found.setdefault(retrieval.get('messageRef'), []).append((prop.get('id'), text))
    return found


def _message_ref(catch) -> str | None:
    if catch.get('messageRef') is not None:   # receiveTask
        return catch.get('messageRef')
    definition = catch.find('bpmn:messageEventDefinition', NSMAP)
    return definition.get('messageRef') if definition is not None else None


def check_correlations(file: str, root: etree._Element) -> list[DeployError]:
    """Warnings for every message catch of an executable process whose correlation
    properties are not certain to have a value when it is reached, and for catches of a
    message that has no correlation property at all (every waiting instance catches it)."""
    by_message = _properties_by_message(root)
    warnings = []
    for process in root.xpath('./bpmn:process[not(@isExecutable="false")]', namespaces=NSMAP):
        inputs = set(process.xpath('./bpmn:ioSpecification/bpmn:dataInput/@id', namespaces=NSMAP))
        for value in process.xpath('./bpmn:startEvent/bpmn:extensionElements/spiffworkflow:properties/'
                                   'spiffworkflow:property[@name="requiredVariables"]/@value', namespaces=NSMAP):
            inputs.update(name.strip() for name in value.split(','))
        started_with = {name for start in process.xpath('./bpmn:startEvent/bpmn:messageEventDefinition',
                                                        namespaces=NSMAP)
                        for name, _ in by_message.get(start.get('messageRef'), [])}
        where = describe(process)
        for catch in process.xpath(_CATCHES, namespaces=NSMAP):
            ref = _message_ref(catch)
            properties = by_message.get(ref, [])
            if not properties:
                warnings.append(element_error(file, catch, (
                    f'{describe(catch)} waits for message "{ref}", which has no correlation property: '
                    f'every waiting instance of {where} catches every such message')))
                continue
            for name, expression in properties:
                if name in started_with:
                    continue   # the message start event fixed it for the whole instance
                if not expression.isidentifier():
                    warnings.append(element_error(file, catch, (
                        f'{describe(catch)}: correlation property "{name}" is read by "{expression}", '
                        'not a variable name, so a waiting instance has its value only from an earlier '
                        'message; without one the catch waits uncorrelatable')))
                elif expression not in inputs:
                    warnings.append(element_error(file, catch, (
                        f'{describe(catch)}: correlation property "{name}" comes from variable '
                        f'"{expression}", which {where} does not require to start: an instance without it '
                        'waits uncorrelatable here. To refuse a start without it, list it in the start '
                        'event\'s property requiredVariables (or declare it as a dataInput of the process)')))
    return warnings


_THROWS = ('.//bpmn:intermediateThrowEvent[bpmn:messageEventDefinition]'
           ' | .//bpmn:endEvent[bpmn:messageEventDefinition] | .//bpmn:sendTask')
_REQUIRED_PAYLOAD = './bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name="requiredPayload"]'


def check_required_payload(file: str, root: etree._Element) -> list[DeployError]:
    """Errors for the ``requiredPayload`` property (the payload keys a message catch needs:
    ``engine.runtime.correlation.required_payload``): it must sit on an element that catches
    a message, and list identifiers (``date,watch_until``); a throw of the same message in this
    file whose ``messagePayload`` is a literal ``{...}`` must give each key its catches need."""
    errors, needed = [], {}
    for prop in root.xpath('.//bpmn:*/' + _REQUIRED_PAYLOAD.removeprefix('./'), namespaces=NSMAP):
        element = prop.getparent().getparent().getparent()
        names = [name.strip() for name in (prop.get('value') or '').split(',')]
        ref = _message_ref(element)
        if element not in root.xpath(_CATCHES + ' | .//bpmn:startEvent[bpmn:messageEventDefinition]',
                                     namespaces=NSMAP) or ref is None:
            errors.append(element_error(file, element, (
                f'{describe(element)} has the property requiredPayload but catches no message: '
                'put it on the event (or receive task) that catches the message')))
        elif not names or not all(name.isidentifier() for name in names):
            errors.append(element_error(file, element, (
                f'{describe(element)}: requiredPayload must list payload keys separated by commas '
                f'(e.g. "date,watch_until"), not "{prop.get("value")}"')))
        else:
            needed.setdefault(ref, set()).update(names)
    for throw in root.xpath(_THROWS, namespaces=NSMAP):
        ref = _message_ref(throw)
        given = _literal_keys(throw)
        if ref in needed and given is not None and needed[ref] - given:
            errors.append(element_error(file, throw, (
                f'{describe(throw)} throws message "{ref}" without {", ".join(sorted(needed[ref] - given))}, '
                'which the events catching it require (requiredPayload)')))
    return errors


def _literal_keys(throw) -> set[str] | None:
    """The keys of a throw's ``messagePayload`` when it is a ``{"key": ...}`` literal; else None
    (an expression: what it gives is known only when it runs)."""
    text = ''.join(throw.xpath('.//spiffworkflow:messagePayload/text()', namespaces=NSMAP)).strip()
    try:
        node = ast.parse(text, mode='eval').body if text else None
    except SyntaxError:
        return None
    if not isinstance(node, ast.Dict) or not all(isinstance(k, ast.Constant) and isinstance(k.value, str)
                                                 for k in node.keys):
        return None
    return {k.value for k in node.keys}
