"""Helpers for the community tests (課, directory, home, privacy): sections with channels, quick members."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from storage import sections
from storage.models import Member, Section
from storage.section_io import import_sections
from tests.membership_flow import TEAM

EXAMPLE = Path(__file__).resolve().parent.parent / "storage" / "data" / "sections.example.yaml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def texts(signed):
    return signed.yakuba.deps.texts


async def seed_sections(signed, *, with_channels: bool = True) -> dict[str, Section]:
    """The example catalogue imported; each 課 gets a channel in the fake Slack (the bot is in it)."""
    db = signed.yakuba.deps.db
    report = await import_sections(db=db, team_id=TEAM, path=EXAMPLE)
    assert report.ok, report.errors
    async with db.write() as session:
        rows = list(await session.scalars(select(Section).where(Section.team_id == TEAM)))
        for i, row in enumerate(rows):
            if with_channels:
                row.channel_id = signed.slack.add_channel(f"ka-{i:02d}")["id"]
    return {row.name: row for row in await sections.active_sections(db, team_id=TEAM)}


async def add_member(
    signed,
    user_id: str,
    *,
    pref: str = "13",
    muni: str | None = "131016",
    org_type: str = "municipality",
    status: str = "approved",
    name: str = "Test Member",
    department: str = "Soumu",
    approved_at: datetime | None = None,
    left_at: datetime | None = None,
) -> Member:
    """A member row written straight to the database (for figures; the full journey lives elsewhere)."""
    now = signed.clock()
    async with signed.yakuba.deps.db.write() as session:
        row = Member(
            team_id=TEAM,
            user_id=user_id,
            status=status,
            name=name,
            org_type=org_type,
            pref_code=pref,
            muni_code=muni,
            department=department,
            interests=[],
            joined_at=now,
            created_at=now,
            updated_at=now,
            approved_at=approved_at or (now if status == "approved" else None),
            left_at=left_at,
        )
        session.add(row)
    return row


def is_png(content: bytes) -> bool:
    """A PNG signature, then an IHDR chunk with a non-empty size, and Pillow opens it."""
    import io

    from PIL import Image

    if not content.startswith(PNG_SIGNATURE) or content[12:16] != b"IHDR":
        return False
    width, height = int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    image = Image.open(io.BytesIO(content))
    image.verify()
    return width > 0 and height > 0 and image.format == "PNG"


def all_text(node) -> str:
    """Every text of a Block Kit structure, one per line (for comparing with the catalogue)."""
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return "\n".join(own + [all_text(v) for k, v in node.items() if k != "text" or not isinstance(v, str)])
    if isinstance(node, list):
        return "\n".join(all_text(v) for v in node)
    return ""
