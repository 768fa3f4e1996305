"""The engine's notion of "now", and the one place SpiffWorkflow's timers are bent to it.

SpiffWorkflow's timer module calls ``datetime.now(timezone.utc)`` directly and reads naive
dates in ``LOCALTZ``, a fixed offset computed at import time (SPIFFWORKFLOW-NOTES §5, 10-I).
We replace that module's ``datetime`` with a subclass whose ``now()`` answers the clock of
the command being run (a context variable, so threads and requests do not see each
other's time), and ``LOCALTZ`` with the configured zone. Outside a command it is real time.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone, tzinfo
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

from . import timer_bounds  # noqa: F401 - bounds SpiffWorkflow's timer parsing (see there)

Clock = Callable[[], datetime]
_now_override: ContextVar[datetime | None] = ContextVar("engine_now", default=None)


def system_clock() -> datetime:
    """Real time, aware, UTC."""
    return datetime.now(timezone.utc)


class FixedClock:
    """A settable clock for tests and demos: ``clock.set(dt)``, ``clock.advance(timedelta)``."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when

    def advance(self, delta) -> datetime:
        self.current = self.current + delta
        return self.current


class _EngineDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None):
        fixed = _now_override.get()
        if fixed is None:
            return datetime.now(tz)
        moment = fixed.astimezone(tz) if tz else fixed.astimezone().replace(tzinfo=None)
        return cls.fromisoformat(moment.isoformat())


_spiff_timer.datetime = _EngineDatetime


def set_local_timezone(name: str) -> tzinfo:
    """Read naive timer dates in zone ``name`` (e.g. ``Asia/Shanghai``); returns the zone."""
    zone = ZoneInfo(name)
    _spiff_timer.LOCALTZ = zone
    return zone


def local_zone() -> tzinfo:
    """The zone set by ``set_local_timezone`` (the engine's days: due dates, form date bounds)."""
    return _spiff_timer.LOCALTZ


def engine_now() -> datetime:
    """The command's time inside ``frozen_at`` (aware), else real time (aware, UTC): what
    sandboxed scripts see as now."""
    fixed = _now_override.get()
    return fixed if fixed is not None else system_clock()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[datetime]:
    """Inside the block SpiffWorkflow's timers see ``moment`` as now."""
    token = _now_override.set(moment)
    try:
        yield moment
    finally:
        _now_override.reset(token)
