"""No new audit key over an existing audit record.

The audit key (``BAOXUE_AUDIT_KEY``, else ``var/audit_key``) is generated on the first
start. Generated again later (``var/`` lost in a move, a database restored on a new server,
the variable dropped from the service file), it verifies none of the existing entries and
signs new ones beside them: the whole record turns unverifiable and nobody is told. So a
key is generated only for a database that holds no audit entry yet; otherwise the start
stops with one line saying which key to restore (``Settings.from_env``).

Not a race between processes starting together: the key file is written before the first
entry signed with it, so "no key, but entries" always means the key is missing.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

# Every table that holds links of the audit record: the engine's chains and their heads,
# and the access log (ledger/access_log.py), older rows of which may have no head.
AUDIT_TABLES = ("audit_stream", "audit_event", "access_log")


def holds_audit_entries(database_url: str) -> bool:
    """True when the database at ``database_url`` has a row in any ``AUDIT_TABLES``; False
    for a database not created or not initialised yet (a missing SQLite file is not
    created). Connection errors are raised as they come (api/cli_errors.py explains them)."""
    url = make_url(database_url)
    if url.drivername.startswith("sqlite") and (not url.database or url.database == ":memory:"
                                                 or not Path(url.database).exists()):
        return False
    sql = create_engine(url)
    try:
        with sql.connect() as conn:
            present = set(inspect(conn).get_table_names()) & set(AUDIT_TABLES)
            return any(conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() for table in sorted(present))
    finally:
        sql.dispose()


def refuse_new_key_over_entries(key_file: Path, database_url: str) -> None:
    """Raise ValueError (one line for the operator) when no audit key is set, ``key_file``
    does not exist and the database already holds audit entries; return when a new key
    may be generated (a brand-new or empty database)."""
    if holds_audit_entries(database_url):
        raise ValueError(
            f"审计密钥缺失：数据库已有审计记录，但未设置 BAOXUE_AUDIT_KEY，{key_file} 也不存在；"
            "新生成的密钥验证不了已有记录，所以不生成。请恢复原来的密钥：设置 BAOXUE_AUDIT_KEY，"
            f"或把保存的密钥文件放回 {key_file}（权限 0600）")
