"""Why an import file cannot be read at all (not a row of it): a catalogue key and where, for the CLI to say."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import yaml


class FileProblem(ValueError):
    """The whole file is refused. `key` names a text (`cli.import.*`); `params` say where (line, column)."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def yaml_problem(exc: yaml.YAMLError) -> FileProblem:
    """Broken YAML: the line and column PyYAML points at (1-based), never its English wording.

    A quote or bracket left open is found only at the end of the file; where it was opened says more.
    """
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    problem = str(getattr(exc, "problem", "") or "")
    if context is not None and (mark is None or "stream end" in problem or "end of stream" in problem):
        mark = context
    if mark is None:
        return FileProblem("cli.import.bad_yaml", line="?", column="?")
    return FileProblem("cli.import.bad_yaml", line=mark.line + 1, column=mark.column + 1)


def bad_shape() -> FileProblem:
    return FileProblem("cli.import.bad_shape")


def csv_records(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line, row) of each CSV record; strict, so an unclosed quote is refused at the line it opens."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    try:
        _ = reader.fieldnames  # reads the header row, so line numbers below count it
    except csv.Error:
        raise FileProblem("cli.import.bad_csv", line=1) from None
    while True:
        # A record may span lines (a quoted newline): it starts one line after the previous one ended.
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise FileProblem("cli.import.bad_csv", line=start) from None
        yield start, row
