"""Deploy checks on what user tasks' forms may write into a case.

* A form may not declare a protected variable (``engine.runtime.forminput``): the diagram's
  correlation properties and the variables they are read from, its message variables, and
  the caller's own (``EngineConfig.protected_variables``, e.g. the router's ``child_id``). A
  completion would be refused at run time anyway; refusing the deploy names the form.
* The instances of a multi-instance user task must each bring the ``outputDataItem``
  (SPIFFWORKFLOW-NOTES §7): a form that does not declare it, on a task without a postScript
  run on each instance that could set it, could never be completed. (A task without a form
  accepts free data.)
"""
from __future__ import annotations

from typing import Collection

from lxml import etree

from ..formschema import declared_fields
from .errors import DeployError
from .forms import SCHEMA_PROPERTY, FormChecker, parse_json
from .xmlsafety import describe, element_error
from .xsd import NSMAP


def diagram_variables(root: etree._Element) -> set[str]:
    """What a BPMN file's messages own: correlation property ids and names, plain
    variable names their retrieval expressions read, and ``messageVariable`` names.
    The XML twin of ``runtime.forminput.engine_variables``."""
    names = set()
    for prop in root.xpath('.//bpmn:correlationProperty', namespaces=NSMAP):
        names.update(v for v in (prop.get('id'), prop.get('name')) if v)
        # formalExpression, renamed messagePath by the XSD validator's preprocessing: any child.
        for expression in prop.xpath('./bpmn:correlationPropertyRetrievalExpression/*', namespaces=NSMAP):
            text = (expression.text or '').strip()
            if text.isidentifier():
                names.add(text)
    for variable in root.xpath('.//spiffworkflow:messageVariable', namespaces=NSMAP):
        if (variable.text or '').strip():
            names.add(variable.text.strip())
    return names


def _text(task, path) -> str | None:
    found = task.xpath(path, namespaces=NSMAP)
    return found[0].strip() if found and isinstance(found[0], str) and found[0].strip() else None


def check_form_fields(file: str, root: etree._Element, forms: FormChecker,
                      protected: Collection[str] = ()) -> list[DeployError]:
    """Errors for user/manual tasks whose form declares a protected variable, or whose
    multi-instance output item no completion could set. Forms with problems of their own
    are left to ``FormChecker.check``."""
    guarded = set(protected) | diagram_variables(root)
    errors = []
    for task in root.xpath('.//bpmn:userTask | .//bpmn:manualTask', namespaces=NSMAP):
        form = _text(task, './bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property'
                           f'[@name="{SCHEMA_PROPERTY}"]/@value')
        if form is None or forms.problem(form, SCHEMA_PROPERTY) is not None:
            continue
        schema, _, _ = parse_json(forms.found[form])
        variable = _text(task, './bpmn:extensionElements/spiffworkflow:variableName/text()')
        written = {variable} if variable else declared_fields(schema)
        clash = sorted(written & guarded)
        if clash:
            errors.append(element_error(file, task, (
                f'{describe(task)}: form "{form}" would set {", ".join(clash)}, which the process '
                'sets itself (correlation, messages or routing): a form may never change it; '
                'rename the field')))
        output = _text(task, './bpmn:multiInstanceLoopCharacteristics[bpmn:loopDataOutputRef]'
                             '/bpmn:outputDataItem/@id')
        # SpiffWorkflow runs a multi-instance's postScript once, on the whole, unless
        # scriptsOnInstances: only then can it set each instance's output item.
        per_instance = task.xpath('./bpmn:multiInstanceLoopCharacteristics/@spiffworkflow:scriptsOnInstances',
                                  namespaces=NSMAP) == ['true']
        postscript = _text(task, './bpmn:extensionElements/spiffworkflow:postScript/text()')
        if output and not (postscript and per_instance) and output not in written:
            errors.append(element_error(file, task, (
                f'{describe(task)}: each instance must set the output item "{output}", but form '
                f'"{form}" does not declare it: declare it in the form (or set it in a postScript '
                'with spiffworkflow:scriptsOnInstances="true")')))
    return errors
