"""Import and export of FAQ entries and archives as YAML or CSV (chosen by the file extension).

CSV columns for FAQs: question, answer, tags (separated by `|`), category, source, source_url,
updated_on, plus the optional aliases (`|`), visibility and author. YAML: a list of mappings with the
same keys, tags and aliases as lists. Every row is validated; a bad row is reported with its line
number and the others still import. Import is idempotent: entries are matched by their natural key
(the folded question; an archive's series + number), so re-importing updates instead of duplicating.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from storage import archives, faqs
from storage.db import Database
from storage.io_errors import FileProblem, bad_shape, csv_records, yaml_problem

Progress = Callable[[int, int], None]
FAQ_COLUMNS = [
    "question",
    "answer",
    "tags",
    "category",
    "source",
    "source_url",
    "updated_on",
    "aliases",
    "visibility",
    "author",
]
ARCHIVE_COLUMNS = ["series", "number", "held_on", "theme", "recording_url", "faq_doc_url", "attendance", "governments"]


class _Loader(yaml.SafeLoader):
    """Safe YAML where an impossible date (2021-13-45) stays text, so its row, not the file, is refused."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


# The file as a whole cannot be read (unknown extension, not a list, broken YAML or CSV).
FormatError = FileProblem


class RowProblem(ValueError):
    """One row is refused: `key` names a text under faq.import.errors, `params` fill it."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = f"faq.import.errors.{key}"
        self.params = params


@dataclass(frozen=True)
class RowError:
    line: int
    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def _fmt(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in (".yaml", ".yml"):
        return "yaml"
    if ext == ".csv":
        return "csv"
    raise FileProblem("cli.import.file_type", suffix=ext or "-")


def read_rows(path: Path | str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, raw mapping) for each row of a YAML or CSV file."""
    path = Path(path)
    fmt = _fmt(path)
    text = path.read_text(encoding="utf-8-sig")
    if fmt == "csv":
        for line, row in csv_records(text):
            yield line, {k.strip().lower(): v for k, v in row.items() if k}
        return
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        raise yaml_problem(exc) from exc
    if data is None:
        return
    if not isinstance(data, list):
        raise bad_shape()
    for item, item_node in zip(data, node.value, strict=True):
        yield item_node.start_mark.line + 1, item if isinstance(item, dict) else {"__invalid__": item}


def _text(raw: dict, key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _list(raw: dict, key: str) -> list[str]:
    value = raw.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split("|") if v.strip()]


def _date(raw: dict, key: str) -> date | None:
    value = raw.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RowProblem("bad_date", field=key, value=str(value)[:40]) from None


def _int(raw: dict, key: str) -> int | None:
    value = raw.get(key)
    if value in (None, ""):
        return None
    try:
        return int(str(value).replace(",", "").strip())
    except ValueError:
        raise RowProblem("bad_number", field=key, value=str(value)[:40]) from None


def _url(raw: dict, key: str) -> str | None:
    value = _text(raw, key)
    if value and not value.startswith(("http://", "https://")):
        raise RowProblem("bad_url", field=key, value=value[:80])
    return value


def faq_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """Validated keyword arguments for faqs.upsert; raises RowProblem naming the catalogue's reason."""
    if "__invalid__" in raw:
        raise RowProblem("not_a_mapping", fields="question, answer")
    question, answer = _text(raw, "question"), _text(raw, "answer")
    if not question:
        raise RowProblem("empty", field="question")
    if not answer:
        raise RowProblem("empty", field="answer")
    visibility = _text(raw, "visibility") or "public"
    if visibility not in faqs.VISIBILITIES:
        raise RowProblem("bad_choice", field="visibility", choices=", ".join(faqs.VISIBILITIES))
    fields = {
        "question": question,
        "answer": answer,
        "tags": _list(raw, "tags"),
        "aliases": _list(raw, "aliases"),
        "category": _text(raw, "category"),
        "source": _text(raw, "source"),
        "source_url": _url(raw, "source_url"),
        "updated_on": _date(raw, "updated_on"),
        "author": _text(raw, "author"),
        "visibility": visibility,
    }
    for name, value in fields.items():
        if faqs.too_long(name, value):  # the form's limits: whatever is imported can be edited whole
            raise RowProblem("too_long", field=name, limit=faqs.LIMITS[name])
    return fields


def archive_fields(raw: dict[str, Any]) -> dict[str, Any]:
    if "__invalid__" in raw:
        raise RowProblem("not_a_mapping", fields="series, number")
    series, number = _text(raw, "series"), _int(raw, "number")
    if not series:
        raise RowProblem("empty", field="series")
    if number is None or number < 0:
        raise RowProblem("empty", field="number")
    return {
        "series": series,
        "number": number,
        "held_on": _date(raw, "held_on"),
        "theme": _text(raw, "theme"),
        "recording_url": _url(raw, "recording_url"),
        "faq_doc_url": _url(raw, "faq_doc_url"),
        "attendance": _int(raw, "attendance"),
        "governments": _int(raw, "governments"),
    }


async def _import(path, validate, upsert, on_progress: Progress | None) -> ImportReport:
    rows = list(read_rows(path))
    report = ImportReport(total=len(rows))
    for done, (line, raw) in enumerate(rows, start=1):
        try:
            _, status = await upsert(**validate(raw))
        except RowProblem as exc:
            report.errors.append(RowError(line, exc.key, exc.params))
        except ValueError:  # the repository's own guard (validation above should have caught it)
            report.errors.append(RowError(line, "faq.import.errors.rejected"))
        else:
            setattr(report, status, getattr(report, status) + 1)
        if on_progress:
            on_progress(done, report.total)
    return report


async def import_faqs(
    *, db: Database, team_id: str, path: Path | str, edited_by: str | None = None, on_progress: Progress | None = None
) -> ImportReport:
    async def upsert(**kw):
        return await faqs.upsert(db=db, team_id=team_id, edited_by=edited_by, **kw)

    return await _import(path, faq_fields, upsert, on_progress)


async def import_archives(
    *, db: Database, team_id: str, path: Path | str, on_progress: Progress | None = None
) -> ImportReport:
    async def upsert(**kw):
        return await archives.upsert(db=db, team_id=team_id, **kw)

    return await _import(path, archive_fields, upsert, on_progress)


def _plain(value: Any, *, csv_mode: bool) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "|".join(value) if csv_mode else list(value)
    if value is None:
        return "" if csv_mode else None
    return value


def write_rows(path: Path | str, columns: list[str], rows: list[dict[str, Any]]) -> int:
    path = Path(path)
    csv_mode = _fmt(path) == "csv"
    plain = [{c: _plain(r.get(c), csv_mode=csv_mode) for c in columns} for r in rows]
    if csv_mode:
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(plain)
    else:
        plain = [{k: v for k, v in r.items() if v not in (None, [], "")} for r in plain]
        path.write_text(yaml.safe_dump(plain, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    return len(rows)


async def export_faqs(*, db: Database, team_id: str, path: Path | str) -> int:
    rows = await faqs.list_all(db=db, team_id=team_id)
    return write_rows(path, FAQ_COLUMNS, [{c: getattr(f, c) for c in FAQ_COLUMNS} for f in rows])


async def export_archives(*, db: Database, team_id: str, path: Path | str) -> int:
    rows = await archives.list_all(db=db, team_id=team_id)
    return write_rows(path, ARCHIVE_COLUMNS, [{c: getattr(a, c) for c in ARCHIVE_COLUMNS} for a in rows])
