"""Child side of the sandbox (``main()``, started by the parent in a fresh interpreter); also the wire format.

Protocol (both directions): 4-byte big-endian length, then UTF-8 JSON. Never pickle: the child
runs untrusted code and whatever it sends back is only ever parsed as JSON.

1. parent -> ``{"functions": {name: "pkg.mod:attr"}, "memory_limit_mb": int, "path": [...]}``
   child  -> ``{"ok": true, "pid": int}`` once imports are done and the limits are set.
2. parent -> ``{"op": "exec"|"eval", "src": str, "ctx": {...}, "ext": {...}, "tl": seconds,
   "now": aware ISO instant, "local": naive ISO wall-clock time in the engine's zone}``
   child  -> ``{"ok": true, "value": v}`` (eval), ``{"ok": true, "set": {...}, "del": [...],
   "dropped": {name: type}}`` (exec), or ``{"ok": false, "kind", "type", "msg", "line"}``.
   Values are task data converted with the registry from ``make_registry()``.
The child exits on EOF, so a parent that goes away takes its workers with it.
"""
from __future__ import annotations

import importlib
import json
import os
import re
import signal
import struct
import sys
import traceback
from datetime import date
from functools import lru_cache

from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry

from .policy import (DENIED_NAMES, FILENAME, ForbiddenError, base_namespace, build_builtins,
                     compile_source, describe_compile_errors, is_module_like)
from .scriptclock import set_now

_HEADER = struct.Struct('>I')
MAX_MESSAGE = 64 * 1024 * 1024  # a bigger reply would only move the memory problem into the parent
_MAX_MSG_CHARS = 500


def register_data_types(registry) -> None:
    """Add the types scripts can create beyond SpiffWorkflow's defaults (``date``) to ``registry``.

    Pass the workflow serializer's registry here too, or task data holding a ``date`` written
    by a script cannot be persisted.
    """
    registry.register(date, lambda v: {'value': v.isoformat()}, lambda v: date.fromisoformat(v['value']))


def make_registry() -> DefaultRegistry:
    """The converter task data crosses the process boundary with (datetime, timedelta, UUID, date)."""
    registry = DefaultRegistry()
    register_data_types(registry)
    return registry


def encode(obj) -> bytes:
    """One framed message; raises TypeError/ValueError for values JSON cannot carry."""
    data = json.dumps(obj, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    if len(data) > MAX_MESSAGE:
        raise OverflowError(f'message of {len(data) >> 20} MB exceeds {MAX_MESSAGE >> 20} MB')
    return _HEADER.pack(len(data)) + data


def send(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (blocking)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def receive(fd: int, wait=None):
    """Read one message from ``fd``; ``None`` on EOF at a message boundary.

    ``wait(fd)`` is called before every read; the parent uses it to enforce its deadline.
    """
    header = _read_exact(fd, _HEADER.size, wait, eof_ok=True)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_MESSAGE:
        raise OverflowError(f'message of {size >> 20} MB exceeds {MAX_MESSAGE >> 20} MB')
    return json.loads(_read_exact(fd, size, wait))


def _read_exact(fd, size, wait, eof_ok=False):
    chunks, remaining = [], size
    while remaining:
        if wait is not None:
            wait(fd)
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            if eof_ok and remaining == size:
                return None
            raise EOFError('pipe closed in the middle of a message')
        chunks.append(chunk)
        remaining -= len(chunk)
    return b''.join(chunks)


def _one_line(text: str) -> str:
    text = re.sub(r'\s+', ' ', text).strip()
    return text if len(text) <= _MAX_MSG_CHARS else text[:_MAX_MSG_CHARS] + '...'


def _failure(kind, msg, line=None, etype=None) -> dict:
    return {'ok': False, 'kind': kind, 'msg': _one_line(msg), 'line': line, 'type': etype}


class Runner:
    """Compiles and runs requests; one per worker process."""

    def __init__(self, functions: dict, memory_limit_mb: int):
        self.memory_limit_mb = memory_limit_mb
        self.registry = make_registry()
        self.base = base_namespace(build_builtins(functions))
        self.compile = lru_cache(maxsize=1024)(compile_source)  # keyed by (source, mode)

    def handle(self, req: dict) -> dict:
        """Run one request and describe the outcome; never raises for anything the script does."""
        op = req['op']
        try:
            code, errors = self.compile(req['src'], op)
            if errors:
                kind, line, msg = describe_compile_errors(errors)
                return _failure(kind, msg, line, 'SyntaxError' if kind == 'compile' else None)
            set_now(req.get('now'), req.get('local'))   # what the script's datetime.now() answers
            restore = self.registry.restore
            ctx_in, ext_in = req.get('ctx') or {}, req.get('ext') or {}
            ns = dict(self.base)
            ns.update((k, restore(v)) for k, v in ext_in.items())
            ns.update((k, restore(v)) for k, v in ctx_in.items())
            # Backstop if the parent dies mid-script: SIGALRM's default action ends this process.
            signal.setitimer(signal.ITIMER_REAL, 2 * float(req.get('tl', 2.0)) + 1.0)
            try:
                if op == 'eval':
                    return self._value_reply(eval(code, ns))
                exec(code, ns)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            return self._exec_reply(ns, ctx_in, ext_in)
        except BaseException as err:  # noqa: BLE001 - everything a script raises is reported
            return self._error_reply(err)

    def _error_reply(self, err) -> dict:
        line = None
        for frame in traceback.extract_tb(err.__traceback__):
            if frame.filename == FILENAME:
                line = frame.lineno  # innermost script frame, as SpiffWorkflow's own lookup does
        where = f' (line {line})' if line else ''
        etype = type(err).__name__
        if isinstance(err, MemoryError):
            return _failure('memory', f'exceeded the memory limit of {self.memory_limit_mb} MB{where}', line, etype)
        if isinstance(err, ForbiddenError):
            return _failure('forbidden', f'{err}{where}', line, etype)
        if isinstance(err, NameError) and getattr(err, 'name', None) in DENIED_NAMES:
            return _failure('forbidden', f"{etype}: '{err.name}' is not available in scripts{where}", line, etype)
        try:
            text = str(err)
        except Exception:  # noqa: BLE001
            text = ''
        return _failure('runtime', f'{etype}: {text}{where}' if text else f'{etype}{where}', line, etype)

    def _value_reply(self, value) -> dict:
        if is_module_like(value) or callable(value):
            what = 'module' if is_module_like(value) else type(value).__name__
            return _failure('forbidden', f'an expression cannot return a {what}', None, 'TypeError')
        return {'ok': True, 'value': self.registry.convert(value)}

    def _exec_reply(self, ns: dict, ctx_in: dict, ext_in: dict) -> dict:
        changed, dropped, kept = {}, {}, set()
        for name, value in ns.items():
            # Underscore names are ours (guards, _print): scripts cannot even spell them.
            if name.startswith('_') or name in ext_in:
                continue
            if is_module_like(value):
                return _failure('forbidden', f"module '{getattr(value, '_name', '?')}' cannot be stored in "
                                f"task data (variable '{name}')", None, 'TypeError')
            if callable(value):
                continue  # functions, lambdas, classes: not data (SpiffWorkflow drops them too)
            try:
                conv = self.registry.convert(value)
                if name in ctx_in and conv == ctx_in[name]:
                    kept.add(name)
                    continue
                changed[name] = conv
            except MemoryError:
                raise
            except Exception:  # noqa: BLE001 - unconvertible: not kept, reported
                dropped[name] = type(value).__name__
        deleted = [k for k in ctx_in if k not in changed and k not in kept]
        return {'ok': True, 'set': changed, 'del': deleted, 'dropped': dropped}

    @staticmethod
    def salvage(reply: dict) -> dict:
        """Make a reply JSON can carry after ``encode`` failed (the rare path; no double encoding otherwise)."""
        if 'set' not in reply:
            return _failure('runtime', f"TypeError: a value of type {type(reply.get('value')).__name__} "
                            'cannot leave the sandbox', None, 'TypeError')
        for name, value in list(reply['set'].items()):
            try:
                json.dumps(value)
            except (TypeError, ValueError, RecursionError):
                reply['dropped'][name] = type(value).__name__
                del reply['set'][name]
                reply['del'].append(name)  # if it existed before, its old value is stale now
        return reply


def _import_function(spec: str):
    module_name, _, attr = spec.partition(':')
    if not module_name or not attr:
        raise ValueError(f'function spec {spec!r} must look like "package.module:attr"')
    obj = importlib.import_module(module_name)
    for part in attr.split('.'):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f'{spec} is not callable')
    return obj


def _vm_bytes() -> int:
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('VmSize:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 256 << 20  # no /proc: assume a generous start-up footprint


def _apply_limits(memory_limit_mb: int) -> None:
    import resource
    limit = _vm_bytes() + memory_limit_mb * (1 << 20)  # address space, measured after imports
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    for rlimit in ('RLIMIT_CORE', 'RLIMIT_NPROC'):  # no core dumps of task data; no forking
        try:
            resource.setrlimit(getattr(resource, rlimit), (0, 0))
        except (AttributeError, ValueError, OSError):
            pass


def main() -> int:
    """Serve requests on stdin/stdout until EOF."""
    # Keep the protocol on private descriptors; stray writes to stdout (a registered function
    # that prints) land on stderr instead of corrupting the stream.
    rfd, wfd = os.dup(0), os.dup(1)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    config = receive(rfd)
    if config is None:
        return 0
    try:
        sys.path.extend(p for p in config.get('path', ()) if p not in sys.path)
        functions = {name: _import_function(spec) for name, spec in config.get('functions', {}).items()}
        runner = Runner(functions, int(config['memory_limit_mb']))
        _apply_limits(runner.memory_limit_mb)
    except Exception as err:  # noqa: BLE001 - report start-up failures instead of just dying
        send(wfd, encode(_failure('crashed', f'sandbox worker failed to start: {type(err).__name__}: {err}')))
        return 1
    send(wfd, encode({'ok': True, 'pid': os.getpid()}))
    while True:
        req = receive(rfd)
        if req is None:
            return 0
        reply = runner.handle(req)
        try:
            try:
                data = encode(reply)
            except (TypeError, ValueError, RecursionError):
                data = encode(runner.salvage(reply))
        except MemoryError:
            data = encode(_failure('memory', f'exceeded the memory limit of {runner.memory_limit_mb} MB '
                                             'while sending the result'))
        except OverflowError as err:
            data = encode(_failure('memory', f'result too large: {err}'))
        send(wfd, data)


if __name__ == '__main__':
    sys.exit(main())
