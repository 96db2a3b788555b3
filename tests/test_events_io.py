"""`yakuba import events FILE` / `yakuba export events FILE`: YAML and CSV, a per-line report, idempotent, series."""

from __future__ import annotations

import pytest

from bot.cli.operations import export_file, import_file
from bot.config import OperatorError
from bot.texts import Texts
from storage import events as store
from storage.event_io import parse

# Far ahead, so what the CLI's own clock says (it is the operator's process) never matters.
CSV = """\
key,title,kind,starts_at,ends_at,capacity,deadline,audience,join_url,venue,hosts,description,fee,recurrence
lt-2099,MIRAI-HUB LT会,LT会,2099-01-09 19:00,2099-01-09 21:00,30,2099-01-08 23:59,pref:13,https://meet.example.jp/lt,,,5分で話そう,無料,
bad-one,飲み会,飲み会,2099-01-10 19:00,2099-01-10 18:00,0,,pref:99,ftp://x,,someone,,,
weekly-intro,説明会,説明会,2099-01-02 12:00,2099-01-02 12:45,,,all,,,,,,"{kind: weekly, weekdays: fri}"
"""


def _texts() -> Texts:
    return Texts("ja", markup=False)


async def test_import_reports_each_bad_line_saves_the_good_and_is_idempotent(settings, tmp_path, capsys, signed):
    await signed.yakuba.identify()
    db = signed.yakuba.deps.db
    path = tmp_path / "events.csv"
    path.write_text(CSV, encoding="utf-8")
    assert await import_file(settings, "events", path) == 1
    out = capsys.readouterr().out
    texts = _texts()
    for reason in (
        texts("events.import.errors.bad_kind", kind="飲み会"),
        texts("events.import.errors.end_before_start"),
        texts("events.import.errors.bad_capacity", value="0"),
        texts("events.import.errors.bad_audience", value="pref:99"),
        texts("events.import.errors.bad_url", field="join_url"),
        texts("events.import.errors.bad_host", host="someone"),
    ):
        assert texts("events.import.entry", line=3, name="bad-one", reason=reason) in out
    assert texts("events.import.summary", total=3, created=2, updated=0, unchanged=0, errors=1) in out
    rows = await store.every(db, team_id="T0LOCAL")
    series = [r for r in rows if r.series_key == "weekly-intro"]
    assert len(series) == 13 and series[0].key == "weekly-intro@2099-01-02"  # 91 days of Fridays
    lt = await store.by_key(db, team_id="T0LOCAL", key="lt-2099")
    assert lt.kind == "lt" and lt.capacity == 30 and lt.audience == "pref:13"
    assert lt.starts_at.isoformat() == "2099-01-09T10:00:00+00:00"  # JST in the file, UTC stored

    assert await import_file(settings, "events", path) == 1
    assert (
        texts("events.import.summary", total=3, created=0, updated=0, unchanged=2, errors=1) in capsys.readouterr().out
    )
    assert len(await store.every(db, team_id="T0LOCAL")) == len(rows)

    # Export, then import the export: nothing changes (YAML and CSV alike).
    for name in ("out.yaml", "out.csv"):
        target = tmp_path / name
        assert await export_file(settings, "events", target) == 0
        assert await import_file(settings, "events", target) == 0
        assert texts("events.import.summary", total=2, created=0, updated=0, unchanged=2, errors=0) in (
            capsys.readouterr().out
        )
    assert "https://meet.example.jp/lt" in (tmp_path / "out.yaml").read_text("utf-8")


async def test_a_file_that_cannot_be_read_is_one_operator_line(settings, tmp_path, signed):
    await signed.yakuba.identify()
    path = tmp_path / "broken.yaml"
    path.write_text("events:\n  - key: [unclosed\n", encoding="utf-8")
    with pytest.raises(OperatorError) as caught:
        await import_file(settings, "events", path)
    assert caught.value.key == "cli.import.bad_yaml"


def test_the_programmes_recurrence_words_are_checked_in_their_own_wording():
    found = parse(
        {
            "key": "x",
            "title": "x",
            "starts_at": "2099-01-02 12:00",
            "ends_at": "2099-01-02 13:00",
            "recurrence": {"kind": "biweekly", "weekdays": "fri"},
        }
    )
    assert isinstance(found, list) and [p.key for p in found] == ["programs.error.missing_anchor"]
