"""The ``baoxue`` command (CONTRACT.md "CLI")."""
from __future__ import annotations

import logging
import sys
import time
from datetime import datetime
from pathlib import Path

import click

from engine.errors import InvalidInput

from .settings import Settings
from .wiring import build_engine


def _engine():
    return build_engine(Settings.from_env())


def _print_deploy_errors(err: InvalidInput) -> None:
    click.echo(f"部署失败 (deploy refused): {err.message}", err=True)
    for item in err.errors if isinstance(err.errors, list) else [err.errors]:
        if isinstance(item, dict):
            where = ":".join(str(part) for part in (item.get("file"), item.get("line")) if part)
            element = f" [{item['element_id']}]" if item.get("element_id") else ""
            click.echo(f"  {where}{element}: {item.get('message')}", err=True)


def _deploy(engine, paths, actor) -> None:
    try:
        results = engine.repository.deploy_paths([Path(p) for p in paths], actor=actor)
    except InvalidInput as err:
        _print_deploy_errors(err)
        sys.exit(1)
    for result in results:
        state = "new version" if result.created else "unchanged"
        click.echo(f"{result.process_key} v{result.version} ({state})")


@click.group()
def main():
    """Baoxue 保学: dropout control on a BPMN engine."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--demo", is_flag=True, help="also load the demo town (empty databases only)")
def init(demo):
    """Apply migrations and deploy processes/."""
    settings = Settings.from_env()
    engine = build_engine(settings)
    engine.migrate()
    click.echo(f"database ready: {settings.database_url}")
    if any(settings.processes_dir.glob("*.bpmn")):
        _deploy(engine, [settings.processes_dir], actor="init")
    if demo:
        click.echo("demo town: not part of this version yet (comes with the inbox work)")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def deploy(paths):
    """Validate and deploy BPMN/DMN files or folders (exit 1 with element-level errors)."""
    _deploy(_engine(), paths, actor="cli")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes")
@click.option("--no-worker", is_flag=True, help="do not run the timer worker beside the server")
def serve(host, port, workers, no_worker):
    """Serve the web app and API (gunicorn) with the timer worker beside it."""
    from .server import serve as run_server
    run_server(host, port, workers, timer_worker=not no_worker)


@main.command()
@click.option("--interval", default=5.0, show_default=True, help="seconds between timer sweeps")
def worker(interval):
    """Fire due timers forever (several workers may run against one PostgreSQL)."""
    engine = _engine()
    log = logging.getLogger("baoxue.worker")
    log.info("timer worker started (every %.1f s)", interval)
    try:
        while True:
            fired = engine.timers.fire_due()
            if fired:
                log.info("fired %d timer(s)", fired)
            time.sleep(interval)
    except KeyboardInterrupt:
        log.info("timer worker stopped")


@main.group()
def timers():
    """Timer commands."""


@timers.command("fire-due")
@click.option("--now", "now", default=None, help="ISO 8601 moment to fire up to (default: now)")
def fire_due(now):
    """Fire every timer due at --now and print how many fired."""
    moment = None
    if now:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            raise click.BadParameter(f"not an ISO 8601 date-time: {now}", param_hint="--now")
        if moment.tzinfo is None:
            engine = _engine()
            moment = moment.replace(tzinfo=engine.zone)
    engine = _engine()
    click.echo(engine.timers.fire_due(moment))


if __name__ == "__main__":  # pragma: no cover
    main()
