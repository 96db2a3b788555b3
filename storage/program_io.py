"""`yakuba import programs FILE`: the YAML programme catalogue, validated entry by entry.

The format is documented in storage/data/programs.example.yaml. A bad entry is reported with its
position, line and reasons and nothing of it is saved; every good entry is upserted by name, so
importing the same file twice changes nothing. Reasons are `Problem(key, params)`: `key` names a
text in the catalogue (bot/texts), `params` fill it in.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from storage.db import Database
from storage.io_errors import bad_shape, yaml_problem
from storage.program_checks import Problem, UserCheck, parse_program, validate_program
from storage.programs import ProgramSpec, StoredProgram, name_key, upsert_program
from storage.recurrence import format_time

__all__ = [
    "EntryError",
    "ImportReport",
    "Problem",
    "ProgramFileError",
    "RawEntry",
    "UserCheck",
    "export_programs",
    "import_programs",
    "parse_program",
    "read_entries",
    "to_entry",
    "validate_program",
]

ProgressCallback = Callable[[int, int], Any]


@dataclass(frozen=True)
class EntryError:
    index: int  # 1-based position in the programs list
    line: int | None  # 1-based line of the entry in the file
    name: str | None
    problems: list[Problem]


@dataclass
class ImportReport:
    total: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[EntryError] = field(default_factory=list)
    file_error: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.errors


# --- reading YAML ------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 sexagesimal integers: `start: 21:30` stays the text "21:30"."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:int"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


class ProgramFileError(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.problem = Problem(key, params)


class RawEntry(NamedTuple):
    index: int
    line: int | None
    data: Any


def read_entries(text: str) -> list[RawEntry]:
    """The entries of a programme file with their lines; ProgramFileError if it cannot be read."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        problem = yaml_problem(exc)
        raise ProgramFileError(problem.key, **problem.params) from None
    finally:
        loader.dispose()
    if data is None:
        return []
    seq_node = root
    if isinstance(data, Mapping) and isinstance(root, yaml.MappingNode):
        seq_node = next((v for k, v in root.value if k.value == "programs"), None)
        data = data.get("programs")
        if data is None:
            return []
    if not isinstance(data, list) or not isinstance(seq_node, yaml.SequenceNode):
        raise ProgramFileError(bad_shape().key)
    lines = [node.start_mark.line + 1 for node in seq_node.value]
    return [RawEntry(i + 1, lines[i], item) for i, item in enumerate(data)]


# --- the import --------------------------------------------------------------------------------


async def _tick(on_progress: ProgressCallback | None, done: int, total: int) -> None:
    if on_progress is not None:
        result = on_progress(done, total)
        if inspect.isawaitable(result):
            await result


async def import_programs(
    *,
    db: Database,
    team_id: str,
    source: Path | str,
    user_exists: UserCheck | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a programme file (a Path is read as UTF-8; a str is the YAML text itself)."""
    text = source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else source
    report = ImportReport()
    try:
        entries = read_entries(text)
    except ProgramFileError as exc:
        report.file_error = exc.problem
        return report
    report.total = len(entries)
    await _tick(on_progress, 0, report.total)
    known: dict[str, bool] = {}
    seen: dict[str, int] = {}
    for done, entry in enumerate(entries, start=1):
        spec, problems = await validate_program(entry.data, user_exists=user_exists, known=known)
        if spec is not None and name_key(spec.name) in seen:
            problems = [
                Problem("programs.error.duplicate_name", {"name": spec.name, "index": seen[name_key(spec.name)]})
            ]
        if problems or spec is None:
            raw = entry.data if isinstance(entry.data, Mapping) else {}
            raw_name = raw.get("name") or raw.get("title")
            report.errors.append(EntryError(entry.index, entry.line, raw_name, problems))
        else:
            seen[name_key(spec.name)] = entry.index
            result = await upsert_program(db=db, team_id=team_id, spec=spec)
            getattr(report, result.outcome).append(result.program.name)
        await _tick(on_progress, done, report.total)
    return report


def to_entry(program: ProgramSpec | StoredProgram) -> dict[str, Any]:
    """The file form of a programme: `import_programs` of `export_programs` output is a no-op."""
    entry: dict[str, Any] = {"name": program.name, "title": program.title}
    if program.description:
        entry["description"] = program.description
    entry["personalities"] = list(program.personalities)
    entry["start"] = format_time(program.start_time)
    entry["duration"] = program.duration_min
    entry["recurrence"] = program.recurrence.to_dict()
    for key in ("channel", "stream_url", "archive_url"):
        if getattr(program, key):
            entry[key] = getattr(program, key)
    entry["active"] = program.active
    return entry


def export_programs(programs: list[StoredProgram]) -> str:
    return yaml.safe_dump({"programs": [to_entry(p) for p in programs]}, allow_unicode=True, sort_keys=False)
