"""leases: outbox, inbox and announcement delivery rows record which process holds their lease

Revision ID: 0015_lease_holders
Revises: 0012_search_words (depends on 0007_announcements and 0009_inbox, which made the tables)
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).

A holder is `host:pid:nonce` (bot/slack/holders.py). A process starting on a host takes over at once the rows
its dead predecessor there held, instead of waiting for their leases to run out. Rows leased before this
revision have no holder and wait for their lease, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_lease_holders"
down_revision = "0012_search_words"
branch_labels = None
# The tables it changes come from these branches of the spine: alembic runs them first.
depends_on = ("0007_announcements", "0009_inbox")

TABLES = ("outbox", "inbox", "announcement_deliveries")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("holder", sa.String(length=128), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("holder")
