"""`yakuba import sections FILE`: read a YAML or CSV catalogue of 課, check every row, upsert the good ones.

A bad row is reported with its line and reasons and nothing of it is saved; good rows are upserted by
folded name, so importing the same file again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from storage.db import Database
from storage.io_errors import FileProblem, bad_shape, csv_records, yaml_problem
from storage.sections import KINDS, SectionSpec, upsert

# Kinds as organisers write them (Japanese labels from the community's own site, or the short codes).
KIND_ALIASES = {
    "業務課題解決型": "work",
    "業務課題解決": "work",
    "スキルアップ型": "skill",
    "スキルアップ": "skill",
    "趣味型": "hobby",
    "趣味": "hobby",
    **{k: k for k in KINDS},
}
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,31}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
LIMITS = {"name": 64, "kana": 128, "description": 2000}
LIST_SPLIT = re.compile(r"[|,、，]")


@dataclass(frozen=True)
class Problem:
    key: str  # a text catalogue key under sections.import.errors (a file_error's: a whole key, cli.import.*)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    total: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[int | None, str, list[Problem]]] = field(default_factory=list)  # (line, name, problems)
    file_error: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.errors


def _yaml_rows(text: str, key: str = "sections") -> list[tuple[int | None, Any]]:
    root = yaml.compose(text)
    data = yaml.safe_load(text)
    if data is None:
        return []
    if isinstance(data, dict) and isinstance(root, yaml.MappingNode):
        root = next((v for k, v in root.value if k.value == key), None)
        data = data.get(key)
    if not isinstance(data, list) or not isinstance(root, yaml.SequenceNode):
        raise bad_shape()
    return [(node.start_mark.line + 1, item) for node, item in zip(root.value, data, strict=True)]


def _csv_rows(text: str) -> list[tuple[int | None, Any]]:
    return [(line, {k.strip(): (v or "").strip() for k, v in row.items() if k}) for line, row in csv_records(text)]


def read_rows(path: Path, key: str = "sections") -> list[tuple[int | None, Any]]:
    """(line, raw row) pairs; FileProblem (or OSError, UnicodeDecodeError) when the file cannot be read at all.

    A YAML file is a list, or a mapping whose `key` holds the list (`sections:`, `events:`)."""
    text = path.read_text("utf-8")
    if path.suffix.lower() == ".csv":
        return _csv_rows(text)
    try:
        return _yaml_rows(text, key)
    except yaml.YAMLError as exc:
        raise yaml_problem(exc) from exc


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else LIST_SPLIT.split(str(value))
    return [str(i).strip() for i in items if str(i).strip()]


def parse(raw: Any, resolve_channel: Callable[[str], str | None]) -> SectionSpec | list[Problem]:
    if not isinstance(raw, dict):
        return [Problem("not_a_mapping")]
    problems: list[Problem] = []
    text = {k: str(raw.get(k) or "").strip() for k in ("name", "kana", "description")}
    for key, limit in LIMITS.items():
        if len(text[key]) > limit:
            problems.append(Problem("too_long", {"field": key, "limit": limit}))
    if not text["name"]:
        problems.append(Problem("missing", {"field": "name"}))
    kind = KIND_ALIASES.get(str(raw.get("kind") or "").strip())
    if kind is None:
        problems.append(Problem("bad_kind", {"kind": str(raw.get("kind") or "")[:40]}))
    channel_ref = str(raw.get("channel") or "").strip().lstrip("#")
    channel = None
    if channel_ref:
        channel = channel_ref if CHANNEL_ID.match(channel_ref) else resolve_channel(channel_ref)
        if channel is None:
            problems.append(Problem("unknown_channel", {"channel": channel_ref[:80]}))
    leads = _list(raw.get("leads"))
    bad = [u for u in leads if not USER_ID.match(u)]
    if bad:
        problems.append(Problem("bad_lead", {"lead": bad[0][:40]}))
    active = raw.get("active", True)
    if isinstance(active, str):
        active = active.strip().lower() not in ("false", "no", "0", "off")
    if problems:
        return problems
    return SectionSpec(
        name=text["name"],
        kind=kind,
        description=text["description"],
        kana=text["kana"],
        aliases=tuple(_list(raw.get("aliases"))),
        channel_id=channel,
        leads=tuple(leads),
        active=bool(active),
    )


async def import_sections(
    *,
    db: Database,
    team_id: str,
    path: Path,
    resolve_channel: Callable[[str], str | None] = lambda _name: None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Report:
    report = Report()
    try:
        rows = read_rows(path)
    except FileProblem as exc:
        report.file_error = Problem(exc.key, exc.params)
        return report
    report.total = len(rows)
    seen: set[str] = set()
    for done, (line, raw) in enumerate(rows, 1):
        parsed = parse(raw, resolve_channel)
        name = str(raw.get("name") or "")[:64] if isinstance(raw, dict) else ""
        if isinstance(parsed, SectionSpec) and parsed.name in seen:
            parsed = [Problem("duplicate", {"name": parsed.name})]
        if isinstance(parsed, list):
            report.errors.append((line, name, parsed))
        else:
            seen.add(parsed.name)
            async with db.write() as session:
                outcome = await upsert(session, team_id=team_id, spec=parsed)
            getattr(report, outcome).append(parsed.name)
        if on_progress is not None:
            on_progress(done, len(rows))
    return report
