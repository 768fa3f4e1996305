"""Deploy-time checks of the forms that user tasks reference.

A user/manual task names its forms with ``spiffworkflow:property`` ``formJsonSchemaFilename``
and ``formUiSchemaFilename`` (SPIFFWORKFLOW-NOTES §4). The files come with the deploy or
from the form folders; they are stored with the version so that an instance always shows
the form it was started with.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from lxml import etree

from ..formschema import schema_safety_problems
from .errors import DeployError
from .xsd import NSMAP
from .xmlsafety import describe, element_error

SCHEMA_PROPERTY = 'formJsonSchemaFilename'
UI_PROPERTY = 'formUiSchemaFilename'


def _bad_name(name: str) -> bool:
    # The name is joined to a form folder: no folders, no parent references, no hidden files.
    return (not name or name != name.strip() or '/' in name or '\\' in name or '\x00' in name
            or name.startswith('.'))


def parse_json(data: bytes) -> tuple[object, str | None, int | None]:
    """``(value, None, None)`` or ``(None, readable reason, line or None)`` for UTF-8 JSON."""
    try:
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError as exc:
        return None, 'is not UTF-8', data.count(b'\n', 0, exc.start) + 1
    try:
        return json.loads(text), None, None
    except json.JSONDecodeError as exc:
        return None, f'is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})', exc.lineno
    except RecursionError:
        return None, 'is not valid JSON: nested too deeply', None


def schema_problem(schema: object) -> str | None:
    """Why ``schema`` is not a usable JSON Schema (draft 2020-12 unless ``$schema`` names
    another draft jsonschema knows), or None. Usable also means safe to validate against
    (``engine.formschema``): local references only, regexes RE2 can run."""
    if not isinstance(schema, dict):
        return f'must be a JSON object (a JSON Schema), not a JSON {type(schema).__name__}'
    try:
        key = json.dumps(schema, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return _schema_problem(schema)
    return _schema_problem_of(key) if len(key) <= 200_000 else _schema_problem(schema)


@lru_cache(maxsize=512)
def _schema_problem_of(key: str) -> str | None:
    # Checking a schema against its metaschema is most of a deploy's time, and every deploy
    # of an unchanged folder checks the same forms again: the answer depends on the text only.
    return _schema_problem(json.loads(key))


def _schema_problem(schema: dict) -> str | None:
    if '$schema' in schema:
        cls = validator_for(schema, default=None)
        if cls is None:
            return f'names an unknown "$schema": {schema["$schema"]!r}'
    else:
        cls = Draft202012Validator
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        return f'is not a valid JSON Schema: {exc.message} (at {exc.json_path})'
    except RecursionError:
        return 'is not a valid JSON Schema: nested too deeply'
    unsafe = schema_safety_problems(schema)
    if unsafe:
        return 'cannot be used safely: ' + '; '.join(unsafe)
    return None


class FormChecker:
    """Finds and checks referenced form files; ``found`` collects {name: bytes} to store."""

    def __init__(self, files: Mapping[str, bytes], form_dirs: Sequence[Path | Mapping[str, bytes]]):
        self.files = files
        # A mapping is a folder in memory: the files the newest versions were deployed with.
        self.form_dirs = [d if isinstance(d, Mapping) else Path(d) for d in form_dirs]
        self.found: dict[str, bytes] = {}
        self._problems: dict[tuple[str, str], str | None] = {}

    def _load(self, name: str) -> tuple[bytes | None, str | None]:
        if name in self.files:
            return self.files[name], None
        for folder in self.form_dirs:
            if isinstance(folder, Mapping):
                if name in folder:
                    return folder[name], None
                continue
            path = folder / name
            try:
                if path.is_file() and path.resolve().parent == folder.resolve():
                    return path.read_bytes(), None
            except OSError as exc:
                return None, f'could not be read ({exc.strerror})'
        where = 'in this deploy' + (' nor in the form folders' if self.form_dirs else '')
        return None, f'was not found {where}'

    def problem(self, name: str, prop: str) -> str | None:
        """What is wrong with form file ``name`` used as ``prop``, or None (cached)."""
        key = (name, prop)
        if key not in self._problems:
            self._problems[key] = self._check(name, prop)
        return self._problems[key]

    def _check(self, name, prop):
        if _bad_name(name):
            return 'must be a plain file name (no folders, no leading dot or spaces)'
        data, problem = self._load(name)
        if data is None:
            return problem
        self.found[name] = data
        value, problem, _ = parse_json(data)
        if problem:
            return problem
        if prop == UI_PROPERTY:
            return None if isinstance(value, dict) else \
                f'must be a JSON object (an RJSF UI schema), not a JSON {type(value).__name__}'
        return schema_problem(value)

    def check(self, file: str, root: etree._Element) -> list[DeployError]:
        """Errors for every user/manual task of ``root`` whose form files are missing or bad."""
        errors = []
        tasks = root.xpath('.//bpmn:userTask | .//bpmn:manualTask', namespaces=NSMAP)
        for task in tasks:
            for prop in task.xpath('./bpmn:extensionElements/spiffworkflow:properties'
                                   '//spiffworkflow:property', namespaces=NSMAP):
                kind = prop.get('name')
                if kind not in (SCHEMA_PROPERTY, UI_PROPERTY):
                    continue
                name = prop.get('value') or ''
                problem = self.problem(name, kind)
                if problem:
                    errors.append(element_error(file, task, f'{describe(task)}: form file "{name}" '
                                                f'({kind}) {problem}'))
        return errors
