"""What sandboxed scripts may do: the RestrictedPython compile policy, the guards and the builtins.

Used by the worker process (compile + run) and in-process by ``check_compiles`` (compile only).
Nothing here starts processes or touches task data.
"""
from __future__ import annotations

import math
import operator
import re
import types
from datetime import timedelta, timezone

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence,
                                     guarded_unpack_sequence, safer_getattr)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer

from .scriptclock import date, datetime   # now() and today() answer the engine's clock

FILENAME = '<string>'  # SpiffWorkflow looks for this frame name to report the failing line


class ForbiddenError(Exception):
    """A guard refused an operation (dunder/introspection attribute, str.format, ...)."""


class SandboxTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus compile-time refusals that would otherwise surface at run time.

    ``import`` would fail anyway (there is no ``__import__``), and classes need ``__build_class__``,
    which is not offered; refusing both here lets a deploy-time ``check_compiles`` catch them.
    """

    def visit_Import(self, node):
        self.error(node, 'import statements are not allowed in scripts.')

    def visit_ImportFrom(self, node):
        self.error(node, 'import statements are not allowed in scripts.')

    def visit_ClassDef(self, node):
        self.error(node, 'class definitions are not allowed in scripts.')


def compile_source(source: str, mode: str):
    """Compile ``source`` under the sandbox policy.

    Returns ``(code, errors)``: a code object (filename ``'<string>'``) and ``()``, or ``None`` and
    RestrictedPython's messages (``'Line 3: ...'``). ``mode`` is ``'exec'`` or ``'eval'``.
    """
    if not isinstance(source, str):
        raise TypeError(f'script source must be str, not {type(source).__name__}')
    if mode == 'eval':
        # builtin eval() ignores surrounding whitespace, ast.parse does not; BPMN conditions often
        # arrive indented from the XML.
        result = compile_restricted_eval(source.strip(), FILENAME, policy=SandboxTransformer)
    elif mode == 'exec':
        result = compile_restricted_exec(source, FILENAME, policy=SandboxTransformer)
    else:
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    return result.code, tuple(result.errors)


_LINE_RE = re.compile(r'^Line (\d+): (?:(\w*Error): )?(.*)$', re.S)


def describe_compile_errors(errors) -> tuple[str, int | None, str]:
    """Turn RestrictedPython messages into ``(kind, first line number, one-line message)``.

    kind is ``'compile'`` for Python syntax errors and ``'forbidden'`` for policy refusals.
    """
    kind, lineno, parts = 'forbidden', None, []
    for err in errors:
        m = _LINE_RE.match(err)
        if not m:
            parts.append(err)
            continue
        line, etype, msg = int(m.group(1)), m.group(2), m.group(3)
        if etype:
            kind = 'compile'
            msg = f'{etype}: {msg.split(" at statement:")[0]}'
        lineno = line if lineno is None else lineno
        parts.append(f'{msg.rstrip(".")} (line {line})')
    return kind, lineno, '; '.join(parts)


# ---- guards -------------------------------------------------------------------------------

# Objects whose every attribute leads towards frames, code or interpreter internals.
_OPAQUE_TYPES = (types.FrameType, types.CodeType, types.TracebackType,
                 types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)
# `mro()` hands out `object`, the root of every subclass-walking escape.
_DENIED_ATTRS = frozenset(INSPECT_ATTRIBUTES | {'mro', 'format', 'format_map'})
_DENIED_PREFIXES = ('_', 'gi_', 'cr_', 'ag_', 'f_', 'tb_', 'co_')
_MISSING = object()


def _check_attr(obj, name) -> None:
    if type(name) is not str:
        raise TypeError('attribute name must be str')
    if name.startswith(_DENIED_PREFIXES) or name.endswith('__roles__'):
        raise ForbiddenError(f'access to attribute "{name}" is not allowed')
    if isinstance(obj, _OPAQUE_TYPES):
        raise ForbiddenError(f'attributes of {type(obj).__name__} objects are not accessible')
    if name in _DENIED_ATTRS and (name not in ('format', 'format_map') or isinstance(obj, str)
                                  or (isinstance(obj, type) and issubclass(obj, str))):
        raise ForbiddenError(f'access to attribute "{name}" is not allowed')


def guarded_getattr(obj, name, default=_MISSING):
    """``_getattr_`` for compiled code and the ``getattr`` builtin offered to scripts.

    Our checks first (they raise ForbiddenError, which the worker reports as kind 'forbidden'),
    then RestrictedPython's ``safer_getattr`` as a second line. Unlike ``safer_getattr``'s
    default, a missing attribute raises AttributeError instead of silently giving None.
    """
    _check_attr(obj, name)
    value = safer_getattr(obj, name, _MISSING if default is _MISSING else default)
    if value is _MISSING:
        return getattr(obj, name)  # raises the usual AttributeError message
    return value


_INPLACE_OPS = {
    '+=': operator.iadd, '-=': operator.isub, '*=': operator.imul, '/=': operator.itruediv,
    '//=': operator.ifloordiv, '%=': operator.imod, '**=': operator.ipow,
    '<<=': operator.ilshift, '>>=': operator.irshift, '|=': operator.ior,
    '^=': operator.ixor, '&=': operator.iand, '@=': operator.imatmul,
}


def inplacevar(op, target, value):
    """``_inplacevar_``: RestrictedPython rewrites ``n += 1`` to ``n = _inplacevar_('+=', n, 1)``."""
    func = _INPLACE_OPS.get(op)
    if func is None:
        raise ForbiddenError(f'operator {op} is not supported')
    return func(target, value)


def _apply(func, *args, **kwargs):
    """``_apply_``: calls written with ``*args``/``**kwargs``."""
    return func(*args, **kwargs)


class ModuleProxy:
    """A read-only stand-in for a module, holding only chosen attributes.

    The real module is never reachable from scripts (``math.sqrt.__self__`` is a dunder).
    The worker refuses to store a proxy in task data, as SpiffWorkflow should refuse modules.
    """

    def __init__(self, name, attrs):
        object.__setattr__(self, '_name', name)
        object.__setattr__(self, '_attrs', dict(attrs))

    def __getattr__(self, name):
        try:
            return self._attrs[name]
        except KeyError:
            raise AttributeError(f"module '{self._name}' has no attribute '{name}'") from None

    def __setattr__(self, name, value):
        raise ForbiddenError(f"module '{self._name}' is read-only")

    def __repr__(self):
        return f"<module '{self._name}' (sandboxed)>"


MATH = ModuleProxy('math', {k: v for k, v in vars(math).items() if not k.startswith('_')})

_BUILTIN_NAMES = (
    'abs', 'all', 'any', 'bool', 'callable', 'chr', 'dict', 'divmod', 'enumerate', 'filter',
    'float', 'frozenset', 'int', 'isinstance', 'issubclass', 'iter', 'len', 'list', 'map', 'max',
    'min', 'next', 'ord', 'pow', 'range', 'repr', 'reversed', 'round', 'set', 'slice', 'sorted',
    'str', 'sum', 'tuple', 'zip', 'None', 'True', 'False',
    'Exception', 'ArithmeticError', 'AssertionError', 'AttributeError', 'IndexError', 'KeyError',
    'LookupError', 'NameError', 'OverflowError', 'RuntimeError', 'StopIteration', 'TypeError',
    'ValueError', 'ZeroDivisionError',
)

# Builtins deliberately absent. A NameError for one of them is reported as kind 'forbidden'
# rather than as a typo. (They stay usable as task-data names: `type == 'transfer'` is a fine
# gateway condition when `type` is a form field.)
DENIED_NAMES = frozenset({
    'open', 'eval', 'exec', 'compile', 'globals', 'locals', 'vars', 'dir', 'type',
    'object', 'super', 'setattr', 'delattr', 'hasattr', 'input', 'breakpoint', 'help', 'exit',
    'quit', 'memoryview', 'bytearray', 'classmethod', 'staticmethod', 'property',
    '__build_class__', 'id', 'format',
})


# C code of the datetime classes imports these through the running frame's builtins
# (strftime -> time, strptime -> _strptime), so a sandbox without __import__ breaks them.
# Scripts themselves cannot name __import__ (underscore) or write an import statement.
_C_IMPORTS = frozenset({'time', '_strptime'})


def _internal_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name in _C_IMPORTS:
        import importlib
        return importlib.import_module(name)
    raise ForbiddenError(f'import of {name} is not allowed')


def build_builtins(extra=None) -> dict:
    """The ``__builtins__`` dict of every run: the allowlist, datetime classes (whose "now" is
    the engine's, ``scriptclock``), math, ``extra``.

    Offered as builtins rather than globals, so task data may shadow them (``date`` is a likely
    form field) without SpiffWorkflow's "overwrites a predefined function" error.
    """
    import builtins
    table = {name: getattr(builtins, name) for name in _BUILTIN_NAMES}
    table.update(__import__=_internal_import, getattr=guarded_getattr, math=MATH,
                 datetime=datetime, date=date, timedelta=timedelta, timezone=timezone)
    table.update(extra or {})
    return table


def base_namespace(builtins_table: dict) -> dict:
    """The guard names RestrictedPython's generated code calls; copied for each run."""
    return {
        '__builtins__': builtins_table,
        '__name__': 'script',
        '_getattr_': guarded_getattr,
        '_getitem_': default_guarded_getitem,
        '_getiter_': default_guarded_getiter,
        '_write_': full_write_guard,  # item assignment on dict/list only; other objects read-only
        '_iter_unpack_sequence_': guarded_iter_unpack_sequence,
        '_unpack_sequence_': guarded_unpack_sequence,
        '_inplacevar_': inplacevar,
        '_apply_': _apply,
        '_print_': PrintCollector,
    }


def is_module_like(value) -> bool:
    """True for modules and module proxies, which must never become task data."""
    return isinstance(value, (types.ModuleType, ModuleProxy))


__all__ = ['FILENAME', 'ForbiddenError', 'SandboxTransformer', 'compile_source', 'describe_compile_errors',
           'guarded_getattr', 'build_builtins', 'base_namespace', 'is_module_like', 'DENIED_NAMES', 'MATH']
