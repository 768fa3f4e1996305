"""human_task.reserved_for: the one person a task's route named (created claimed by them), so
an inbox lists it only for that person, not for every colleague holding the same (role, org
unit) who could not act on it (issue 12 review). Backfilled for open tasks from their
``task_ready`` audit events (``assignee``).

Revision ID: 0010_task_reserved_for
Revises: 0009_message_links
Create Date: 2026-12-01
"""
import json

from alembic import op
import sqlalchemy as sa

revision = "0010_task_reserved_for"
down_revision = "0009_message_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_task") as batch:
        batch.add_column(sa.Column("reserved_for", sa.String(120), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT a.task_id, a.data FROM audit_event a JOIN human_task t ON t.id = a.task_id "
        "WHERE t.status = 'open' AND a.kind = 'task_ready'")).fetchall()
    for task_id, data in rows:
        person = json.loads(data or "{}").get("assignee")
        if person:
            bind.execute(sa.text("UPDATE human_task SET reserved_for = :person WHERE id = :id"),
                         {"person": person, "id": task_id})


def downgrade() -> None:
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("reserved_for")
