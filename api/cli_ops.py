"""Operators' commands of ``baoxue``: ``incidents`` (list, show, retry, resolve) and ``check``.

Registered on the ``baoxue`` group by ``api.cli``. The use cases are the engine's
(``engine.incidents``, ``engine.consistency``); a refusal prints its reason to stderr and
exits 1, never a traceback.
"""
from __future__ import annotations

import json
import sys

import click
from sqlalchemy import select

from engine.errors import EngineError
from engine.incidents import MAX_PER_PAGE, STATUSES, IncidentQuery
from ledger import directory
from ledger.models import User

from .settings import Settings
from .web.incidents import COMMAND_NAMES
from .wiring import build_engine


def _engine():
    return build_engine(Settings.from_env())


def _refused(err: EngineError):
    click.echo(f"未执行 (refused): {err.message}", err=True)
    for field, message in (err.errors or {}).items() if isinstance(err.errors, dict) else []:
        click.echo(f"  {field}: {message}", err=True)
    sys.exit(1)


def _run(action):
    """``action(engine)``, then close the engine; an engine refusal exits 1."""
    engine = _engine()
    try:
        return action(engine)
    except EngineError as err:
        _refused(err)
    finally:
        engine.close()


def _acting_admin(engine, actor: str) -> str:
    """``--by`` is written into the audit record as who acted: the default ``cli`` (the operator
    at the console) or an active administrator's username; anything else exits 1."""
    if actor == "cli":
        return actor
    with engine.db.read() as session:
        user = session.scalars(select(User).where(User.username == actor)).first()
        allowed = user is not None and user.active and directory.is_admin(directory.assignments_of(session, user.id))
    if not allowed:
        click.echo(f"未执行 (refused): --by {actor!r} 不是启用的管理员账号 (not an active administrator)", err=True)
        sys.exit(1)
    return actor


def _when(moment) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


@click.group()
def incidents():
    """Failed engine steps: list, show, retry, resolve (the administrator's work)."""


@incidents.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="open or resolved (default: both)")
@click.option("--process", "process_key", default=None, help="process key, e.g. persuasion")
@click.option("--instance", "instance_id", type=click.IntRange(1, 2**31 - 1), default=None)
@click.option("--page", type=click.IntRange(1, 10_000), default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, MAX_PER_PAGE), default=50, show_default=True)
def incidents_list(status, process_key, instance_id, page, per_page):
    """One line per incident, newest first: id, instance, process, element, status, when, message."""
    from .cli import _print_table
    items, total = _run(lambda engine: engine.incidents.list(
        IncidentQuery(status=status, process_key=process_key, instance_id=instance_id, page=page, per_page=per_page)))
    _print_table([("编号", "实例", "流程", "环节", "状态", "发生时间", "信息")] + [
        (str(i["incident_id"]), str(i["instance_id"]), i["process_key"] or "", i["element_id"] or "",
         "待处理" if i["status"] == "open" else "已处理", _when(i["created_at"]), i["message"][:80])
        for i in items])
    click.echo(f"共 {total} 条 (page {page})")


@incidents.command("show")
@click.argument("incident_id", type=click.IntRange(1, 2**31 - 1))
def incidents_show(incident_id):
    """Everything about one incident, one field a line."""
    detail = _run(lambda engine: engine.incidents.get(incident_id))
    _echo_detail(detail)


def _echo_detail(detail: dict) -> None:
    task = detail.get("task")
    lines = [
        ("编号 incident", detail["incident_id"]), ("实例 instance", f"{detail['instance_id']} "
                                                                   f"({detail['instance_status']})"),
        ("流程 process", detail["process_key"]), ("业务键 business key", detail["business_key"]),
        ("环节 element", detail["element_id"]),
        ("失败的操作 command", COMMAND_NAMES.get(detail["command"], detail["command"])),
        ("任务 task", f"{task['name']} {task['task_id']} ({task['status']})" if task else None),
        ("状态 status", detail["status"] + (f" ({detail['resolution']})" if detail["resolution"] else "")),
        ("发生 created", _when(detail["created_at"])), ("信息 message", detail["message"]),
        ("处理 resolved", f"{_when(detail['resolved_at'])} by {detail['resolved_by']}" if detail["resolved_at"] else None),
        ("说明 note", detail["note"]),
    ]
    for label, value in lines:
        if value not in (None, ""):
            click.echo(f"{label}: {value}")


@incidents.command("retry")
@click.argument("incident_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--by", "actor", default="cli", show_default=True, help="who retries: an active administrator's username (recorded in the audit)")
def incidents_retry(incident_id, actor):
    """Re-run the failed command; exit 1 with the new message if it fails again."""
    result = _run(lambda engine: engine.incidents.retry(incident_id, actor=_acting_admin(engine, actor)))
    click.echo(f"已重试 (retried): instance {result.instance_id} is {result.status}")


@incidents.command("resolve")
@click.argument("incident_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--note", required=True, help="how the case was put right without a retry (required)")
@click.option("--by", "actor", default="cli", show_default=True, help="who resolves: an active administrator's username (recorded in the audit)")
def incidents_resolve(incident_id, note, actor):
    """Resolve without a retry: the failed command is abandoned, the instance goes on."""
    result = _run(lambda engine: engine.incidents.resolve(incident_id, note, actor=_acting_admin(engine, actor)))
    click.echo(f"已处理 (resolved): instance {result.instance_id} is {result.status}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--no-record", is_flag=True, help="do not store the result (the admin page shows stored runs)")
def check(as_json, no_record):
    """Report every inconsistency (one line each: check: where: what); exit 1 if any."""
    from .cli import _require_schema
    report = _run(lambda engine: _require_schema(engine).consistency.run(record=not no_record))
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for finding in report.findings:
            click.echo(finding.line())
        summary = "一致 (consistent)" if report.ok else f"发现 {len(report.findings)} 处不一致 (findings)"
        click.echo(f"{summary}; {report.duration_ms} ms", err=not report.ok)
    sys.exit(0 if report.ok else 1)
