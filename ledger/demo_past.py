"""The demo's past: an engine on the demo's database whose clock the demo moves through past days.

``PastEngine(engine)`` builds a second ``ProcessEngine`` from ``engine.config`` with a
``FixedClock`` (the same database, processes, hooks and audit key), so that what the demo
plays on it is dated on the day it happens: due dates, timers (a weekly check, two quiet
weeks, the end of a medical leave), form date bounds, the record. ``at(day, hour, minute)``
sets the clock to that local moment; the demo only moves it forward. ``close()`` (or the
``with`` block's end) disposes of its connections. Work that should stay "today" (due dates
from now, nothing overdue) is played on ``engine`` itself.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time


class PastEngine:
    def __init__(self, engine):
        from engine.clock import FixedClock
        from engine.process_engine import ProcessEngine
        self.clock = FixedClock(engine.clock())
        self.engine = ProcessEngine(replace(engine.config, clock=self.clock))

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """Move the clock to ``day`` at ``hour``:``minute`` (the engine's zone); returns the moment."""
        moment = datetime.combine(day, time(hour, minute), self.engine.zone)
        self.clock.set(moment)
        return moment

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> "PastEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
