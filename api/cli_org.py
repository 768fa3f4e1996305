"""``baoxue org load FILE``: the town's organisation for an installation that is not the demo.

The file's format and rules are ``ledger.org_setup``'s. After it, ``baoxue users create``
can grant roles at those units (the first administrator: ``--role admin --org <town code>``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from engine.errors import InvalidInput
from ledger.access_log import log_access
from ledger.org_setup import load_org_units

from .settings import Settings
from .wiring import build_engine

MAX_FILE_BYTES = 1_000_000


class DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs):
    """A key given twice silently keeps the last value in ``json``: refuse it instead."""
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(f"同一对象中重复的键 {key!r}（只能出现一次）")
        seen[key] = value
    return seen


@click.group("org")
def org_group():
    """The town's org units (town, schools, grades, classes, teaching points, villages)."""


@org_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def org_load(path: Path):
    """Create or rename the units the JSON file lists (all or nothing); exit 1 with each
    problem (its place in the file and the reason) if refused."""
    if path.stat().st_size > MAX_FILE_BYTES:
        click.echo(f"未执行 (refused): 文件超过 {MAX_FILE_BYTES // 1000} KB", err=True)
        sys.exit(1)
    try:
        document = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        click.echo(f"未执行 (refused): 不是 UTF-8 编码的 JSON 文件 ({err})", err=True)
        sys.exit(1)
    except RecursionError:
        click.echo("未执行 (refused): 文件嵌套层次过深，不是单位文件", err=True)
        sys.exit(1)
    except DuplicateKey as err:
        click.echo(f"未执行 (refused): {err}", err=True)
        sys.exit(1)
    engine = build_engine(Settings.from_env())
    try:
        with engine.db.transaction() as session:
            result = load_org_units(session, document)
            log_access(session, "cli", "change", "org", {"file": path.name, "created": result.created,
                                                         "renamed": result.renamed}, engine.clock())
    except InvalidInput as err:
        click.echo(f"未执行 (refused): {err.message}", err=True)
        for where, reason in (err.errors or {}).items():
            click.echo(f"  {where}: {reason}", err=True)
        sys.exit(1)
    finally:
        engine.close()
    click.echo(f"单位已载入 (org units loaded): 新建 {len(result.created)}，改名 {len(result.renamed)}，"
               f"未变 {result.unchanged}")
    if result.kept:
        # Removing a unit would orphan its children, tasks and accounts: say so, never delete.
        shown = "、".join(result.kept[:20]) + ("……" if len(result.kept) > 20 else "")
        click.echo(f"注意 (warning): 数据库中有 {len(result.kept)} 个单位不在文件中，已保留未动：{shown}", err=True)
