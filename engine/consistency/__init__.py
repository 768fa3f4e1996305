"""The consistency check (``baoxue check``): every way the stored state can disagree with itself.

A ``Check`` is a name and a function ``run(engine) -> Iterable[Finding]``; it only reads.
The engine's own checks (``engine.consistency.checks.ENGINE_CHECKS``) cover what the engine
knows: workflow states that do not load, the human-task / timer / subscription index against
the workflow states, the audit chains, instances in error. A caller adds checks of its own
without the engine knowing its words, through ``EngineConfig.checks``:

    def absent_children_without_case(engine) -> Iterable[Finding]:
        ...  # read the domain's tables through engine.db.snapshot()
        yield Finding("absence_without_case", "absent 3 days, no open case", subject="child 12")

    EngineConfig(..., checks=[Check("absence_without_case", absent_children_without_case)])

``ConsistencyService.run`` runs them all (a check that raises becomes a finding of its own,
so one broken check never hides the others; a database that cannot be reached is not a
finding of each check but one error, raised before any check runs), and stores the result as a ``check_run`` row
that ``last()`` reads back. Running twice at once (several workers) is harmless.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from sqlalchemy import select, text

from ..persistence.models import CheckRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One inconsistency: the check that found it, what is wrong, and where: an instance
    (and element) or, for what is not an instance, a free ``subject`` ("stream definitions")."""

    check: str
    message: str
    instance_id: int | None = None
    element_id: str | None = None
    subject: str | None = None

    @property
    def where(self) -> str:
        if self.subject:
            return self.subject
        if self.instance_id is None:
            return "-"
        return f"instance {self.instance_id}" + (f" / {self.element_id}" if self.element_id else "")

    def line(self) -> str:
        """``check: where: message`` (one line of the report)."""
        return f"{self.check}: {self.where}: {' '.join(self.message.split())}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Check:
    """A named read-only check; ``run(engine)`` yields ``Finding``s (none when all is well)."""

    name: str
    run: Callable[[object], Iterable[Finding]]


@dataclass
class CheckReport:
    """One run: when (engine clock, UTC), what was found, how long it took (ms)."""

    at: datetime
    findings: list[Finding] = field(default_factory=list)
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict:
        """{at (ISO 8601), ok, duration_ms, findings: [{check, message, instance_id, element_id,
        subject}]}: the ``--json`` output and ``GET /api/v1/check/last``."""
        return {"at": self.at.isoformat(), "ok": self.ok, "duration_ms": self.duration_ms,
                "findings": [f.to_dict() for f in self.findings]}


class ConsistencyService:
    def __init__(self, engine, extra_checks: Iterable[Check] = ()):
        self.engine = engine
        self.extra_checks = list(extra_checks)

    def checks(self) -> list[Check]:
        """The engine's checks, then the caller's (``EngineConfig.checks``), in order."""
        from .checks import ENGINE_CHECKS
        return [*ENGINE_CHECKS, *self.extra_checks]

    def run(self, *, record: bool = True) -> CheckReport:
        """Run every check; with ``record`` store the result as a ``check_run`` row."""
        started = time.monotonic()
        with self.engine.db.read() as session:   # unreachable: the driver's error, once
            session.execute(text("SELECT 1"))
        report = CheckReport(at=self.engine.clock())
        for check in self.checks():
            try:
                report.findings.extend(check.run(self.engine))
            except Exception as exc:  # noqa: BLE001 - a broken check is itself a finding
                log.exception("consistency check %s failed", check.name)
                report.findings.append(Finding(check.name, f"the check itself failed: {type(exc).__name__}: {exc}",
                                               subject="check"))
        report.duration_ms = int((time.monotonic() - started) * 1000)
        if record:
            with self.engine.db.transaction() as session:
                session.add(CheckRun(at=report.at, ok=report.ok, finding_count=len(report.findings),
                                     findings=json.dumps([f.to_dict() for f in report.findings], ensure_ascii=False),
                                     duration_ms=report.duration_ms))
        return report

    def last(self) -> CheckReport | None:
        """The most recent stored run, or None if none was stored."""
        with self.engine.db.read() as session:
            row = session.scalars(select(CheckRun).order_by(CheckRun.at.desc(), CheckRun.id.desc()).limit(1)).first()
        if row is None:
            return None
        return CheckReport(at=row.at, duration_ms=row.duration_ms,
                           findings=[Finding(**item) for item in json.loads(row.findings)])
