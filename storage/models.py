"""All tables. Every row carries team_id; times are UTC. Features append their own section below."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Float, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict] = {datetime: UTCDateTime, dict[str, Any]: JSON}


# --- spine -------------------------------------------------------------------------------------


class SeenEvent(Base):
    """One row per Slack event_id: a retried delivery finds its row and is not processed again."""

    __tablename__ = "seen_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    event_type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OutboxMessage(Base):
    """A message that must reach Slack exactly once per key, surviving crashes and rate limits."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        Index("ix_outbox_due", "team_id", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    # "dm": target is a user id, or several joined by "," for a group DM (conversations.open takes that list),
    # opened with conversations.open; "post": target is a channel id;
    # "invite": target is a channel id, the payload names the member (a step of bot/slack/outbox.py).
    # "update": a chat.update of one of our posts in channel `target` (payload carries its ts).
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    # The process holding the lease (host:pid:nonce): its own successor on that host takes over at once.
    holder: Mapped[str | None] = mapped_column(String(128), default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    channel: Mapped[str | None] = mapped_column(String(32), default=None)
    ts: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class InboxItem(Base):
    """A Slack request acked at once and worked on after: kept until done, so a restart loses nothing.

    Deleted when its work is done (the body holds what Slack sent, personal data included)."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        Index("ix_inbox_due", "team_id", "priority", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    # event_id for events (a Slack retry finds it queued), trigger_id for slash commands.
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # event|command
    priority: Mapped[int] = mapped_column(default=1)  # 0 first: someone is waiting for the answer
    body: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    # The process holding the lease (host:pid:nonce): its own successor on that host takes over at once.
    holder: Mapped[str | None] = mapped_column(String(128), default=None)
    attempts: Mapped[int] = mapped_column(default=0)


class Member(Base):
    """A person in the workspace. Never hard-deleted except by the privacy erase."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    # joined -> pending -> approved | rejected; left is kept with left_at, and rejoining restores.
    status: Mapped[str] = mapped_column(String(16), default="joined", index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Profile (membership, /register). Codes are JIS X 0401 (prefecture) and 0402 with check digit.
    name: Mapped[str | None] = mapped_column(String(100), default=None)
    org_type: Mapped[str | None] = mapped_column(String(16), default=None)  # municipality|prefecture|national|other
    pref_code: Mapped[str | None] = mapped_column(String(2), default=None, index=True)
    muni_code: Mapped[str | None] = mapped_column(String(6), default=None)
    department: Mapped[str | None] = mapped_column(String(200), default=None)
    title: Mapped[str | None] = mapped_column(String(200), default=None)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)  # 課 names
    public_servant_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    registered_at: Mapped[datetime | None] = mapped_column(default=None)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    approved_by: Mapped[str | None] = mapped_column(String(32), default=None)
    rejected_reason: Mapped[str | None] = mapped_column(String(1000), default=None)
    is_lead: Mapped[bool] = mapped_column(default=False)  # 県人会の世話役 of pref_code
    # The prefecture whose channel the member was last placed in (differs from pref_code mid-transfer).
    placed_pref_code: Mapped[str | None] = mapped_column(String(2), default=None)
    # Answers to the fields a community profile adds beyond the typed columns above, by field key
    # (see migration 0021). A key the profile no longer lists keeps its answer until forget/retention.
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)  # None once anonymised
    consent_version: Mapped[str | None] = mapped_column(String(40), default=None)
    consent_at: Mapped[datetime | None] = mapped_column(default=None)


class JobRun(Base):
    """The claim of one scheduled occurrence: only the process that inserts the row runs the slot."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("team_id", "job", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    job: Mapped[str] = mapped_column(String(64))
    slot: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|done|failed|skipped
    claimed_by: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    detail: Mapped[str | None] = mapped_column(Text, default=None)


class AuditEntry(Base):
    """Who did what to whom. Records that something happened, never the personal data itself."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# --- programs (庁内放送) --------------------------------------------------------------------------

from sqlalchemy import ForeignKey  # noqa: E402 - kept in this section: other features edit the top imports


class Program(Base):
    """A 庁内放送 programme. `name_key` (folded name) is unique per team: imports upsert by it."""

    __tablename__ = "programs"
    __table_args__ = (UniqueConstraint("team_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    personalities: Mapped[list[str]] = mapped_column(JSON, default=list)  # Slack user ids
    recurrence: Mapped[dict[str, Any]] = mapped_column(JSON)  # storage.recurrence.Recurrence
    start_time: Mapped[str] = mapped_column(String(5))  # local "HH:MM" in YAKUBA_TZ
    duration_min: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(32), default=None)  # None: broadcast channel
    stream_url: Mapped[str | None] = mapped_column(String(500), default=None)
    archive_url: Mapped[str | None] = mapped_column(String(500), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProgramSubscription(Base):
    """A member who wants a DM before a programme goes live."""

    __tablename__ = "program_subscriptions"
    __table_args__ = (
        UniqueConstraint("team_id", "program_id", "user_id"),
        Index("ix_program_subscriptions_member", "team_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- knowledge (faq, archives) -----------------------------------------------------------------

import datetime as _dt  # noqa: E402 - kept in this section: other features edit the top imports

import sqlalchemy as sa  # noqa: E402


class Faq(Base):
    """One question and its answer. `qkey` is the folded question: the natural key per team."""

    __tablename__ = "faqs"
    __table_args__ = (UniqueConstraint("team_id", "qkey"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    qkey: Mapped[str] = mapped_column(String(255))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str | None] = mapped_column(String(100), default=None, index=True)
    source: Mapped[str | None] = mapped_column(String(200), default=None)
    source_url: Mapped[str | None] = mapped_column(String(500), default=None)
    updated_on: Mapped[_dt.date | None] = mapped_column(sa.Date, default=None)
    author: Mapped[str | None] = mapped_column(String(100), default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="public")  # public|members|organisers
    helpful: Mapped[int] = mapped_column(default=0)
    unhelpful: Mapped[int] = mapped_column(default=0)
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FaqRevision(Base):
    """The entry as it was before an edit: nothing an organiser wrote is ever lost."""

    __tablename__ = "faq_revisions"
    __table_args__ = (UniqueConstraint("faq_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    faq_id: Mapped[int] = mapped_column(sa.ForeignKey("faqs.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int]
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    edited_by: Mapped[str | None] = mapped_column(String(100), default=None)
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)


class FaqVote(Base):
    """👍 (+1) or 👎 (-1): one vote per member per entry, which the member may change."""

    __tablename__ = "faq_votes"
    __table_args__ = (UniqueConstraint("faq_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    faq_id: Mapped[int] = mapped_column(sa.ForeignKey("faqs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    vote: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class UnansweredQuestion(Base):
    """A question the FAQ could not answer, counted; who asked is kept only when they forward it (FaqAsker)."""

    __tablename__ = "faq_unanswered"
    __table_args__ = (UniqueConstraint("team_id", "qkey"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    qkey: Mapped[str] = mapped_column(String(255))
    question: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(default=1)
    first_asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_faq_id: Mapped[int | None] = mapped_column(default=None)


class FaqAsker(Base):
    """A member who chose to send an unanswered question to the organisers: told once when it is answered.

    Only forwarding keeps who asked (so the answer can reach them); the privacy erase deletes these rows.
    """

    __tablename__ = "faq_askers"
    __table_args__ = (UniqueConstraint("unanswered_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    unanswered_id: Mapped[int] = mapped_column(sa.ForeignKey("faq_unanswered.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_faq_id: Mapped[int | None] = mapped_column(default=None)
    answered_by: Mapped[str | None] = mapped_column(String(32), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class Archive(Base):
    """One meeting of a series (e.g. 第7回 ワクチン接種情報交換会) with its recording and FAQ document."""

    __tablename__ = "archives"
    __table_args__ = (UniqueConstraint("team_id", "series", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    series: Mapped[str] = mapped_column(String(200))
    number: Mapped[int]
    held_on: Mapped[_dt.date | None] = mapped_column(sa.Date, default=None, index=True)
    theme: Mapped[str | None] = mapped_column(Text, default=None)
    recording_url: Mapped[str | None] = mapped_column(String(500), default=None)
    faq_doc_url: Mapped[str | None] = mapped_column(String(500), default=None)
    attendance: Mapped[int | None] = mapped_column(default=None)
    governments: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SearchDoc(Base):
    """Index tokens of one searchable row (kind faq|archive): q = question side, a = answer side,
    s = synonym groups. Searched through the in-process index (storage/search/index.py), built from these
    columns; the database keeps no full-text index of them (dropped in 0024)."""

    __tablename__ = "search_docs"
    __table_args__ = (
        UniqueConstraint("team_id", "kind", "ref_id"),
        Index("ix_search_docs_changed", "team_id", "kind", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int]
    q: Mapped[str] = mapped_column(Text, default="")
    a: Mapped[str] = mapped_column(Text, default="")
    s: Mapped[str] = mapped_column(Text, default="")
    # One FTS token naming team and kind, so a MATCH only walks this team's postings (a LIMIT applied
    # before a team filter would starve small teams sharing a database with a big one).
    scope: Mapped[str] = mapped_column(String(80), default="")
    # The team's search generation that last wrote this row (SearchGeneration): a process whose in-memory
    # index is at generation g reads only the rows with version > g to catch up.
    version: Mapped[int] = mapped_column(default=0)


class SearchGeneration(Base):
    """How often one team's documents of one kind changed: bumped in the transaction of every write to
    search_docs, read (by primary key) before every search, so each process's in-memory index knows when
    to catch up. `resets` counts deletions, after which an index is rebuilt rather than caught up."""

    __tablename__ = "search_generations"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)
    resets: Mapped[int] = mapped_column(default=0)


class FaqChannel(Base):
    """Per-channel FAQ settings: organisers may switch the answers to mentions off (on by default)."""

    __tablename__ = "faq_channels"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    auto_answer: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    updated_by: Mapped[str | None] = mapped_column(String(32), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- membership --------------------------------------------------------------------------------


class PrefectureChannel(Base):
    """The 県人会 channel of one prefecture (created or linked by `yakuba setup prefectures`)."""

    __tablename__ = "prefecture_channels"
    __table_args__ = (UniqueConstraint("team_id", "pref_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    pref_code: Mapped[str] = mapped_column(String(2))
    channel_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ApprovalRequest(Base):
    """One registration awaiting an organiser. Decided once: `UPDATE … WHERE status='pending'`."""

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_pending", "team_id", "status", "submitted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="new")  # new|reapproval
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|rejected|withdrawn
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    reason: Mapped[str | None] = mapped_column(String(1000), default=None)


# --- announcements -----------------------------------------------------------------------------

from sqlalchemy import ForeignKey as _ForeignKey  # noqa: E402 - this section stands alone


class Announcement(Base):
    """One broadcast: drafted (previewed), then scheduled or sending, then done or cancelled."""

    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_recent", "team_id", "status", "confirmed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    allow_mentions: Mapped[bool] = mapped_column(default=False)
    # {"kind": "all"|"prefs"|"channels"|"broadcast"|"members", "codes": [...], "channels": [...]}
    targets: Mapped[dict[str, Any]] = mapped_column(JSON)
    target_key: Mapped[str] = mapped_column(String(64))  # digest of the canonical targets (duplicate check)
    text_key: Mapped[str] = mapped_column(String(64))  # digest of the text and the mention choice
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|scheduled|sending|done|cancelled
    send_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    origin_channel: Mapped[str | None] = mapped_column(String(32), default=None)
    total: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_by: Mapped[str | None] = mapped_column(String(32), default=None)


class AnnouncementDelivery(Base):
    """One target (channel or member) of one announcement: sent at most once, its ts recorded."""

    __tablename__ = "announcement_deliveries"
    __table_args__ = (
        UniqueConstraint("announcement_id", "target"),
        Index("ix_announcement_deliveries_due", "team_id", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    announcement_id: Mapped[int] = mapped_column(_ForeignKey("announcements.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # channel|dm
    target: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed|cancelled
    attempts: Mapped[int] = mapped_column(default=0)
    # True once a send may have reached Slack without us learning its ts: look before sending again.
    uncertain: Mapped[bool] = mapped_column(default=False)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    # The process holding the lease (host:pid:nonce): its own successor on that host takes over at once.
    holder: Mapped[str | None] = mapped_column(String(128), default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    channel: Mapped[str | None] = mapped_column(String(32), default=None)
    ts: Mapped[str | None] = mapped_column(String(32), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class SendRate(Base):
    """The post rate learned for a workspace while broadcasting, so the next broadcast (on any replica) starts there."""

    __tablename__ = "send_rates"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    per_second: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- community ---------------------------------------------------------------------------------


class Section(Base):
    """A 課: an interest group with its own channel. `name_key` (folded name) is the natural key per team."""

    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("team_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # work | skill | hobby
    description: Mapped[str] = mapped_column(Text, default="")
    kana: Mapped[str] = mapped_column(String(128), default="")  # reading, for kana/romaji search
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel_id: Mapped[str | None] = mapped_column(String(32), default=None)
    leads: Mapped[list[str]] = mapped_column(JSON, default=list)  # Slack user ids
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SectionMember(Base):
    """A member in a 課. Erased with the member's data (privacy), otherwise removed by /ka leave."""

    __tablename__ = "section_members"
    __table_args__ = (
        UniqueConstraint("section_id", "user_id"),
        Index("ix_section_members_member", "team_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


# ix_members_directory and ix_members_approved_at (0006) were dropped by 0019: the statistics read member_counts.


# --- local workspace ---------------------------------------------------------------------------


class LocalSlackObject(Base):
    """A user or channel of the `yakuba console` workspace, so a restart finds the people the database knows."""

    __tablename__ = "local_slack_objects"
    __table_args__ = (UniqueConstraint("team_id", "kind", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # user | channel (DMs included)
    object_id: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- introductions (繋がりづくり) ----------------------------------------------------------------


class IntroOptIn(Base):
    """A member who asked for introductions: `active` False is a pause (/intro off), kept with the preference."""

    __tablename__ = "intro_optins"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    preference: Mapped[str] = mapped_column(String(16), default="any")  # any|same_pref|other_region|same_section
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IntroRound(Base):
    """One round of introductions, made once per scheduled slot."""

    __tablename__ = "intro_rounds"
    __table_args__ = (UniqueConstraint("team_id", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    slot: Mapped[datetime]
    eligible: Mapped[int] = mapped_column(default=0)
    groups: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntroSeat(Base):
    """One member in one group of a round; the check-in a week later is recorded on the seat."""

    __tablename__ = "intro_seats"
    __table_args__ = (
        UniqueConstraint("round_id", "user_id"),
        Index("ix_intro_seats_member", "team_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    round_id: Mapped[int] = mapped_column(ForeignKey("intro_rounds.id", ondelete="CASCADE"))
    group_no: Mapped[int]
    user_id: Mapped[str] = mapped_column(String(32))
    checkin: Mapped[str | None] = mapped_column(String(16), default=None)  # met|not_yet|pass
    checkin_at: Mapped[datetime | None] = mapped_column(default=None)


# --- disaster check-ins (県人会の安否確認) -----------------------------------------------------------


class DisasterFeed(Base):
    """What the watcher knows of one JMA feed between ticks (bot/services/disaster_feed.FeedState as JSON)."""

    __tablename__ = "disaster_feeds"
    __table_args__ = (UniqueConstraint("team_id", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(500))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DisasterCheckin(Base):
    """One check-in post: at most one per (event, prefecture); a manual one has its own event key.

    `info` is what the post shows (time, epicentre, intensity, municipalities, message); `version` grows with
    every change to what it shows (a later report, a withdrawal, a press) and `shown_version` is the version
    last written to Slack, so a post whose update was missed is found and brought up to date.
    """

    __tablename__ = "disaster_checkins"
    __table_args__ = (UniqueConstraint("team_id", "event_id", "pref_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(80))
    pref_code: Mapped[str] = mapped_column(String(2))
    channel_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # quake|manual
    drill: Mapped[bool] = mapped_column(default=False)
    withdrawn: Mapped[bool] = mapped_column(default=False)
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(default=1)
    shown_version: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DisasterStatus(Base):
    """A member's answer to one check-in (the last press wins); `help_sent` once the helpers were told."""

    __tablename__ = "disaster_statuses"
    __table_args__ = (
        UniqueConstraint("checkin_id", "user_id"),
        Index("ix_disaster_statuses_member", "team_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    checkin_id: Mapped[int] = mapped_column(ForeignKey("disaster_checkins.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # safe|responding|need_help
    help_sent: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# --- member counts (#19): the directory's figures, kept by triggers on members -----------------------


class MemberCount(Base):
    """How many members share one (team, status, here or left, kind, prefecture, municipality).

    Written only by the triggers of revision 0019 (same statement, same transaction as the change to members)
    and by `yakuba db recount`; a missing org_type, pref_code or muni_code is stored as "" so it can be a key.
    """

    __tablename__ = "member_counts"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    live: Mapped[bool] = mapped_column(primary_key=True)  # left_at IS NULL
    org_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    pref_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    muni_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    n: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class MemberApproval(Base):
    """Approvals per quarter hour of approved_at (UTC): any time zone's months are whole quarter hours."""

    __tablename__ = "member_approvals"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(sa.BigInteger, default=0)


# --- events (説明会, 勉強会, 交流会, セミナー) ------------------------------------------------------------


# An event's own fields, in the order of the import file and of the /events form (storage/event_io.py and
# bot/blocks/events.py read this one list).
EVENT_FIELDS = (
    "key",
    "title",
    "kind",
    "starts_at",
    "ends_at",
    "capacity",
    "deadline",
    "audience",
    "join_url",
    "venue",
    "hosts",
    "description",
    "fee",
    "archive_url",
)


class Event(Base):
    """One occurrence of an event members sign up for. `key` is stable per team (imports upsert by it); an
    occurrence of a series has the key `SERIES@YYYY-MM-DD` and keeps the series' key and recurrence.

    `version` grows with every change its channel post shows (a sign-up, a cancellation, an edit) and
    `shown_version` is the version last written to Slack, as the disaster check-ins do."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        Index("ix_events_upcoming", "team_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(120))
    series_key: Mapped[str | None] = mapped_column(String(100), default=None)
    recurrence: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # storage.recurrence.Recurrence
    title: Mapped[str] = mapped_column(String(200))
    # setsumeikai|benkyokai|koryukai|seminar|talk|lt|tour|other (storage.event_io.KIND_ALIASES reads the labels)
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int | None] = mapped_column(default=None)  # None: no limit
    deadline: Mapped[datetime | None] = mapped_column(default=None)  # None: until it starts
    hosts: Mapped[list[str]] = mapped_column(JSON, default=list)  # Slack user ids
    audience: Mapped[str] = mapped_column(String(80), default="all")  # all | pref:NN | ka:NAME
    join_url: Mapped[str | None] = mapped_column(String(500), default=None)  # only ever sent to the signed-up
    venue: Mapped[str | None] = mapped_column(String(200), default=None)
    description: Mapped[str] = mapped_column(Text, default="")
    fee: Mapped[str | None] = mapped_column(String(200), default=None)
    archive_url: Mapped[str | None] = mapped_column(String(500), default=None)
    archive_id: Mapped[int | None] = mapped_column(default=None)  # the /archive entry made from archive_url
    version: Mapped[int] = mapped_column(default=1)
    shown_version: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EventSignup(Base):
    """A member's place at one event: `seat`, `wait` (in `seq` order) or `cancelled`; one row per member."""

    __tablename__ = "event_signups"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("ix_event_signups_member", "team_id", "user_id"),
        Index("ix_event_signups_queue", "event_id", "status", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # seat | wait | cancelled
    seq: Mapped[int] = mapped_column(default=0)  # order of arrival at this event (the waitlist's order)
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class EventSurvey(Base):
    """A member's answer to the survey after an event: satisfaction 1-5 (None: did not attend), a wished topic.

    `share_name`: the member agreed that organisers see their name next to the topic."""

    __tablename__ = "event_surveys"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("ix_event_surveys_member", "team_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    attended: Mapped[bool | None] = mapped_column(default=None)
    satisfaction: Mapped[int | None] = mapped_column(default=None)
    topic: Mapped[str | None] = mapped_column(Text, default=None)
    share_name: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
