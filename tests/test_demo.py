"""`yakuba demo`: every journey, readable in Japanese, and the same transcript on every run and terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC
from pathlib import Path

from bot.local import render
from bot.texts import Texts

ROOT = Path(__file__).resolve().parent.parent
CLOCK = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
MRKDWN_BOLD = re.compile(r"(?<![*\w])\*[^*\s][^*\n]*\*(?![*\w])")
JA = Texts("ja")


def _demo(columns: int) -> subprocess.Popen[str]:
    # None of the machine's Slack, yakuba or database settings: the demo needs none and must not read them.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "YAKUBA_", "DATABASE_URL"))}
    env = {**base, "YAKUBA_LANG": "ja", "COLUMNS": str(columns), "LINES": "40"}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "demo"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_demo_tells_five_journeys_readably_and_the_same_way_every_time():
    # One test over two runs at once (one for a narrow terminal, one for a wide one): the demo is the slow part,
    # and separate tests would run it again on every worker.
    runs = [_demo(60), _demo(250)]
    transcripts = []
    for run in runs:
        out, err = run.communicate(timeout=240)
        assert run.returncode == 0, err[-2000:]
        assert "Traceback" not in out + err
        transcripts.append(out)
    _same_apart_from_clock_times(*transcripts)
    _journey_five(transcripts[0])
    _readable(transcripts[0])
    _forms(transcripts[0])


def _same_apart_from_clock_times(first: str, second: str) -> None:
    first, second = CLOCK.sub("HH:MM", first), CLOCK.sub("HH:MM", second)
    assert first.splitlines() == second.splitlines()
    assert len(first.splitlines()) > 300  # the whole story, not an early exit
    assert first.rstrip().endswith(render.mrkdwn(JA("demo.done")))  # mrkdwn rendered, code without backticks
    assert JA("onboarding.welcome.title", community="オンライン市役所") in first


def _journey_five(text: str) -> None:
    lines = text.splitlines()
    assert f"▶ {JA('demo.membership.transfer', name='田中 一郎')}" in lines
    assert any(JA("console.invited", channel="kenjinkai-27-osaka", people="@田中 一郎") in line for line in lines)
    # Leaving: narrated, and the organisers' member list still has her, with the day she left.
    assert f"▶ {JA('demo.membership.leave', name='山田 さくら')}" in lines
    left = [line for line in lines if "@山田 さくら" in line and "left_at: 2027-04-30" in line]
    assert left and "department: 市民課" in left[0]
    # The export's content, rendered: the file's name and a field of the member's profile.
    assert "📎 yakuba-mydata.json" in text
    assert any(line.strip() == "│     department: DX推進室" for line in lines)
    # Forget: what goes and what stays, the danger button, Slack's confirmation, then the answer.
    assert render.mrkdwn(JA("privacy.forget.confirm")).splitlines()[0] in text
    assert JA("demo.dialog.title", title=JA("privacy.forget.dialog_title")) in lines
    assert f"│ {JA('privacy.forget.dialog_text')}" in text
    assert JA("privacy.forget.done") in text
    # Afterwards the member list no longer has him: the last export lists the other two only.
    last_export = text.rsplit("📎 members-", 1)[1]
    assert "@山田 さくら" in last_export and "@田中 一郎" not in last_export


def _readable(text: str) -> None:
    for unwanted in (
        "{'",
        "[{",
        "#D0",
        "<@U",
        "<#C",
        "taken",
        "(only you)",
        "[modal]",
        "[home]",
        "(reply)",
        "file shared",
    ):
        assert unwanted not in text, unwanted
    assert not MRKDWN_BOLD.findall(text)
    assert "&lt;" not in text and "&gt;" not in text and "&amp;" not in text
    assert "`" not in text
    assert JA("console.only_you", name="田中 一郎") in text


def _forms(text: str) -> None:
    marker = JA("console.optional")
    assert f"✎ {JA('registration.modal.job_title')}{marker}" in text
    assert f"{marker}{marker}" not in text and "(任意/optional)" not in text
    assert f"⚠ {JA('registration.modal.department')}: {JA('registration.errors.required')}" in text


def test_mrkdwn_styles_become_terminal_styles():
    line = render.styled("*太字* と _斜体_ と `code` &lt;!here&gt; <https://example.jp|リンク> :tada:")
    assert line.plain == "太字 と 斜体 と code <!here> リンク (https://example.jp) 🎉"
    styles = {line.plain[span.start : span.end]: span.style for span in line.spans}
    assert styles == {"太字": "bold", "斜体": "italic", "code": "cyan"}


def test_shared_json_is_summarised_with_names_and_local_times():
    content = b'{"user_id": "U1", "profile": {"name": "A", "is_lead": false, "at": "2027-03-23T01:00:00+00:00"}}'
    lines = [str(line) for line in render.file_lines("x.json", content, {"U1": "田中"}, tz=UTC, texts=JA)]
    assert lines == [
        "📎 x.json",
        "  user_id: @田中",
        "  profile:",
        "    name: A",
        f"    is_lead: {JA('console.file.no')}",
        "    at: 2027-03-23 01:00",
    ]
