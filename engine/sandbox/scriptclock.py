"""What sandboxed scripts see as "now": the engine's time of the command, not the machine's.

The engine's clock is injectable (``engine.clock``: tests and demos move time, a timer job
runs a command "at" its due time). Scripts run in a worker process that knows nothing of it,
so ``datetime.now()`` there would be the machine's time and a script's "today" would disagree
with the timers and due dates of the same step. The parent sends each request's time
(``now``: the command's instant, aware ISO; ``local``: the same instant as naive wall-clock
time in the engine's configured zone) and the worker calls ``set_now`` before running it.

Scripts get these ``datetime`` and ``date`` classes in place of the standard ones:
``datetime.now()``, ``datetime.today()`` and ``date.today()`` answer in the engine's zone
(naive, like the standard ones answer in the machine's), ``datetime.now(tz)`` the same
instant in ``tz``, ``datetime.utcnow()`` naive UTC. Everything else is the standard class:
constructing, ``fromisoformat``, ``strptime`` and arithmetic give standard ``datetime`` and
``date`` objects (task data only carries those), and ``isinstance(value, datetime)`` is true
for them. Scripts have no ``time`` module, so ``time.time()`` needs no stand-in.
"""
from __future__ import annotations

from datetime import date as _date, datetime as _datetime, timezone

_moment: dict = {"instant": None, "local": None}


def set_now(instant: str | None, local: str | None) -> None:
    """The time of the next request (ISO strings from the parent); None: the machine's time."""
    _moment["instant"] = _datetime.fromisoformat(instant) if instant else None
    _moment["local"] = _datetime.fromisoformat(local) if local else None


def _instant() -> _datetime:
    return _moment["instant"] or _datetime.now(timezone.utc)


def _local() -> _datetime:
    return _moment["local"] if _moment["instant"] else _datetime.now()


class _Standard(type):
    """``isinstance``/``issubclass`` against the standard class the script class stands for."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._standard)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls._standard)


class datetime(_datetime, metaclass=_Standard):  # noqa: N801 - the name scripts use
    _standard = _datetime

    def __new__(cls, *args, **kwargs):
        # A standard object: the C alternate constructors (fromisoformat, combine, strptime...)
        # call cls(...) for a subclass, so they give standard objects too.
        return _datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz=None):
        return _instant().astimezone(tz) if tz is not None else _local()

    @classmethod
    def today(cls):
        return _local()

    @classmethod
    def utcnow(cls):
        return _instant().astimezone(timezone.utc).replace(tzinfo=None)


class date(_date, metaclass=_Standard):  # noqa: N801 - the name scripts use
    _standard = _date

    def __new__(cls, *args, **kwargs):
        return _date(*args, **kwargs)

    @classmethod
    def today(cls):
        return _local().date()
