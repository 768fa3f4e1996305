"""Turn stored BPMN/DMN bytes into SpiffWorkflow specs, with errors mapped to element and line.

SpiffWorkflow reports problems as ``ValidationException`` (one at a time, with an element
``id`` but an empty ``line_number`` for node errors, SPIFFWORKFLOW-NOTES §1) or as bare
exceptions. ``ParseSession`` wraps one ``SpiffBpmnParser`` and turns all of these into
``DeployError`` records that name the file, the element id and its line.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from typing import Mapping

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from .errors import DeployError, DeployValidationError
from .xmlsafety import describe, id_index, local_name, parse_xml
from .xsd import BPMN_NS, NSMAP, PrevalidatedValidator, shorten, xsd_errors

_SUBPROCESS_TAGS = ('subProcess', 'transaction', 'adHocSubProcess')


def file_kind(name: str) -> str | None:
    """'bpmn', 'dmn', 'json' from the file name's extension (case-insensitive), else None."""
    lowered = name.lower()
    for ext in ('bpmn', 'dmn', 'json'):
        if lowered.endswith('.' + ext):
            return ext
    return None


class _DocumentOrderParser(SpiffBpmnParser):
    """SpiffWorkflow orders a node's outgoing flows by the y coordinate of their targets'
    shapes (TaskParser.parse_node), so moving a shape in the drawing would change which
    condition an exclusive gateway tries first and which parallel branch runs first. The
    drawing says nothing about the process: flows keep their document order, as without DI."""

    def get_document_positions(self, root):
        return {}


class ParseSession:
    """One SpiffBpmnParser plus what is needed to explain its errors.

    ``add()`` files one by one (errors are returned, nothing raises), then ask for specs
    with ``collect_specs()``. Attributes: ``parser`` (SpiffBpmnParser, validator on),
    ``roots`` {file name: lxml root} of the files added, ``process_files`` {process or
    embedded-subprocess id: file name}, ``decision_files`` {decision id: file name}.
    """

    def __init__(self):
        self._validator = PrevalidatedValidator()
        self.parser = _DocumentOrderParser(validator=self._validator)
        self.roots: dict[str, etree._Element] = {}
        self.indexes: dict[str, dict[str, etree._Element]] = {}
        self.process_files: dict[str, str] = {}
        self.decision_files: dict[str, str] = {}
        self.broken_decisions: dict[str, str] = {}
        self._failed: dict[str, list[DeployError]] = {}

    # ---- adding files -------------------------------------------------------------------
    @staticmethod
    def process_elements(root: etree._Element) -> list[etree._Element]:
        """Top-level processes and embedded subprocesses: SpiffWorkflow gives each a parser
        keyed by its id, so these ids must be unique across the whole deploy."""
        found = root.xpath('./bpmn:process', namespaces=NSMAP)
        for tag in _SUBPROCESS_TAGS:
            found += root.xpath(f'./bpmn:process//bpmn:{tag}', namespaces=NSMAP)
        return [el for el in found if el.get('id')]

    def conflicts(self, root: etree._Element) -> dict[str, str]:
        """{process id: file that already defines it} for the processes in ``root``."""
        return {el.get('id'): self.process_files[el.get('id')]
                for el in self.process_elements(root) if el.get('id') in self.process_files}

    def add(self, name: str, root: etree._Element) -> list[DeployError]:
        """Validate (XSD, duplicate ids) and add one parsed file; returns its errors.
        A file with errors is not added to the parser (SpiffWorkflow would be left half-loaded)."""
        kind = file_kind(name)
        if kind == 'dmn':
            return self._add_dmn(name, root)
        if etree.QName(root).namespace != BPMN_NS or local_name(root) != 'definitions':
            return [DeployError(name, None, root.sourceline,
                                f'not a BPMN file: the root element is {local_name(root)}; expected '
                                f'bpmn:definitions in namespace {BPMN_NS}')]
        errors = xsd_errors(name, root, 'bpmn')
        if errors:
            return errors
        for el in self.process_elements(root):
            other = self.process_files.get(el.get('id'))
            if other is not None:
                errors.append(DeployError(
                    name, el.get('id'), el.sourceline,
                    f'process id "{el.get("id")}" is already defined in {other}; process ids must '
                    'be unique across the files of a deploy'))
        if errors:
            return errors
        self._validator.validated.add(id(root))
        self._register(name, root)
        try:
            self.parser.add_bpmn_xml(root, filename=name)
        except Exception as exc:  # noqa: BLE001 - any library failure becomes a DeployError
            return [self.map_exception(exc, name)]
        for el in self.process_elements(root):
            self.process_files[el.get('id')] = name
        return []

    def _register(self, name, root):
        self.roots[name] = root
        self.indexes[name] = id_index(root)

    def _add_dmn(self, name: str, root: etree._Element) -> list[DeployError]:
        decisions = [el for el in root if isinstance(el.tag, str) and local_name(el) == 'decision']
        errors = self._check_dmn(name, root, decisions)
        if errors:
            # Remembered so that a business rule task calling it is told why it is missing.
            for decision in decisions:
                self.broken_decisions.setdefault(decision.get('id'), name)
        else:
            self.decision_files[decisions[0].get('id')] = name
        return errors

    def _check_dmn(self, name, root, decisions) -> list[DeployError]:
        errors = xsd_errors(name, root, 'dmn')
        if errors:
            return errors
        if len(decisions) != 1:
            # DMNParser.bpmn_id and _parse_decision crash (IndexError/AttributeError) otherwise.
            return [DeployError(name, None, root.sourceline,
                                f'the DMN file has {len(decisions)} decisions; SpiffWorkflow needs '
                                'exactly one decision per DMN file')]
        decision = decisions[0]
        tables = [el for el in decision if isinstance(el.tag, str) and local_name(el) == 'decisionTable']
        if len(tables) != 1:
            return [DeployError(name, decision.get('id'), decision.sourceline,
                                f'decision {decision.get("id")} has {len(tables)} decision tables; '
                                'SpiffWorkflow needs exactly one')]
        other = self.decision_files.get(decision.get('id'))
        if other is not None:
            return [DeployError(name, decision.get('id'), decision.sourceline,
                                f'decision id "{decision.get("id")}" is already defined in {other}')]
        try:
            self.parser.add_dmn_xml(root, filename=name)
            # DMN parsing is lazy (only when a business rule task is parsed): force it now.
            self.parser.dmn_parsers[decision.get('id')].parse()
        except Exception as exc:  # noqa: BLE001
            self.parser.dmn_parsers.pop(decision.get('id'), None)
            self._register(name, root)
            return [self.map_exception(exc, name)]
        self._register(name, root)
        return []

    def missing_decisions(self) -> set[str]:
        """Decision ids that business rule tasks call but no DMN file of the session defines."""
        return {d for d in self.parser.get_dmn_dependencies() if d} - set(self.parser.dmn_parsers)

    # ---- specs --------------------------------------------------------------------------
    def collect_specs(self, process_id: str):
        """Parse ``process_id`` and everything it calls.

        Returns ``(spec or None, {id: spec} of subprocesses and called processes, missing,
        errors)`` where ``missing`` is a list of ``(called process id, calling file, call
        activity id)`` for call activities whose process is not in the session. Called again
        after more files were added, it resolves what was missing before.
        """
        errors: list[DeployError] = []
        missing: list[tuple[str, str, str]] = []
        subs: dict = {}
        spec = self._spec(process_id, errors)
        if spec is not None:
            self._walk(spec, subs, missing, errors)
        return spec, subs, missing, errors

    def _spec(self, process_id, errors):
        # A failed get_spec leaves a half-built spec cached in the ProcessParser (create_spec
        # runs before add_tasks), and asking again would return it without error: remember.
        if process_id in self._failed:
            errors.extend(self._failed[process_id])
            return None
        try:
            return self.parser.get_spec(process_id)
        except Exception as exc:  # noqa: BLE001
            mapped = [self.map_exception(exc, self.process_files.get(process_id))]
            self._failed[process_id] = mapped
            errors.extend(mapped)
            return None

    def _walk(self, spec, subs, missing, errors):
        # Same traversal as BpmnParser.get_subprocess_specs, which however raises on the first
        # missing called process (without naming the call activity) when it recurses.
        for task_spec in list(spec.task_specs.values()):
            if not isinstance(task_spec, SubWorkflowTaskMixin) or task_spec.spec in subs:
                continue
            if self.parser.get_process_parser(task_spec.spec) is None:
                caller = self.parser.get_process_parser(spec.name)
                missing.append((task_spec.spec, caller.filename if caller else None, task_spec.bpmn_id))
                continue
            sub = self._spec(task_spec.spec, errors)
            if sub is not None:
                subs[task_spec.spec] = sub
                self._walk(sub, subs, missing, errors)

    # ---- errors -------------------------------------------------------------------------
    def element(self, file: str | None, element_id: str | None) -> tuple[str | None, etree._Element | None]:
        """Find an element by id, preferring ``file``; returns (file, element) or (file, None)."""
        if not element_id:
            return file, None
        if file in self.indexes and element_id in self.indexes[file]:
            return file, self.indexes[file][element_id]
        for other, index in self.indexes.items():
            if element_id in index:
                return other, index[element_id]
        return file, None

    def map_exception(self, exc: Exception, default_file: str | None) -> DeployError:
        """A DeployError for anything SpiffWorkflow raised while parsing."""
        if not isinstance(exc, ValidationException):
            return DeployError(default_file, None, None,
                               f'SpiffWorkflow could not read this definition: {type(exc).__name__}: {exc}')
        file, el = self.element(exc.file_name or default_file, exc.id or None)
        line = exc.line_number if isinstance(exc.line_number, int) else None
        if el is not None:
            line = el.sourceline
        message = str(exc.args[0]) if exc.args else str(exc)
        message = ' '.join([message.rstrip('. ') + '.'] + [n for n in getattr(exc, 'notes', []) if n])
        return self._rewrite(DeployError(file, exc.id or None, line, shorten(message)), el)

    def _rewrite(self, error: DeployError, el) -> DeployError:
        """Replace SpiffWorkflow messages that mislead or are cut off."""
        msg = error.message
        dangling = re.match(r'When looking for a task spec, we found two items.*\((.*)\)', msg)
        if dangling and el is not None and error.file in self.roots:
            target = dangling.group(1)
            for flow in self.roots[error.file].xpath('.//bpmn:sequenceFlow[@sourceRef=$s][@targetRef=$t]',
                                                     namespaces=NSMAP, s=error.element_id, t=target):
                where = ('which is in another process (sequence flows cannot cross pools; use a '
                         'message flow)' if target in self.indexes[error.file] else
                         'but no element has that id')
                return DeployError(error.file, flow.get('id'), flow.sourceline,
                                   f'sequence flow {flow.get("id")} from {error.element_id} points to '
                                   f'targetRef "{target}", {where}')
            return DeployError(error.file, error.element_id, error.line,
                               f'{describe(el)} has an outgoing sequence flow to "{target}", '
                               'which is not an element of this process')
        if msg.startswith('Multiple outgoing flows are not supported') and el is not None:
            return DeployError(error.file, error.element_id, error.line,
                               f'{describe(el)} has several outgoing sequence flows; SpiffWorkflow '
                               f'allows only one on a {local_name(el)}: add a gateway after it')
        if msg.startswith('No start event found') and el is not None:
            return DeployError(error.file, error.element_id, error.line,
                               f'{describe(el)} has no start event')
        if msg.startswith('There is no support implemented for this task type') and el is not None:
            return DeployError(error.file, error.element_id, error.line,
                               f'{describe(el)}: SpiffWorkflow does not support {local_name(el)} elements')
        if 'Unknown Time Specification' in msg and el is not None:
            return DeployError(error.file, error.element_id, error.line,
                               f'{describe(el)}: the timer has no timeDate, timeDuration or timeCycle')
        if 'Unsupported Catch Event' in msg and el is not None:
            return DeployError(error.file, error.element_id, error.line,
                               f'{describe(el)} has no event definition SpiffWorkflow supports')
        if msg.startswith('No DMN Diagram available with id') and el is not None:
            ref = re.search(r'id "([^"]*)"', msg)
            ref = ref.group(1) if ref else '?'
            why = (f'whose DMN file {self.broken_decisions[ref]} has errors' if ref in self.broken_decisions
                   else 'which no DMN file of this deploy defines')
            return DeployError(error.file, error.element_id, error.line,
                               f'{describe(el)} calls decision "{ref}", {why}')
        store = re.match(r'Data Store with name (.*) has no implementation', msg)
        if store and error.file in self.roots:
            found = self.roots[error.file].xpath('.//bpmn:dataStore[@name=$n]', namespaces=NSMAP,
                                                 n=store.group(1))
            target = found[0] if found else None
            return DeployError(error.file, target.get('id') if target is not None else None,
                               target.sourceline if target is not None else None,
                               f'data store "{store.group(1)}": no data store implementation is '
                               'registered under this name')
        if re.match(r'^\w+(Error|Exception)\(', msg):
            return DeployError(error.file, error.element_id, error.line,
                               f'SpiffWorkflow could not parse this element: {msg}')
        return error


def _session_for(files: Mapping[str, bytes]) -> tuple[ParseSession, list[DeployError]]:
    session, errors = ParseSession(), []
    for name, data in files.items():
        if file_kind(name) not in ('bpmn', 'dmn'):
            continue
        root, problems = parse_xml(name, data)
        errors += problems or session.add(name, root)
    return session, errors


def build_parser(files: Mapping[str, bytes]) -> SpiffBpmnParser:
    """A SpiffBpmnParser (XSD validator on) holding every .bpmn/.dmn of ``files``.

    ``files`` maps file name -> bytes; other extensions (forms) are ignored. Each file is
    parsed safely (no DTD/entities). Raises DeployValidationError listing every file-level
    error (XML, XSD, duplicate ids, DMN). Specs are parsed lazily by ``parser.get_spec``.
    """
    session, errors = _session_for(files)
    if errors:
        raise DeployValidationError(errors)
    return session.parser


def load_specs(files: Mapping[str, bytes], process_id: str):
    """``(BpmnProcessSpec, {id: spec})`` for running ``process_id`` from a stored version.

    The dict holds embedded subprocesses and called processes (transitively), as
    ``BpmnWorkflow(spec, subprocess_specs)`` expects. Raises DeployValidationError when
    the files do not parse, the process is missing or not executable, or a called process
    is missing.

    Specs are shared: stored versions never change, so the same files parse once per
    process (a test suite builds hundreds of engines on one folder; a server, one).
    """
    digest = files_digest(files)
    cached = _SPECS.get((digest, process_id))
    if cached is None:
        cached = _load_specs(_SESSIONS.get(digest) or _parsed(files, digest), process_id)
        _remember(_SPECS, (digest, process_id), cached, 64)
    return cached


_SPECS: OrderedDict = OrderedDict()     # (files digest, process id) -> (spec, subprocess specs)
_SESSIONS: OrderedDict = OrderedDict()  # files digest -> ParseSession, for the other processes


def files_digest(files: Mapping[str, bytes]) -> str:
    """SHA-256 over the names and contents of ``files``, whatever their order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


_CACHE_LOCK = threading.Lock()


def _remember(cache: OrderedDict, key, value, size: int) -> None:
    with _CACHE_LOCK:
        cache[key] = value
        while len(cache) > size:
            cache.popitem(last=False)


def _parsed(files: Mapping[str, bytes], digest: str) -> ParseSession:
    session, errors = _session_for(files)
    if errors:
        raise DeployValidationError(errors)
    _remember(_SESSIONS, digest, session, 4)
    return session


def _load_specs(session: ParseSession, process_id: str):
    if session.parser.get_process_parser(process_id) is None:
        raise DeployValidationError([DeployError(None, None, None,
                                                 f'process "{process_id}" is not defined in these files')])
    spec, subs, missing, errors = session.collect_specs(process_id)
    for called, file, activity in missing:
        file, el = session.element(file, activity)
        errors.append(DeployError(file, activity, el.sourceline if el is not None else None,
                                  f'call activity {activity} calls process "{called}", which is not '
                                  'in these files'))
    if errors or spec is None:
        raise DeployValidationError(errors or [
            DeployError(None, None, None, f'process "{process_id}" could not be parsed')])
    return spec, subs
