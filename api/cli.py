"""The ``baoxue`` command (CONTRACT.md "CLI")."""
from __future__ import annotations

import difflib
import json
import logging
import sys
import unicodedata
from collections import Counter
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import select

from engine.errors import EngineError, InvalidInput

from .audit_cli import audit_group
from .cli_errors import OperatorGroup
from .cli_org import org_group
from .settings import Settings
from .wiring import build_engine


def _engine():
    return build_engine(Settings.from_env())


def _located(item: dict) -> str:
    """``file:line [element]: message`` of one deploy error or warning."""
    where = ":".join(str(part) for part in (item.get("file"), item.get("line")) if part)
    element = f" [{item['element_id']}]" if item.get("element_id") else ""
    return f"{where}{element}: {item.get('message')}"


def _print_deploy_errors(err: InvalidInput) -> None:
    click.echo(f"部署失败 (deploy refused): {err.message}", err=True)
    for item in err.errors if isinstance(err.errors, list) else [err.errors]:
        if isinstance(item, dict):
            click.echo(f"  {_located(item)}", err=True)


def _deploy(engine, paths, actor, note=None) -> None:
    try:
        results = engine.repository.deploy_paths([Path(p) for p in paths], actor=actor, note=note)
    except InvalidInput as err:
        _print_deploy_errors(err)
        sys.exit(1)
    for result in results:
        state = "new version" if result.created else "unchanged"
        click.echo(f"{result.process_key} v{result.version} ({state})")
    for note in results.warnings:
        click.echo(f"注意 (warning) {_located(note)}", err=True)


@click.group(cls=OperatorGroup)
def main():
    """Baoxue 保学: dropout control on a BPMN engine."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # SpiffWorkflow logs every task state change at INFO: far too much for an operator.
    logging.getLogger("spiff").setLevel(logging.WARNING)
    logging.getLogger("SpiffWorkflow").setLevel(logging.WARNING)


@main.command()
@click.option("--demo", is_flag=True, help="also load the demo town (empty databases only)")
def init(demo):
    """Apply migrations and deploy processes/."""
    settings = Settings.from_env()
    initialise(build_engine(settings), settings, demo)


def initialise(engine, settings, demo: bool) -> None:
    """What ``baoxue init [--demo]`` does with ``engine`` (its clock dates the demo): migrate,
    deploy ``processes/``, and with ``demo`` load the demo town and its cases (as ``make
    demo``; the README walk's browser test starts from exactly this)."""
    engine.migrate()
    click.echo(f"database ready: {settings.database_url}")
    if any(settings.processes_dir.glob("*.bpmn")):
        _deploy(engine, [settings.processes_dir], actor="init")
    if demo:
        _load_demo(engine)


def _load_demo(engine) -> None:
    from ledger.demo import DEMO_PASSWORD, build_demo_town
    with engine.db.transaction() as session:
        town = build_demo_town(session, engine.clock())
    if not town.created:
        click.echo(f"演示镇 (demo town): {town.reason}")
        return
    click.echo(f"演示镇已加载 (demo town loaded): {len(town.units)} 个单位, {len(town.accounts)} 个账号, "
               f"{town.children} 名儿童 (生成数据, 非真实人员)")
    click.echo(f"\n演示账号 (demo accounts), 密码均为 {DEMO_PASSWORD}:")
    _print_table([("用户名", "角色", "单位")] + _demo_rows(town))
    villages = [f"{code} {town.units[code]}" for code in town.units if code.startswith("v-")]
    click.echo("村代码 (village codes): " + ", ".join(villages))
    click.echo("完整名单 (every account): baoxue users list [--role R] [--org CODE]")
    from ledger.demo_cases import seed_cases
    cases = seed_cases(engine)
    click.echo(f"\n演示案件 (demo cases): {cases.started} 件辍学风险核查，其中 {cases.at_village} 件在村核实、"
               f"{cases.at_principal} 件待校长确认；2 件学籍恢复。")
    for line in cases.lines():
        click.echo(line)
    click.echo("试试 (try): " + "、".join(cases.examples) + " 登录后查看待办。")
    from ledger.demo_home_teaching import seed_home_teaching
    click.echo(seed_home_teaching(engine).line())
    from ledger.demo_agreements import seed_agreements
    click.echo(seed_agreements(engine).line())
    from ledger.demo_inspection import seed_inspection
    click.echo(seed_inspection(engine).line())


def _demo_rows(town) -> list[tuple[str, str, str]]:
    """One row per town and school account; head teachers one row per school (with its class
    codes) and village staff one row per role, since those follow ``<role>-<org code>``."""
    from ledger.directory import role_name
    rows, classes = [], {}
    for account in town.accounts:
        if account.role == "head_teacher":
            classes.setdefault(account.org_unit.split("-")[0], []).append(account.org_unit)
        elif account.role not in ("village_secretary", "grid_worker"):
            rows.append((account.username, role_name(account.role), town.units[account.org_unit]))
    for school, codes in classes.items():
        rows.append((f"head_teacher-{school}-<年级>-<班>", role_name("head_teacher"),
                     f"{town.units[school]} 各班: {' '.join(codes)}"))
    rows.append(("village_secretary-<村代码>", role_name("village_secretary"), "每个村（场、社区）1人"))
    rows.append(("grid_worker-<村代码>[-2]", role_name("grid_worker"), "每个村（场、社区）2人"))
    return rows


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _print_table(rows) -> None:
    """Columns aligned for a terminal (CJK characters take two cells)."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell + " " * (width - _width(cell)) for cell, width in zip(row, widths)]
        click.echo("  ".join(cells + [row[-1]]).rstrip())


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--note", default=None, help="why this deploy (kept on each new version, shown on /processes)")
def deploy(paths, note):
    """Validate and deploy BPMN/DMN files or folders (exit 1 with element-level errors)."""
    if note is not None and len(note.strip()) > 2000:
        raise click.BadParameter("at most 2000 characters", param_hint="--note")
    _deploy(_engine(), paths, actor="cli", note=(note or "").strip() or None)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=int,
              help="gunicorn worker processes (each has 8 threads); they share the login limits "
                   "through the database")
@click.option("--no-worker", is_flag=True, help="do not run the timer worker beside the server")
def serve(host, port, workers, no_worker):
    """Serve the web app and API (gunicorn) with the timer worker beside it. Refuses to start
    (exit 1, one line) on a wrong setting or a database behind its migrations."""
    from .server import serve as run_server
    _require_schema(build_engine(Settings.from_env()), close=True)
    run_server(host, port, workers, timer_worker=not no_worker)


def _require_schema(engine, *, close: bool = False):
    """``engine`` if its database is at the migrations' head; else SchemaBehind, which the
    ``baoxue`` group words as one line ("run `baoxue init`"). A server on an unmigrated
    database would answer its first login with a 500."""
    try:
        engine.require_current_schema()
    finally:
        if close:
            engine.close()
    return engine


@main.command()
@click.option("--interval", default=5.0, show_default=True, help="seconds between timer sweeps")
def worker(interval):
    """Run the background jobs forever: fire due timers, deliver pending messages and
    attendance events, write audit checkpoints every BAOXUE_AUDIT_CHECKPOINT_MINUTES (10), run
    the consistency check every BAOXUE_CHECK_HOURS (24). Several workers may run against one
    PostgreSQL. A failing job is logged and retried with back-off; the worker never dies of
    a transient database error. Refuses to start (exit 1, one line) on a wrong setting or a
    database behind its migrations."""
    from .worker import default_jobs, run_forever
    settings = Settings.from_env()
    run_forever(_require_schema(build_engine(settings)), default_jobs(interval, settings))


@main.group()
def timers():
    """Timer commands."""


@timers.command("fire-due")
@click.option("--now", "now", default=None, help="ISO 8601 moment to fire up to (default: now)")
@click.option("--json", "as_json", is_flag=True, help="print what fired as JSON (for scripts)")
def fire_due(now, as_json):
    """Fire every timer due at --now; print what fired (how many, of which kinds, for which cases)."""
    moment = None
    if now:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            raise click.BadParameter(f"not an ISO 8601 date-time: {now}", param_hint="--now")
    engine = _engine()
    try:
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=engine.zone)   # a naive time is BAOXUE_TIMEZONE's
        fired = engine.timers.sweep(moment)
        from ledger.child_status import apply_case_events
        apply_case_events(engine)     # as the worker's timer job: a fired step may move a child's status
        if as_json:
            click.echo(json.dumps({"fired": sum(1 for f in fired if f.incident_id is None),
                                   "failed": sum(1 for f in fired if f.incident_id is not None),
                                   "timers": [f.to_dict() for f in fired]},
                                  ensure_ascii=False, indent=1))
            return
        for line in _fired_lines(fired, engine.zone):
            click.echo(line)
    finally:
        engine.close()


def _fired_lines(fired, zone) -> list[str]:
    """``fire-due``'s report: a headline with the count by kind, then one line per timer."""
    if not fired:
        return ["没有到期的定时器 (no timer was due)"]
    failed = [f for f in fired if f.incident_id is not None]
    kinds = Counter("启动流程" if f.kind == "start" else "流程中的定时事件" for f in fired if f.incident_id is None)
    done = len(fired) - len(failed)
    lines = [f"已触发 {done} 个定时器 ({done} fired)" + (": " if kinds else "")
             + "，".join(f"{kind} {n} 个" for kind, n in sorted(kinds.items()))
             + (f"；{len(failed)} 个触发后出错 ({len(failed)} failed)，见故障处理" if failed else "")]
    for f in fired:
        what = f"「{f.element_name}」" if f.element_name else ""
        case = f"案件 #{f.instance_id}" + (f"（{f.business_key}）" if f.business_key else "")
        if f.incident_id is not None:
            lines.append(f"  出错：{case} {f.process_key} {what}[{f.element_id}] 故障 #{f.incident_id}")
            continue
        started = "启动了" if f.kind == "start" else ""
        due = f.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        lines.append(f"  {started}{case} {f.process_key} {what}[{f.element_id}] 到期 {due}")
    return lines


@main.group()
def users():
    """Accounts: list and create (the admin API does the rest)."""


@users.command("list")
@click.option("--role", default=None, help="role code, e.g. head_teacher (ledger/roles.py) or admin")
@click.option("--org", "org", default=None, help="org unit code, e.g. zx-3-2")
def users_list(role, org):
    """Print username, display name, active and roles@org of every matching account. An
    unknown --role or --org is a usage error (exit 2) naming what exists, not an empty list."""
    from ledger.models import OrgUnit
    from ledger.users import list_users, valid_roles
    if role and role not in valid_roles():
        raise click.BadParameter(f"未知角色 (unknown role): {role}; 可选 (valid): {', '.join(valid_roles())}",
                                 param_hint="--role")
    engine = _engine()
    with engine.db.transaction() as session:
        if org and session.get(OrgUnit, org) is None:
            codes = list(session.scalars(select(OrgUnit.code)))
            near = difflib.get_close_matches(org, codes, n=5)
            raise click.BadParameter(f"未知单位 (unknown org unit): {org}"
                                     + (f"; 相近的 (did you mean): {', '.join(near)}" if near else ""),
                                     param_hint="--org")
        found = list_users(session, role=role, org_unit=org)
    _print_table([("用户名", "显示名", "状态", "角色@单位")] + [
        (u["username"], u["display_name"], "启用" if u["active"] else "停用",
         " ".join(f"{r['role']}@{r['org_unit']}" for r in u["roles"])) for u in found])
    click.echo(f"共 {len(found)} 个账号")


@users.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="显示名, e.g. 王丽")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="at least 8 characters")
@click.option("--phone", default=None)
@click.option("--role", "roles", multiple=True, help="repeat with --org, in pairs")
@click.option("--org", "orgs", multiple=True, help="the org unit of the --role at the same position")
def users_create(username, display_name, password, phone, roles, orgs):
    """Create an account holding each (--role, --org) pair; exit 1 with the reasons if refused."""
    from ledger.users import create_account
    if len(roles) != len(orgs):
        raise click.UsageError("每个 --role 需要一个 --org (give one --org per --role, in the same order)")
    engine = _engine()
    try:
        with engine.db.transaction() as session:
            user = create_account(session, "cli", username=username, display_name=display_name,
                                  password=password, phone=phone, now=engine.clock(),
                                  roles=[{"role": r, "org_unit": o} for r, o in zip(roles, orgs)])
    except EngineError as err:
        click.echo(f"创建失败 (refused): {err.message}", err=True)
        for field, message in (err.errors or {}).items():
            click.echo(f"  {field}: {message}", err=True)
        sys.exit(1)
    click.echo(f"已创建 (created) {user['username']} id={user['id']}: "
               + (" ".join(f"{r['role']}@{r['org_unit']}" for r in user["roles"]) or "无角色 (no roles)"))


from .cli_ops import check, incidents  # noqa: E402 - after main: the ops commands join its group
main.add_command(incidents)
main.add_command(check)
main.add_command(audit_group)
main.add_command(org_group)

if __name__ == "__main__":  # pragma: no cover
    main()
