"""Pure functions registered into the sandbox by tests (imported inside the worker process)."""
from __future__ import annotations

import os
from datetime import date


def days_between(start: date, end: date) -> int:
    """Whole days from ``start`` to ``end`` (dates or datetimes)."""
    return (end - start).days


def crash() -> None:
    """Ends the worker process abruptly, as a segfault in a C extension would."""
    os._exit(3)


def setting(name: str) -> str | None:
    """The worker's environment variable ``name`` (what a function reading a setting sees)."""
    return os.environ.get(name)
