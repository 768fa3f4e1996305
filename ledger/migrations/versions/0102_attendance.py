"""attendance records and school calendar days

Revision ID: 0102_attendance
Revises: 0101_ledger
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0102_attendance'
down_revision = '0101_ledger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attendance_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('school_code', sa.String(length=64), nullable=False),
    sa.Column('class_code', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('reported_by', sa.String(length=120), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], ),
    sa.ForeignKeyConstraint(['class_code'], ['org_unit.code'], ),
    sa.ForeignKeyConstraint(['school_code'], ['org_unit.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('child_id', 'date', name='uq_attendance_child_date')
    )
    with op.batch_alter_table('attendance_record', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_school_date', ['school_code', 'date'], unique=False)

    op.create_table('school_calendar_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_unit_code', sa.String(length=64), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('is_school_day', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_code'], ['org_unit.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_unit_code', 'date', name='uq_school_calendar_unit_date')
    )


def downgrade() -> None:
    op.drop_table('school_calendar_day')
    with op.batch_alter_table('attendance_record', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_school_date')
    op.drop_table('attendance_record')
