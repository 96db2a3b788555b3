"""spine: the outbox's due index leads with team_id, so claiming never reads rows already sent

Revision ID: 0010_outbox_due
Revises: 0009_inbox
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).
"""

from __future__ import annotations

from alembic import op

revision = "0010_outbox_due"
down_revision = "0009_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["team_id", "status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"], unique=False)
