"""A sandboxed SpiffWorkflow script engine.

SpiffWorkflow's default engine exec()s arbitrary Python in the server process. Here scripts,
conditions, timer and correlation expressions are compiled with RestrictedPython (policy.py) and
run in a long-lived child process per calling thread (worker.py) under an address-space limit,
while this side enforces a wall-clock limit and kills/replaces the child on timeout or crash.
Task data crosses the boundary as JSON via SpiffWorkflow's ``DefaultRegistry`` (plus ``date``).

    engine = make_script_engine(SandboxConfig(time_limit_s=2.0))
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=engine)
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Mapping

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from ..clock import engine_now, local_zone
from .policy import FILENAME, compile_source
from .worker import encode, make_registry, receive, register_data_types, send

__all__ = ['SandboxError', 'SandboxConfig', 'SandboxedEnvironment', 'check_compiles',
           'make_script_engine', 'register_data_types', 'shutdown_workers']

log = logging.getLogger(__name__)

_ROOT = str(Path(__file__).resolve().parents[2])  # the directory holding the `engine` package
# `python -c` rather than `-m engine.sandbox.worker`: with -m, runpy would execute worker.py a
# second time as __main__ after this package (which imports it) was loaded, and warn about it.
_WORKER_CMD = f'import sys; from {__name__}.worker import main; sys.exit(main())'
_STARTUP_TIMEOUT_S = 30.0  # interpreter start + imports, on a loaded machine
_ENV_KEYS = ('PATH', 'LANG', 'TZ', 'HOME', 'TMPDIR')


class SandboxError(Exception):
    """A script or expression failed in the sandbox.

    ``kind`` is one of 'compile', 'timeout', 'memory', 'runtime', 'forbidden', 'crashed';
    ``lineno`` is the failing script line when known; ``error_type`` the original exception name.
    ``str()`` is one line, e.g. ``NameError: name 'x' is not defined (line 3)``.
    """

    KINDS = frozenset({'compile', 'timeout', 'memory', 'runtime', 'forbidden', 'crashed'})

    def __init__(self, message: str, kind: str = 'runtime', lineno: int | None = None,
                 error_type: str | None = None):
        super().__init__(message)
        self.kind, self.lineno, self.error_type = kind, lineno, error_type

    def __reduce__(self):
        return type(self), (str(self), self.kind, self.lineno, self.error_type)


@dataclass(frozen=True)
class SandboxConfig:
    """Limits and extra functions for sandboxed scripts.

    ``time_limit_s``: wall-clock seconds per script/expression (enforced by the parent).
    ``memory_limit_mb``: address space the worker may add on top of its start-up footprint.
    ``functions``: name visible to scripts -> ``"package.module:attr"`` of a pure function,
    imported inside the worker (it must be importable there; the parent's ``sys.path`` is passed).
    ``environment``: variables the worker's environment gets besides the few it always has
    (``_ENV_KEYS``): the caller's settings that its functions read, as the caller read them
    at start-up. The worker never inherits the parent's environment (no secrets in the child),
    so a function reading a setting the caller did not pass here sees it unset.
    """
    time_limit_s: float = 2.0
    memory_limit_mb: int = 512
    functions: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if not self.time_limit_s > 0:
            raise ValueError('time_limit_s must be > 0')
        if not (isinstance(self.memory_limit_mb, int) and self.memory_limit_mb > 0):
            raise ValueError('memory_limit_mb must be a positive int')
        for name, spec in self.functions.items():
            if not (isinstance(name, str) and name.isidentifier() and not name.startswith('_')):
                raise ValueError(f'function name {name!r} must be an identifier not starting with "_"')
            if not (isinstance(spec, str) and ':' in spec):
                raise ValueError(f'function {name!r}: {spec!r} must look like "package.module:attr"')
        for name, value in self.environment.items():
            if not (isinstance(name, str) and name and '=' not in name and isinstance(value, str)):
                raise ValueError(f'environment {name!r}: names and values must be strings (no "=" in a name)')
        # Private plain-dict copies: callers' later edits do not leak in, and asdict()/deepcopy()
        # keep working (a MappingProxyType would break both).
        object.__setattr__(self, 'functions', dict(self.functions))
        object.__setattr__(self, 'environment', dict(self.environment))

    def __hash__(self):
        return hash((self.time_limit_s, self.memory_limit_mb, tuple(sorted(self.functions.items())),
                     tuple(sorted(self.environment.items()))))


def check_compiles(source: str, mode: str = 'exec') -> list[str]:
    """Compile ``source`` under the sandbox policy without running it (in-process; for deploys).

    Returns ``[]`` when it compiles, else messages like ``'Line 2: SyntaxError: ...'`` or
    ``'Line 1: import statements are not allowed in scripts.'``. ``mode``: 'exec' or 'eval'.
    """
    try:
        return list(compile_source(source, mode)[1])
    except (RecursionError, MemoryError):
        return ['Line 1: the source is too deeply nested or too large to compile.']


class _Timeout(Exception):
    pass


class _Worker:
    """One child process (replaced when it dies or times out); used by one thread at a time."""

    def __init__(self, memory_limit_mb: int, functions: Mapping[str, str], environment: Mapping[str, str]):
        self._hello = {'memory_limit_mb': memory_limit_mb, 'functions': dict(functions),
                       'path': [p for p in sys.path if p and os.path.isdir(p)]}
        self._environment = dict(environment)
        self._lock = threading.Lock()
        self._state = {'proc': None, 'owner': os.getpid(), 'poll': None}
        # Kills the child when this object goes (thread ended) and at interpreter exit.
        self._finalizer = weakref.finalize(self, _kill, self._state)

    def request(self, data: bytes, time_limit: float, what: str) -> dict:
        """Send one framed request and return the reply; SandboxError on timeout or crash."""
        with self._lock:
            proc = self._state['proc'] or self._start()
            deadline = time.monotonic() + time_limit
            try:
                send(proc.stdin.fileno(), data)
                reply = receive(proc.stdout.fileno(), self._waiter(deadline))
            except _Timeout:
                _kill(self._state)
                raise SandboxError(f'{what} exceeded the time limit of {float(time_limit)} s', 'timeout') from None
            except (OSError, EOFError):
                reply = None
            except (ValueError, OverflowError, RecursionError) as err:  # only a broken worker sends these
                _kill(self._state)
                raise SandboxError(f'sandbox worker sent an unreadable reply ({err})', 'crashed') from None
            if reply is None:
                code = _kill(self._state)
                raise SandboxError(f'sandbox worker died unexpectedly (exit code {code})', 'crashed')
            if reply.get('kind') == 'memory':
                _kill(self._state)  # a fresh heap for the next script
            return reply

    def stop(self) -> None:
        with self._lock:
            _kill(self._state)

    def _waiter(self, deadline):
        poller = self._state['poll']

        def wait(_fd):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise _Timeout()
        return wait

    def _start(self):
        env = {k: v for k, v in os.environ.items()
               if k in _ENV_KEYS or k.startswith(('LC_', 'PYTHON'))}  # no secrets in the child
        env.update(self._environment)   # the caller's settings for its functions (SandboxConfig)
        env['PYTHONPATH'] = os.pathsep.join(filter(None, [_ROOT, env.get('PYTHONPATH')]))
        try:
            proc = subprocess.Popen([sys.executable, '-c', _WORKER_CMD], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, bufsize=0, close_fds=True, cwd=_ROOT,
                                    env=env, start_new_session=True)
        except OSError as err:
            raise SandboxError(f'could not start a sandbox worker: {err}', 'crashed') from None
        poller = select.poll()  # not select(): descriptors above 1024 are normal in a busy server
        poller.register(proc.stdout.fileno(), select.POLLIN)
        self._state.update(proc=proc, poll=poller, owner=os.getpid())
        try:
            send(proc.stdin.fileno(), encode(self._hello))
            reply = receive(proc.stdout.fileno(), self._waiter(time.monotonic() + _STARTUP_TIMEOUT_S))
        except (_Timeout, OSError, EOFError, ValueError) as err:
            reply = {'msg': f'sandbox worker failed to start ({type(err).__name__})'}
        if not (reply or {}).get('ok'):
            _kill(self._state)
            raise SandboxError((reply or {}).get('msg') or 'sandbox worker failed to start', 'crashed')
        return proc

    def _forget(self):
        """After fork(): the child process of a worker belongs to the parent; let go, never kill it."""
        proc = self._state['proc']
        if proc is not None:
            proc.returncode = -1  # stops Popen.__del__/_cleanup from waiting on a process we don't own
            for pipe in (proc.stdin, proc.stdout):
                pipe.close()
        self._state.update(proc=None, poll=None, owner=os.getpid())
        self._lock = threading.Lock()  # another thread may have held it at fork time


def _kill(state: dict):
    """Kill and reap the worker in ``state`` (only from the process that started it)."""
    proc, state['proc'], state['poll'] = state['proc'], None, None
    if proc is None or state['owner'] != os.getpid():
        return None
    with contextlib.suppress(OSError):
        proc.kill()
        proc.stdin.close()
        proc.stdout.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        return proc.wait(timeout=5)
    return None


_local = threading.local()
_all_workers: 'weakref.WeakSet[_Worker]' = weakref.WeakSet()
_all_lock = threading.Lock()


def _worker_for(config: SandboxConfig) -> _Worker:
    # One worker per thread (and per memory limit, function set and environment): no locking
    # on the hot path, and a thread never waits for another thread's script.
    pool = _local.__dict__.setdefault('pool', {})
    key = (config.memory_limit_mb, tuple(sorted(config.functions.items())),
           tuple(sorted(config.environment.items())))
    worker = pool.get(key)
    if worker is None:
        worker = pool[key] = _Worker(config.memory_limit_mb, config.functions, config.environment)
        with _all_lock:
            _all_workers.add(worker)
    return worker


def shutdown_workers() -> None:
    """Stop every worker process of this process (tests, shutdown); they restart on next use."""
    with _all_lock:
        workers = list(_all_workers)
    for worker in workers:
        worker.stop()


def _after_fork_in_child():
    for worker in list(_all_workers):
        worker._forget()


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_after_fork_in_child)  # gunicorn --preload forks after import


@lru_cache(maxsize=256)
def _line_raiser(lineno: int):
    return compile('\n' * (lineno - 1) + 'raise error', FILENAME, 'exec')


def _raise(reply: dict, source: str, op: str):
    kind, message = reply.get('kind') or 'runtime', reply.get('msg') or 'failed'
    if kind == 'memory':  # the worker says "exceeded the memory limit ..."; say who did
        message = f"{'script' if op == 'exec' else 'expression'} {message}"
    error = SandboxError(message, kind, reply.get('line'), reply.get('type'))
    line = error.lineno
    if op == 'exec' and isinstance(line, int) and 1 <= line <= source.count('\n') + 1:
        # SpiffWorkflow takes the line number from a traceback frame named '<string>'; raise from
        # one sitting on the failing line so WorkflowTaskException.line_number/error_line are right.
        exec(_line_raiser(line), {'__builtins__': {}, 'error': error})
    raise error


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that runs everything in the sandbox.

    Behaves like ``TaskDataEnvironment``, except: builtins are an allowlist (policy.py) that task
    data may shadow; ``datetime.now()`` and ``date.today()`` are the engine's time (scriptclock.py);
    values that cannot be serialized are not kept (logged); modules are refused;
    in-place changes to ``external_context`` objects are not written back.
    """

    def __init__(self, config: SandboxConfig = SandboxConfig()):
        super().__init__({})
        self.config = config
        self._registry = make_registry()

    def evaluate(self, expression, context, external_context=None):
        """Evaluate ``expression`` against ``context`` (+ ``external_context``); returns the value."""
        reply = self._run('eval', expression, context, external_context)
        return self._restore({'value': reply['value']})['value']

    def execute(self, script, context, external_context=None):
        """Run ``script`` and apply its effect to ``context`` (task data) in place; returns True."""
        external_context = external_context or {}
        overwrites = set(external_context).intersection(context)
        if overwrites:  # TaskDataEnvironment.check_for_overwrite's error, kept for parity
            raise ValueError('You have task data that overwrites a predefined function(s). Please change '
                             f'the following variable or field name(s) to something else: {overwrites}')
        reply = self._run('exec', script, context, external_context)
        changes = self._restore(reply['set'])  # all or nothing: restore before touching `context`
        for name in reply['del']:
            context.pop(name, None)
        context.update(changes)
        for name in [k for k, v in context.items() if k == '__builtins__' or callable(v) or isinstance(v, ModuleType)]:
            del context[name]  # what TaskDataEnvironment strips after a script
        if reply['dropped']:
            log.warning('sandbox: script results not kept in task data (not serializable): %s',
                        ', '.join(f'{k} ({t})' for k, t in sorted(reply['dropped'].items())))
        return True

    def _run(self, op: str, source: str, context, external_context) -> dict:
        if not isinstance(context, Mapping):
            raise TypeError(f'context must be a mapping, not {type(context).__name__}')
        external_context = external_context or {}
        try:
            ctx, ext = self._export(context), self._export(external_context)
            now = engine_now()   # the command's time (engine.clock.frozen_at), so scripts agree with timers
            data = encode({'op': op, 'src': source, 'ctx': ctx, 'ext': ext, 'tl': self.config.time_limit_s,
                           'now': now.isoformat(),
                           'local': now.astimezone(local_zone()).replace(tzinfo=None).isoformat()})
        except OverflowError as err:
            raise SandboxError(f'task data too large for the sandbox: {err}', 'memory') from None
        except (TypeError, ValueError, RecursionError) as err:
            for mapping, label in ((context, 'task data'), (external_context, 'external context')):
                self._blame(mapping, label)
            raise SandboxError(f'TypeError: task data cannot be passed to the sandbox ({err})', 'runtime') from None
        what = 'script' if op == 'exec' else 'expression'
        reply = _worker_for(self.config).request(data, self.config.time_limit_s, what)
        if not reply.get('ok'):
            _raise(reply, source, op)
        return reply

    def _export(self, mapping) -> dict:
        """Convert the names a script can see; underscore names are unreachable there, so not sent."""
        convert = self._registry.convert
        return {name: convert(value) for name, value in mapping.items()
                if isinstance(name, str) and not name.startswith('_')
                and not callable(value) and not isinstance(value, ModuleType)}

    def _restore(self, values: dict) -> dict:
        # A script can build dicts that look like registry output ({'typename': 'datetime', ...});
        # restoring them may fail, and that is the script's error, not the server's.
        try:
            return {name: self._registry.restore(value) for name, value in values.items()}
        except Exception as err:  # noqa: BLE001
            raise SandboxError(f'TypeError: the script produced data that cannot be restored '
                               f'({type(err).__name__}: {err})', 'runtime', None, 'TypeError') from None

    def _blame(self, mapping, label: str) -> None:
        """Name the value JSON could not carry (only called after encoding failed)."""
        for name, value in mapping.items():
            try:
                json.dumps(self._export({name: value}))
            except (TypeError, ValueError, RecursionError) as err:
                raise SandboxError(f"TypeError: {label} '{name}' of type {type(value).__name__} "
                                   f'cannot be passed to the sandbox ({err})', 'runtime', None, 'TypeError') from None


def make_script_engine(config: SandboxConfig = SandboxConfig()) -> PythonScriptEngine:
    """A PythonScriptEngine whose scripts and expressions all run in the sandbox."""
    return PythonScriptEngine(environment=SandboxedEnvironment(config))
