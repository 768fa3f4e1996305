"""validate_bundle: everything a deploy must pass before its files are stored as a version."""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Mapping, Sequence

from lxml import etree

from .checks import (check_dmn_expressions, check_expressions, check_lanes, check_lengths, check_references,
                     check_laneless_tasks, check_subprocess_lanes, guarded, note_called_lanes,
                     syntax_only)
from .correlations import check_correlations, check_required_payload
from .errors import DeployError
from .formfields import check_form_fields
from .forms import FormChecker, parse_json
from .parsing import ParseSession, file_kind
from .timers import check_due_properties, check_timers, timer_expressions
from .xmlsafety import describe, local_name, parse_xml
from .xsd import BPMN_NS, NSMAP


@dataclass
class ProcessInfo:
    """An executable top-level process of a deploy.

    start_kinds: subset of {'none', 'message', 'timer'} from its top-level start events
    timer_start: the raw timer expression of a timer start event (e.g. '"R/P1D"'), if any
    message_start_names: the message names that start it
    timer_start_id: the id of that timer start event
    """
    process_id: str
    name: str | None
    file: str
    start_kinds: frozenset[str]
    timer_start: str | None
    message_start_names: tuple[str, ...]
    timer_start_id: str | None = None


@dataclass
class Bundle:
    """The outcome of validate_bundle. Deployable only when ``errors`` is empty.

    files: {name: bytes} of everything the version stores: the given files, BPMN/DMN files
           pulled from the search path for call activities / business rule tasks
           (transitively), and the form files the user tasks reference
    processes: {process id: ProcessInfo} for executable top-level processes of the given files
    errors: problems that refuse the deploy
    warnings: notes that do not refuse it but that the modeller must read: a rule the engine
              applies that the diagram does not show (``checks.note_called_lanes``), a message
              catch whose correlation may have no value (``correlations.check_correlations``)
    """
    files: dict[str, bytes]
    processes: dict[str, ProcessInfo]
    errors: list[DeployError] = field(default_factory=list)
    warnings: list[DeployError] = field(default_factory=list)


class _SearchPath:
    """Lazy index of the *.bpmn / *.dmn files in the search folders (first folder wins)."""

    def __init__(self, folders: Sequence[Path | Mapping[str, bytes]]):
        # A mapping is a folder in memory ({file name: bytes}): the newest deployed versions.
        self.folders = [f if isinstance(f, Mapping) else Path(f) for f in folders]
        self._index: dict[tuple[str, str], tuple[str, bytes]] | None = None

    def find(self, kind: str, ident: str) -> tuple[str, bytes] | None:
        if self._index is None:
            self._index = {}
            for folder in self.folders:
                if isinstance(folder, Mapping):
                    for name in sorted(folder):
                        self._add_file(name, folder[name])
                    continue
                try:
                    paths = sorted(folder.iterdir())
                except OSError:
                    continue   # a missing search folder just provides nothing
                for path in paths:
                    self._add(path)
        return self._index.get((kind, ident))

    def _add(self, path: Path):
        if file_kind(path.name) not in ('bpmn', 'dmn') or not path.is_file():
            return
        try:
            data = path.read_bytes()
        except OSError:
            return
        self._add_file(path.name, data)

    def _add_file(self, name: str, data: bytes):
        kind = file_kind(name)
        if kind not in ('bpmn', 'dmn'):
            return
        root, problems = parse_xml(name, data)
        if problems:
            return   # an unreadable neighbour is not part of this deploy: ignore it
        if kind == 'bpmn':
            ids = [p.get('id') for p in root.xpath('./bpmn:process', namespaces=NSMAP)]
        else:
            ids = [d.get('id') for d in root if isinstance(d.tag, str) and local_name(d) == 'decision']
        for ident in ids:
            if ident:
                self._index.setdefault((kind, ident), (name, data))


def _process_info(file: str, process: etree._Element, root: etree._Element) -> ProcessInfo:
    messages = {m.get('id'): m for m in root.xpath('.//bpmn:message', namespaces=NSMAP)}
    kinds, timer, timer_id, names = set(), None, None, []
    for start in process.xpath('./bpmn:startEvent', namespaces=NSMAP):
        definitions = [c for c in start
                       if isinstance(c.tag, str) and local_name(c).endswith('EventDefinition')]
        if not definitions:
            kinds.add('none')
        for definition in definitions:
            if local_name(definition) == 'messageEventDefinition':
                kinds.add('message')
                ref = definition.get('messageRef')
                # Without messageRef SpiffWorkflow uses the start event's name as message name.
                name = (messages[ref].get('name') or ref) if ref in messages else (ref or start.get('name'))
                if name:
                    names.append(name)
            elif local_name(definition) == 'timerEventDefinition':
                kinds.add('timer')
                expressions = timer_expressions(start)
                if timer is None and expressions:
                    timer, timer_id = expressions[0][1].text, start.get('id')
    return ProcessInfo(process.get('id'), process.get('name'), file, frozenset(kinds), timer,
                       tuple(names), timer_id)


def _executable_view(root: etree._Element) -> etree._Element:
    """``root`` without its non-executable processes (never run, so never checked: pools
    drawn for context are often sketches). A copy keeps the parser's tree intact; lxml's
    copy keeps source lines."""
    skipped = root.xpath('./bpmn:process[@isExecutable="false"]', namespaces=NSMAP)
    if not skipped:
        return root
    view = copy.deepcopy(root)
    for process in view.xpath('./bpmn:process[@isExecutable="false"]', namespaces=NSMAP):
        view.remove(process)
    return view


def _as_bytes(data) -> bytes | None:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        return data.encode('utf-8')
    return None


def validate_bundle(files: Mapping[str, bytes], *, known_roles: Collection[str] | None = None,
                    search_path: Sequence[Path | Mapping[str, bytes]] = (),
                    form_dirs: Sequence[Path | Mapping[str, bytes]] = (),
                    check_compiles: Callable[[str, str], list[str]] | None = None,
                    protected_variables: Collection[str] = (),
                    routing_properties: Collection[str] = ()) -> Bundle:
    """Validate a deploy: ``files`` maps file name -> bytes (.bpmn, .dmn, .json forms).

    known_roles: role codes lane names must match (None: lanes are not checked)
    search_path: folders whose *.bpmn / *.dmn provide processes and decisions the given files
                 call but do not define (pulled in transitively, stored with the deploy);
                 a mapping {file name: bytes} is a folder in memory
    form_dirs:   folders (or mappings) to find referenced form files that are not in ``files``
    check_compiles: ``(source, 'exec'|'eval') -> [messages]`` (the sandbox's compile check);
                 None falls back to a plain Python syntax check
    protected_variables: variables no form may declare (the caller's; the diagram's own
                 correlation and message variables are added, ``formfields``)
    routing_properties: task properties by which the caller routes a human task without its
                 lane; with ``known_roles``, any other human task in no lane of a process
                 drawn with lanes is an error

    Returns a Bundle; ``errors`` lists every problem found (XML safety and syntax, XSD,
    SpiffWorkflow parse errors, missing called processes, duplicate ids, lanes, forms,
    timers, scripts and expressions, DMN). Never raises for bad input.
    """
    try:
        return _validate(files, known_roles, search_path, form_dirs, check_compiles, protected_variables,
                         routing_properties)
    except Exception as exc:  # noqa: BLE001 - a bug here must refuse the deploy, not crash the caller
        kept = {name: data for name, data in files.items() if isinstance(data, bytes)}
        return Bundle(kept, {}, [DeployError(None, None, None, 'internal error while validating '
                                             f'(please report): {type(exc).__name__}: {exc}')])


def _validate(files, known_roles, search_path, form_dirs, check_compiles, protected_variables,
              routing_properties=()) -> Bundle:
    check = guarded(check_compiles or syntax_only)
    errors: list[DeployError] = []
    warnings: list[DeployError] = []
    out: dict[str, bytes] = {}
    roots: dict[str, etree._Element] = {}
    session = ParseSession()
    given_bpmn, unreadable_bpmn = [], False
    if not files:
        errors.append(DeployError(None, None, None, 'the deploy contains no files'))
    for name, raw in files.items():
        data, kind = _as_bytes(raw), file_kind(name)
        if data is None:
            unreadable_bpmn |= kind == 'bpmn'
            errors.append(DeployError(name, None, None, 'the file content must be bytes'))
            continue
        out[name] = data
        if kind is None:
            errors.append(DeployError(name, None, None, 'unknown file type: a deploy takes .bpmn, '
                                      '.dmn and .json (form) files'))
        elif kind == 'json':
            _, problem, line = parse_json(data)
            if problem:
                errors.append(DeployError(name, None, line, f'the file {problem}'))
        else:
            root, problems = parse_xml(name, data)
            if root is None:
                unreadable_bpmn |= kind == 'bpmn'
                errors += problems
                continue
            roots[name] = root
            errors += session.add(name, root)
            if kind == 'bpmn' and etree.QName(root).namespace == BPMN_NS:
                given_bpmn.append(name)
            else:
                unreadable_bpmn |= kind == 'bpmn'

    processes: dict[str, ProcessInfo] = {}
    for name in given_bpmn:
        for process in roots[name].xpath('./bpmn:process', namespaces=NSMAP):
            if not process.get('id'):
                errors.append(DeployError(name, None, process.sourceline, 'a process has no id'))
            elif process.get('isExecutable', 'true') == 'true' and process.get('id') not in processes:
                processes[process.get('id')] = _process_info(name, process, roots[name])
    executable = any(p.get('isExecutable', 'true') == 'true' for name in given_bpmn
                     for p in roots[name].xpath('./bpmn:process', namespaces=NSMAP))
    if not executable and not unreadable_bpmn and files:
        if given_bpmn:
            errors += [DeployError(name, None, None, 'no executable process: the deploy defines '
                                   'none (processes marked isExecutable="false" are skipped)')
                       for name in given_bpmn]
        else:
            errors += [DeployError(name, None, None, 'the deploy contains no BPMN file: decisions '
                                   'and forms are used by the processes deployed with them')
                       for name in files]

    # Files refused before reaching the parser (XSD, duplicates) have nothing to parse.
    parsed = [pid for pid in processes if session.parser.get_process_parser(pid) is not None]
    errors += _resolve(session, parsed, _SearchPath(search_path), out, roots, bool(search_path))

    forms = FormChecker(out, form_dirs)
    # SpiffWorkflow's DMN parser already reports the first malformed output entry.
    flagged = {(e.file, e.element_id) for e in errors if e.element_id}
    for name, root in roots.items():
        if file_kind(name) == 'dmn':
            errors += [e for e in check_dmn_expressions(name, root, check)
                       if (e.file, e.element_id) not in flagged]
            continue
        root = _executable_view(root)
        if known_roles is not None:
            errors += check_lanes(name, root, known_roles)
        errors += check_subprocess_lanes(name, root)
        errors += check_references(name, root)
        errors += check_lengths(name, root)
        errors += forms.check(name, root)
        errors += check_form_fields(name, root, forms, protected_variables)
        errors += check_timers(name, root, check)
        errors += check_due_properties(name, root, check)
        errors += check_expressions(name, root, check)
        warnings += check_correlations(name, root)
        errors += check_required_payload(name, root)
    for name, data in forms.found.items():
        out.setdefault(name, data)

    bpmn_views = {n: _executable_view(r) for n, r in roots.items() if file_kind(n) == 'bpmn'}
    warnings += note_called_lanes(bpmn_views)
    if known_roles is not None:
        errors += check_laneless_tasks(bpmn_views, routing_properties)

    order = {name: i for i, name in enumerate(out)}

    def in_file_order(found):
        unique = list(dict.fromkeys(found))
        unique.sort(key=lambda e: (-1 if e.file is None else order.get(e.file, len(order)), e.line or 0))
        return unique
    return Bundle(out, processes, in_file_order(errors), in_file_order(warnings))


def _resolve(session: ParseSession, process_ids: list[str], search: _SearchPath,
             out: dict[str, bytes], roots: dict[str, etree._Element], searching: bool) -> list[DeployError]:
    """Parse every executable process with what it calls, pulling missing called processes
    and decisions from the search path until nothing more can be found."""
    errors: list[DeployError] = []
    tried: set[tuple[str, str]] = set()

    def pull(kind: str, ident: str) -> str | None:
        """Add the search-path file defining ``ident``; returns why not, or None."""
        tried.add((kind, ident))
        hit = search.find(kind, ident)
        if hit is None:
            return 'not found'
        name, data = hit
        if name in out:
            return f'{name} from the search path has the same name as a file of the deploy'
        root, problems = parse_xml(name, data)
        if root is None:
            return problems[0].message
        clash = session.conflicts(root) if kind == 'bpmn' else {}
        if clash:
            return (f'{name} from the search path defines it but also ' + ', '.join(
                f'"{pid}" (already in {f})' for pid, f in clash.items()) + ', so it was not added')
        out[name], roots[name] = data, root
        problems = session.add(name, root)
        errors.extend(problems)
        return f'{name} from the search path defines it but has errors' if problems else None

    blocked: dict[tuple[str, str], str] = {}
    while True:
        for decision in sorted(session.missing_decisions()):
            if ('dmn', decision) not in tried and searching:
                pull('dmn', decision)
        results = [session.collect_specs(pid) for pid in process_ids]
        progressed = False
        for _, _, missing, _ in results:
            for called, _, _ in missing:
                if ('bpmn', called) not in tried and searching:
                    reason = pull('bpmn', called)
                    if reason is None:
                        progressed = True
                    elif reason != 'not found':
                        blocked[('bpmn', called)] = reason
        if not progressed:
            break

    reported = set()
    for _, _, missing, spec_errors in results:
        errors += spec_errors
        for called, file, activity in missing:
            if (called, file, activity) in reported:
                continue
            reported.add((called, file, activity))
            file, el = session.element(file, activity)
            known = list(session.process_files)
            message = (f'{describe(el) if el is not None else activity} calls process "{called}", '
                       'which is not defined in this deploy'
                       + (' nor in the search path' if searching else ''))
            if ('bpmn', called) in blocked:
                message += f' ({blocked[("bpmn", called)]})'
            close = difflib.get_close_matches(called, known, n=3)
            if close:
                message += '; did you mean ' + ', '.join(f'"{c}"' for c in close) + '?'
            errors.append(DeployError(file, activity, el.sourceline if el is not None else None, message))
    return errors
