"""The child register's full record and its change history (issue 15 "The child register")

Revision ID: 0120_child_register
Revises: 0119_photo_dimensions

``child`` gains the fields of DOMAIN-REFERENCE §3.1 that it lacked (民族, 就读地, 村民小组,
户编号, 户口性质, a second guardian, 父母务工情况, 实际照护人, the disability's type, grade and
certificate, risk level and factors, verification method, person and date, 更新时间): all
empty for existing rows (``risk_factors`` the empty list). ``child_change`` keeps every
change of a child's field: who, when, old → new, why (``ledger.register``).
"""
from alembic import op
import sqlalchemy as sa

from engine.persistence.models import UtcDateTime

revision = "0120_child_register"
down_revision = "0119_photo_dimensions"
branch_labels = None
depends_on = None

COLUMNS = (("ethnicity", sa.String(16)), ("study_place", sa.String(16)), ("village_group", sa.String(64)),
           ("household_no", sa.String(32)), ("hukou_type", sa.String(16)), ("guardian2_name", sa.String(64)),
           ("guardian2_relation", sa.String(16)), ("guardian2_phone", sa.String(32)), ("parents_work", sa.String(8)),
           ("carer", sa.String(64)), ("disability_type", sa.String(16)), ("disability_grade", sa.String(4)),
           ("disability_certificate", sa.String(24)), ("risk_level", sa.String(8)),
           ("verify_method", sa.String(16)), ("verified_by", sa.String(64)), ("verified_on", sa.Date()),
           ("updated_at", UtcDateTime()))


def upgrade() -> None:
    with op.batch_alter_table("child") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.add_column(sa.Column("risk_factors", sa.Text(), nullable=False, server_default=""))
        batch.create_index("ix_child_risk_level", ["risk_level"])
    op.create_table(
        "child_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("child_id", sa.Integer(), sa.ForeignKey("child.id"), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_child_change_child", "child_change", ["child_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_child_change_child", table_name="child_change")
    op.drop_table("child_change")
    with op.batch_alter_table("child") as batch:
        batch.drop_index("ix_child_risk_level")
        for name in ["risk_factors", *reversed([n for n, _ in COLUMNS])]:
            batch.drop_column(name)
