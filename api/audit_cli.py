"""``baoxue audit verify`` and ``baoxue audit checkpoint`` (README "The audit record")."""
from __future__ import annotations

import sys

import click

from .settings import Settings
from .wiring import build_engine

SHOWN_PER_CHAIN = 5   # a chain signed with a wrong key is wrong at every link: show the first few


def print_report(report) -> None:
    """Each bad chain: its first bad position and why; then the notes and the summary line."""
    for bad in report.bad:
        where = "the chain as a whole" if bad.first_bad == 0 else f"#{bad.first_bad}"
        click.echo(f"BAD {bad.stream}: first bad position {where}: {bad.problems[0]}")
        for problem in bad.problems[1:SHOWN_PER_CHAIN]:
            click.echo(f"    also: {problem}")
        if len(bad.problems) > SHOWN_PER_CHAIN:
            click.echo(f"    ... and {len(bad.problems) - SHOWN_PER_CHAIN} more")
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(report.summary())


@click.group("audit")
def audit_group():
    """The audit record: verify it, or write a checkpoint now."""


@audit_group.command("verify")
def verify():
    """Check every chain (cases, definitions, checkpoints, access log), the task rows'
    completion facts and the checkpoint file; exit 1 when anything is wrong."""
    from ledger.audit_record import verify_record
    settings = Settings.from_env()
    engine = build_engine(settings)
    try:
        report = verify_record(engine, settings.audit_checkpoint_file)
    finally:
        engine.close()
    print_report(report)
    sys.exit(0 if report.ok else 1)


@audit_group.command("checkpoint")
def checkpoint():
    """Verify, then append a checkpoint of every chain head now; exit 1 without writing
    anything when the verification found problems (a broken record is never sealed)."""
    from ledger.audit_record import write_record_checkpoint
    settings = Settings.from_env()
    engine = build_engine(settings)
    try:
        result = write_record_checkpoint(engine, settings.audit_checkpoint_file)
    finally:
        engine.close()
    print_report(result.report)
    if not result.written:
        click.echo(f"no checkpoint written to {result.path}: the audit record did not verify")
        sys.exit(1)
    click.echo(f"checkpoint #{result.n} ({result.streams} chains) written to {result.path}")
