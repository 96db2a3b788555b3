"""privacy: rows erased before #20 keep no more than an erase keeps now (data only, no schema change)

Revision ID: 0014_forget
Revises: 0012_search_words
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).

Anonymous members drop their municipality code (the kind of government it told goes into org_type) and
every date but the month of joining. Messages to erased members lose their DM channel id, and the Slack
ids in their outbox keys become random tokens: the signing secret that keys the erase's hashes is not
known here, and these tokens only keep the keys unique, nothing looks them up. Downgrade keeps the
erasure (nothing erased can come back).
"""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from alembic import op

from storage.directory import government_of

revision = "0014_forget"
down_revision = "0012_search_words"
branch_labels = None
# The columns it cleans: the profile (0002) and the announcement deliveries (0007).
depends_on = ("0002_membership", "0007_announcements")

SLACK_ID = re.compile(r"^[UWD][A-Z0-9]{6,}$")

_members = sa.table(
    "members",
    sa.column("id"),
    sa.column("status"),
    sa.column("org_type"),
    sa.column("pref_code"),
    sa.column("muni_code"),
    sa.column("approved_at"),
    sa.column("joined_at"),
    sa.column("created_at"),
    sa.column("updated_at"),
    sa.column("registered_at"),
    sa.column("left_at"),
)
_outbox = sa.table(
    "outbox", sa.column("id"), sa.column("kind"), sa.column("key"), sa.column("target"), sa.column("channel")
)
_deliveries = sa.table("announcement_deliveries", sa.column("kind"), sa.column("target"), sa.column("channel"))


def _erased(target):
    return sa.or_(target.like("anon:%"), target == "erased")


def upgrade() -> None:
    conn = op.get_bind()
    m = _members.c
    rows = conn.execute(sa.select(m.id, m.org_type, m.pref_code, m.muni_code).where(m.status == "anonymous"))
    for member_id, org_type, pref_code, muni_code in list(rows):
        _, kind = government_of(org_type, pref_code, muni_code)
        conn.execute(
            sa.update(_members)
            .where(m.id == member_id)
            .values(
                org_type=kind,
                muni_code=None,
                registered_at=None,
                joined_at=m.approved_at,
                created_at=m.approved_at,
                updated_at=m.approved_at,
                left_at=sa.case((m.left_at.is_(None), None), else_=m.approved_at),
            )
        )
    o = _outbox.c
    for row_id, key in list(conn.execute(sa.select(o.id, o.key).where(o.kind == "dm", _erased(o.target)))):
        parts = [f"h-{secrets.token_hex(12)}" if SLACK_ID.match(p) else p for p in key.split(":")]
        conn.execute(sa.update(_outbox).where(o.id == row_id).values(key=":".join(parts), channel=None))
    d = _deliveries.c
    conn.execute(sa.update(_deliveries).where(d.kind == "dm", _erased(d.target)).values(channel=None))


def downgrade() -> None:
    pass
