"""Responsibility agreements (目标责任书, issue 12): campaigns, the register, its events, documents

Revision ID: 0116_agreements
Revises: 0110_document_versions

Tables of ``ledger.agreement_models``.
"""
from alembic import op
import sqlalchemy as sa

from engine.persistence.models import UtcDateTime

revision = "0116_agreements"
down_revision = "0110_document_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement_campaign",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_year", sa.String(9), nullable=False, unique=True),
        sa.Column("instance_id", sa.Integer(), nullable=True, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dropout_target", sa.Float(), nullable=True),
        sa.Column("return_target", sa.Float(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("started_by", sa.String(120), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "agreement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("agreement_campaign.id"), nullable=False, index=True),
        sa.Column("ref", sa.String(200), nullable=False, unique=True),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False, index=True),
        sa.Column("party_role", sa.String(64), nullable=False),
        sa.Column("party_unit", sa.String(64), nullable=False),
        sa.Column("party_username", sa.String(120), nullable=True),
        sa.Column("party_name", sa.String(120), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        *[sa.Column(name, UtcDateTime(), nullable=True) for name in (
            "due_at", "reminded_at", "overdue_at", "refused_at", "signed_at", "countersigned_at", "withdrawn_at",
            "assessed_at")],
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("signed_by", sa.String(120), nullable=True),
        sa.Column("signer_name", sa.String(120), nullable=True),
        sa.Column("countersigned_by", sa.String(120), nullable=True),
        sa.Column("countersigner_name", sa.String(120), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("assessment", sa.String(16), nullable=True),
        sa.Column("assessment_notes", sa.Text(), nullable=True),
        sa.Column("assessed_by", sa.String(120), nullable=True),
    )
    op.create_table(
        "agreement_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=True, index=True),
        sa.Column("instance_id", sa.Integer(), nullable=False, index=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(120), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_table(
        "agreement_document",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreement.id"), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("agreement_id", "version"),
    )


def downgrade() -> None:
    for table in ("agreement_document", "agreement_event", "agreement", "agreement_campaign"):
        op.drop_table(table)
