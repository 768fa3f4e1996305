"""What an operator reads when a ``baoxue`` command cannot run: one line, no traceback.

A wrong setting (``Settings.from_env``, ``ledger.local_rules``, the audit key, a checkpoint
file of another database) raises ``ValueError`` with the variable's name; a database that was
never initialised or is behind
its migrations answers "no such table" / "relation does not exist"; an unreachable database
refuses the connection; ``serve``, ``worker`` and ``check`` ask first whether the schema is at
the migrations' head (``engine.migrate.SchemaBehind``). Each becomes a ``click.ClickException``
(exit status 1) that says
what to do. Anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from engine.audit import ForeignCheckpointFile
from engine.migrate import SchemaBehind

_MISSING_SCHEMA = ("no such table", "no such column", "does not exist")
NOT_MIGRATED = ("数据库尚未初始化或未升级：请先运行 `baoxue init` "
                "(the database is not initialised or not migrated: run `baoxue init` first)")


def foreign_checkpoint_file(exc: ForeignCheckpointFile) -> str:
    """The operator's line for a checkpoint file of another database (engine.audit.identity)."""
    theirs = f"数据库 {exc.file_db}" if exc.file_db else "本数据库从未记录过的数据库"
    ours = f"本数据库为 {exc.database_id}" if exc.database_id else "本数据库尚无任何检查点记录"
    return (f"配置错误：检查点文件 {exc.path} 属于另一个数据库（第 {exc.line} 行属于{theirs}，{ours}），"
            "未做比对，也未写入任何内容；请核对 BAOXUE_AUDIT_CHECKPOINT_FILE 与 BAOXUE_DATABASE_URL"
            "（每个数据库用自己的检查点文件）")


def _explain(exc: Exception) -> str | None:
    if isinstance(exc, ForeignCheckpointFile):
        return foreign_checkpoint_file(exc)
    if isinstance(exc, SchemaBehind):
        if exc.unknown:
            return f"数据库由更新的版本升级过，本程序不能使用 (the database is newer than this code): {exc}"
        return NOT_MIGRATED
    if isinstance(exc, ValueError) and ("BAOXUE_" in str(exc) or "audit key" in str(exc)):
        return f"配置错误 (configuration error): {exc}"
    if isinstance(exc, (OperationalError, ProgrammingError)):
        text = str(exc.orig) if getattr(exc, "orig", None) is not None else str(exc)
        if "database" in text and "does not exist" in text and isinstance(exc, OperationalError):
            first = text.strip().splitlines()[0]
            return f"无法连接数据库 (cannot reach the database): {first}（请先用 createdb 建库）"
        if any(marker in text for marker in _MISSING_SCHEMA):
            return NOT_MIGRATED
        if isinstance(exc, OperationalError):
            first = text.strip().splitlines()[0] if text.strip() else type(exc.orig).__name__
            return f"无法连接数据库 (cannot reach the database): {first}"
    return None


class OperatorGroup(click.Group):
    """A click group whose commands report setting and database problems in one line."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (ValueError, OperationalError, ProgrammingError, SchemaBehind) as exc:
            message = _explain(exc)
            if message is None:
                raise
            raise click.ClickException(message) from exc
