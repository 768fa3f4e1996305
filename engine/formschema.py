"""Form JSON Schemas, made safe to validate against: linear-time regexes, no retrieval.

Two traps of ``jsonschema`` with schemas an administrator uploads:

* ``pattern`` and ``patternProperties`` run on Python's backtracking ``re``: ``^(a+)+$`` on 30
  characters takes seconds, on a few more hours, per form submission. Here every regex
  search ``jsonschema`` makes for those keywords (its ``pattern`` and ``patternProperties``
  keywords, and the helpers of ``additionalProperties`` and ``unevaluatedProperties`` that
  match property names against ``patternProperties`` again) goes to RE2 (``google-re2``), which
  runs in time linear in the input and refuses what it cannot run that way (backreferences,
  lookaround). Installed once, at import, for the whole process: no jsonschema validation
  in Baoxue backtracks. RE2 is also closer to JSON Schema's ECMA-262 regexes than ``re``
  (``\\d`` and ``\\w`` are ASCII, ``$`` is the end of the text).
* ``$ref`` to a file or URL makes validation *retrieve* it (jsonschema's default registry
  opens any URL, ``file:`` included). ``REGISTRY`` holds the draft meta-schemas and no
  retrieval; deploy checks (``schema_safety_problems``) allow only local references (``#...``).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterator

import re2
from jsonschema import Draft202012Validator, _keywords, _legacy_keywords, _utils
from jsonschema.validators import extend, validator_for
from jsonschema_specifications import REGISTRY as _SPECIFICATIONS
from referencing import Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012, specification_with

# The draft meta-schemas (so "$schema"-style references resolve) and nothing else: its
# retrieve function is referencing's default, which refuses every URI.
REGISTRY = _SPECIFICATIONS
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})   # values, not schemas

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False   # RE2 would print every refused pattern to stderr


class UnsafePattern(ValueError):
    """A schema regex RE2 cannot run (a schema deployed before these checks)."""


@lru_cache(maxsize=1024)
def _compile(pattern: str):
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        raise UnsafePattern(f"the regular expression {pattern!r} cannot be run in linear time: "
                            f"{_reason(exc)}") from None


def _reason(exc) -> str:
    text = exc.args[0] if exc.args else str(exc)
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return (f"{text} (the linear-time engine RE2 has no backreferences like \\1 and no "
            "lookahead or lookbehind like (?=...) or (?<!...))")


def search(pattern: str, text: str):
    """RE2's search of ``pattern`` in ``text`` (a match or None), linear in ``text``.
    Raises UnsafePattern for a pattern RE2 refuses. Every form-regex search in Baoxue goes
    here, never to Python's backtracking ``re``."""
    return _compile(pattern).search(text)


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a form regex (RE2 refuses it), or None."""
    try:
        _compile(pattern)
    except UnsafePattern as exc:
        return str(exc)
    return None


class _LinearRe:
    """Stands in for the ``re`` module inside jsonschema's keyword modules (only ``search``
    is used there); anything else falls through to ``re``."""

    @staticmethod
    def search(pattern, string):
        return search(pattern, string)

    def __getattr__(self, name):
        import re
        return getattr(re, name)


def install() -> None:
    """Route jsonschema's regex searches to RE2 (idempotent; done at import)."""
    for module in (_keywords, _legacy_keywords, _utils):
        if not isinstance(getattr(module, "re", None), _LinearRe):
            module.re = _LinearRe()


install()


def form_validator(schema: dict, keywords: dict | None = None):
    """A validator for a form ``schema`` (its ``$schema`` draft, else 2020-12) with format
    checks, no retrieval, and the extra ``keywords`` ({name: function}, jsonschema's
    keyword signature). Raises nothing itself; ``iter_errors`` may raise ``UnsafePattern``
    or ``referencing.exceptions.Unresolvable`` for a schema deploy checks would refuse."""
    cls = validator_for(schema, default=Draft202012Validator)
    if keywords:
        cls = extend(cls, keywords)
    return cls(schema, registry=REGISTRY, format_checker=cls.FORMAT_CHECKER)


def _pointer(parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _walk(node, path=()) -> Iterator[tuple[tuple, dict]]:
    """Every JSON object of a schema document with its path, skipping data values (``const``,
    ``enum``, ``default``, ``examples``). Over-inclusive on purpose: a property *named*
    ``pattern`` is visited too, and only string-valued keywords are checked."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key not in _DATA_KEYWORDS:
                yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def schema_safety_problems(schema: dict) -> list[str]:
    """What makes a (valid) form schema unsafe to validate against, as
    ``"<problem> (at <JSON pointer>)"`` lines; ``[]`` when none.

    Refused: a ``$ref``/``$dynamicRef``/``$recursiveRef`` that is not a local fragment
    (``#/...`` or ``#anchor``) or that does not resolve in the document; an ``$id`` below the
    root (it would make ``#...`` mean another document); a ``pattern`` or a
    ``patternProperties`` name RE2 cannot compile."""
    problems = []
    resolver = _resolver(schema)
    for path, node in _walk(schema):
        for keyword in REFERENCE_KEYWORDS:
            ref = node.get(keyword)
            if isinstance(ref, str):
                problem = _reference_problem(ref, resolver)
                if problem:
                    problems.append(f"{keyword} {ref!r} {problem} (at {_pointer((*path, keyword))})")
        if path and isinstance(node.get("$id"), str):
            problems.append(f"$id {node['$id']!r} below the root: a form is one document, and "
                            f"a nested $id changes what its references mean (at {_pointer((*path, '$id'))})")
        if isinstance(node.get("pattern"), str):
            problem = pattern_problem(node["pattern"])
            if problem:
                problems.append(f"{problem} (at {_pointer((*path, 'pattern'))})")
        if isinstance(node.get("patternProperties"), dict):
            for name in node["patternProperties"]:
                problem = pattern_problem(name)
                if problem:
                    problems.append(f"{problem} (at {_pointer((*path, 'patternProperties', name))})")
    return problems


def _resolver(schema: dict):
    specification = specification_with(schema.get("$schema", ""), default=DRAFT202012) \
        if isinstance(schema.get("$schema", ""), str) else DRAFT202012
    resource = Resource(contents=schema, specification=specification)
    return REGISTRY.resolver_with_root(resource)


def _reference_problem(ref: str, resolver) -> str | None:
    if not ref.startswith("#"):
        return ("is not a local reference: a form may only refer inside itself (\"#/$defs/...\"); "
                "files and URLs are never fetched")
    try:
        resolver.lookup(ref)
    except Unresolvable:
        return "does not point to anything in this form"
    except Exception as exc:  # noqa: BLE001 - a malformed pointer is the same mistake
        return f"does not point to anything in this form ({type(exc).__name__})"
    return None


_COMBINATORS = ("allOf", "anyOf", "oneOf")
_BRANCHES = ("if", "then", "else")


def declared_fields(schema) -> set[str]:
    """The top-level field names a form schema declares: the only fields a completion may
    carry (``engine.runtime.forminput``), whatever ``additionalProperties`` says. Names
    come from ``properties``, also inside ``allOf``/``anyOf``/``oneOf``, ``if``/``then``/
    ``else``, ``dependentSchemas`` and local ``$ref``s; ``patternProperties`` and
    ``additionalProperties`` declare no name. Never raises: a reference that does not
    resolve declares nothing."""
    names: set[str] = set()
    _collect(schema, schema, names, set())
    return names


def _collect(node, root, names, seen) -> None:
    if not isinstance(node, dict) or id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node.get("properties"), dict):
        names.update(node["properties"])
    subschemas = [s for key in _COMBINATORS if isinstance(node.get(key), list) for s in node[key]]
    subschemas += [node.get(key) for key in _BRANCHES]
    if isinstance(node.get("dependentSchemas"), dict):
        subschemas += list(node["dependentSchemas"].values())
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        subschemas.append(_local(root, ref))
    for sub in subschemas:
        _collect(sub, root, names, seen)


def _local(root, ref: str):
    node = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


CHOICES_KEYWORD = "x-choicesFrom"


def choice_fields(schema) -> dict[str, object]:
    """``{field: rule}`` for the top-level properties of a form whose values come from the
    caller's ``form_choices`` hook (``engine.runtime.hooks.FormChoices``): a string property
    with ``"x-choicesFrom": rule``, or an array property whose ``items`` say it (each item
    one of the choices). The rule is the caller's, opaque to the engine. Never raises."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    found = {}
    for name, prop in (properties or {}).items() if isinstance(properties, dict) else ():
        if not isinstance(prop, dict):
            continue
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        rule = prop.get(CHOICES_KEYWORD, items.get(CHOICES_KEYWORD))
        if rule is not None:
            found[name] = rule
    return found
