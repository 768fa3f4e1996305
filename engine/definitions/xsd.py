"""XML Schema validation of BPMN (with the spiffworkflow extension XSD) and DMN files.

SpiffWorkflow's BpmnValidator reports only the last schema error and no element; this
module reports every error with its line (and the element id where the element has one).
"""

from __future__ import annotations

import re
import threading

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from .errors import DeployError
from .xmlsafety import local_name

BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL'
SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core'
NSMAP = {'bpmn': BPMN_NS, 'spiffworkflow': SPIFF_NS}

# VALIDATOR is one compiled XMLSchema shared by the whole process; its error_log is
# overwritten by every validation, so concurrent deploys (threaded server) must take turns.
_XSD_LOCK = threading.Lock()
_DMN_VALIDATORS: dict[str, BpmnValidator] = {}


def shorten(message: str) -> str:
    """Namespaces as prefixes (bpmn:, spiffworkflow:, dmn:) and long 'Expected is one of'
    lists cut, so that schema messages fit in an error list."""
    message = (message.replace('{%s}' % BPMN_NS, 'bpmn:').replace('{%s}' % SPIFF_NS, 'spiffworkflow:'))
    message = re.sub(r'\{https?://www\.omg\.org/spec/DMN/[^}]*\}', 'dmn:', message)
    expected = re.search(r'Expected is one of \((.*)\)', message)
    if expected and expected.group(1).count(',') > 5:
        items = [i.strip() for i in expected.group(1).split(',')]
        message = message.replace(expected.group(0),
                                  'Expected is one of (' + ', '.join(items[:6]) + ', ...)')
    return message.strip()


def xsd_errors(name: str, root: etree._Element, kind: str) -> list[DeployError]:
    """Validate ``root`` against the BPMN (+spiffworkflow) or DMN XSD; every error, with line."""
    if kind == 'bpmn':
        validator = VALIDATOR
    else:
        namespace = etree.QName(root).namespace
        schema = DMN_SCHEMAS.get(namespace)
        if schema is None or local_name(root) != 'definitions':
            return [DeployError(name, None, root.sourceline,
                                f'not a DMN file SpiffWorkflow can read: root element '
                                f'{{{namespace}}}{local_name(root)}; expected "definitions" in one of '
                                + ', '.join(DMN_SCHEMAS))]
        with _XSD_LOCK:
            if schema not in _DMN_VALIDATORS:
                _DMN_VALIDATORS[schema] = BpmnValidator(schema)
            validator = _DMN_VALIDATORS[schema]
    with _XSD_LOCK:
        # preprocess renames correlation formalExpression -> messagePath (what bpmn-js
        # writes is not schema-valid); SpiffWorkflow does the same before validating.
        validator.preprocess(root)
        ok = validator.validator.validate(root)
        log = [] if ok else list(validator.validator.error_log)
    errors = []
    for entry in log:
        element_id = None
        named = re.match(r"Element '\{[^}]*\}([\w.-]+)'", entry.message)
        if named and entry.line:
            for el in root.iter(etree.Element):
                if el.sourceline == entry.line and local_name(el) == named.group(1):
                    element_id = el.get('id')
                    break
        message = 'XML Schema: ' + shorten(entry.message)
        if "atomic type 'xs:ID'" in message:
            message += (' (an id must be unique within the file and be an XML name: it starts '
                        'with a letter or "_" and has no spaces)')
        errors.append(DeployError(name, element_id, entry.line or None, message))
    return errors


class PrevalidatedValidator:
    """Validator given to SpiffBpmnParser. Trees added through ParseSession were already
    validated (reporting every error, not only the last as BpmnValidator does); anything
    added to the parser some other way is validated here."""

    def __init__(self):
        self.validated: set[int] = set()

    def validate(self, bpmn, filename=None):
        root = bpmn.getroot() if hasattr(bpmn, 'getroot') else bpmn
        if id(root) in self.validated:
            return
        errors = xsd_errors(filename or '', root, 'bpmn')
        if errors:
            raise ValidationException(errors[0].message, file_name=filename, line_number=errors[0].line)
