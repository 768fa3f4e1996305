"""access_log: a keyed hash chain over the rows (seq, prev_hash, hash, alg, key_id)

Revision ID: 0104_access_log_chain
Revises: 0103_case_handoff
Create Date: 2026-11-30

Rows already there are chained now, in id order, with the plain SHA-256 digest (``alg``
sha256: no key is available to a migration): they verify as legacy links and the first
checkpoint seals them. Every later row is keyed (ledger/access_log.py). The chain's head is
the ``access`` row of the engine's ``audit_stream`` table.
"""
from alembic import op
import sqlalchemy as sa

from engine.audit import GENESIS, LEGACY, link_hash, utc_text
from engine.persistence.models import UtcDateTime

revision = "0104_access_log_chain"
down_revision = "0103_case_handoff"
branch_labels = None
depends_on = "0005_audit_keyed"

STREAM = "access"


def upgrade() -> None:
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("alg", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint("uq_access_log_seq", ["seq"])
    _chain_existing_rows(op.get_bind())


def _chain_existing_rows(bind) -> None:
    meta = sa.MetaData()
    log = sa.Table("access_log", meta, sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("at", UtcDateTime), sa.Column("username", sa.String), sa.Column("action", sa.String),
                   sa.Column("subject", sa.String), sa.Column("detail", sa.Text), sa.Column("seq", sa.Integer),
                   sa.Column("prev_hash", sa.String), sa.Column("hash", sa.String), sa.Column("alg", sa.String))
    heads = sa.Table("audit_stream", meta, sa.Column("stream", sa.String, primary_key=True),
                     sa.Column("seq", sa.Integer), sa.Column("head_hash", sa.String))
    prev, seq = GENESIS, 0
    for row in bind.execute(sa.select(log).order_by(log.c.id)).all():
        seq += 1
        fields = {"at": utc_text(row.at), "username": row.username, "action": row.action, "subject": row.subject}
        digest = link_hash(None, LEGACY, None, prev, STREAM, seq, fields, row.detail or "")
        bind.execute(log.update().where(log.c.id == row.id).values(
            seq=seq, prev_hash=prev, hash=digest, alg=LEGACY, detail=row.detail or ""))
        prev = digest
    # Always a head row, even for an empty log: the first two writers must find one to lock
    # rather than both inserting it.
    bind.execute(heads.insert().values(stream=STREAM, seq=seq, head_hash=prev))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM audit_stream WHERE stream = 'access'"))
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_constraint("uq_access_log_seq", type_="unique")
        for column in ("key_id", "alg", "hash", "prev_hash", "seq"):
            batch_op.drop_column(column)
