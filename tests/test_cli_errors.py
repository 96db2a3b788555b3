"""Every operator mistake is one line in YAKUBA_LANG with exit status 2 (configuration) or 1 (run time).

Each case runs the `yakuba` command in an empty folder (no .env of the project), with only the environment
the case needs; the lines it must print are taken from the text catalogue. Most cases run the command
in-process (a fresh environment, folder and root logger, as a new process would have), which
spares each case the 3-4 s of CPU a Python start importing the bot costs; the cases that need a process of
their own (a port held open, a shadowed driver on PYTHONPATH, the traceback Python prints under --debug) run
`python -m bot` in a process of their own, and one case proves the in-process runner shows what a terminal shows
(tests/cli_flow.py has both runners).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from bot.cli.operations import EXPORTERS, IMPORTERS
from bot.config import DATABASE_DRIVERS
from bot.texts import Texts
from tests import cli_flow
from tests.conftest import TOKEN
from tests.fake_slack import FakeSlack

JA, EN = Texts("ja"), Texts("en")


async def yakuba(cwd: Path, *args: str, dotenv: dict[str, str] | None = None, **env: str) -> tuple[int, str]:
    """Exit status and everything printed (stdout then stderr) by `yakuba ARGS`, run in-process."""
    code, out, err = await cli_flow.in_process(list(args), cwd=cwd, environ=_environment(env), dotenv=dotenv)
    return code, out + err


async def in_a_process(cwd: Path, *args: str, dotenv: dict[str, str] | None = None, **env: str) -> tuple[int, str]:
    """The same from `python -m bot ARGS` in a process of its own."""
    code, out, err = await cli_flow.subprocess(list(args), cwd=cwd, environ=_environment(env), dotenv=dotenv)
    return code, out + err


def _environment(env: dict[str, str]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **env}


def one_line(output: str, expected: str) -> None:
    """One or two lines, the catalogue's text among them, no traceback."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, output
    assert expected in lines, output
    assert "Traceback" not in output


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- missing variables: all of them, in one line, for every command that needs them -----------------
@pytest.mark.parametrize(
    ("args", "env", "missing"),
    [
        (["serve"], {}, "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET"),
        (["serve"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        (["socket"], {}, "SLACK_BOT_TOKEN, SLACK_APP_TOKEN"),
        (["setup", "prefectures"], {}, "SLACK_BOT_TOKEN"),
        (["members", "sync"], {}, "SLACK_BOT_TOKEN"),
        (["jobs", "run", "maintenance"], {}, "SLACK_BOT_TOKEN"),
    ],
)
async def test_missing_variables_are_named_together(tmp_path, args, env, missing):
    code, output = await yakuba(tmp_path, *args, **env)
    assert code == 2
    one_line(output, JA("cli.config.missing", names=missing))
    assert not (tmp_path / "yakuba.db").exists()  # refused before anything started


async def test_import_without_token_into_an_empty_database_asks_for_the_token(tmp_path):
    source = tmp_path / "sections.yaml"
    source.write_text("- {name: ライティング課, kind: skill}\n", encoding="utf-8")
    code, output = await yakuba(tmp_path, "import", "sections", str(source))
    assert code == 2
    assert JA("sections.import.no_token") in output  # the offline warning, then the reason it cannot go on
    one_line(output, JA("sections.import.unknown_team"))


async def test_the_line_is_in_english_under_yakuba_lang_en(tmp_path):
    code, output = await yakuba(tmp_path, "socket", YAKUBA_LANG="en", SLACK_BOT_TOKEN="xoxb-1")
    assert code == 2
    one_line(output, EN("cli.config.missing", names="SLACK_APP_TOKEN"))


# --- invalid settings -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "value"), [("YAKUBA_LANG", "fr"), ("YAKUBA_TZ", "Mars/Base"), ("PORT", "abc"), ("PORT", "70000")]
)
async def test_invalid_settings_are_one_line(tmp_path, name, value):
    code, output = await yakuba(tmp_path, "db", "upgrade", **{name: value})
    assert code == 2
    # YAKUBA_LANG=fr is not a language we speak: the line is in the default, Japanese.
    one_line(output, JA(f"cli.config.invalid.{name.lower()}", name=name, value=value))


async def test_other_invalid_values_are_named_without_their_value(tmp_path):
    code, output = await yakuba(tmp_path, "db", "upgrade", YAKUBA_REAPPROVE_ON="sometimes")
    assert code == 2
    one_line(output, JA("cli.config.invalid.other", name="YAKUBA_REAPPROVE_ON"))
    assert "sometimes" not in output


async def test_a_channel_pattern_that_cannot_name_47_channels(tmp_path):
    code, output = await yakuba(
        tmp_path, "setup", "prefectures", SLACK_BOT_TOKEN="xoxb-1", YAKUBA_PREFECTURE_CHANNEL_PATTERN="kenjinkai"
    )
    assert code == 2
    one_line(output, JA("cli.config.invalid.yakuba_prefecture_channel_pattern", value="kenjinkai"))


# --- the database ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "key", "params"),
    [
        ("mysql://yakuba:pw@127.0.0.1/yakuba", "cli.database.unsupported", {"scheme": "mysql"}),
        ("postgresql://yakuba:pw@127.0.0.1/yakuba", "cli.database.unsupported", {"scheme": "postgresql"}),
        ("sqlite:///yakuba.db", "cli.database.unsupported", {"scheme": "sqlite"}),
        ("not a url", "cli.database.bad_url", {}),
    ],
)
async def test_unsupported_database_urls(tmp_path, url, key, params):
    code, output = await yakuba(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert code == 2
    one_line(output, JA(key, **params))
    assert "pw" not in output


async def test_a_missing_driver_names_the_extra_to_install(tmp_path):
    # The driver is installed here: a package of its name that fails to import stands in for its absence.
    shadow = tmp_path / "shadow" / "asyncpg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('not installed')\n", encoding="utf-8")
    code, output = await in_a_process(
        tmp_path, "db", "upgrade", DATABASE_URL="postgresql+asyncpg://yakuba:pw@127.0.0.1/yakuba",
        PYTHONPATH=str(shadow.parent),
    )  # fmt: skip
    assert code == 2
    spec = DATABASE_DRIVERS[("postgresql", "asyncpg")]
    one_line(output, JA("cli.database.driver_missing", driver="asyncpg", spec=spec))
    assert "pip install -e '.[postgres]'" in output


async def test_a_refusing_database_is_a_run_time_failure(tmp_path):
    port = closed_port()
    code, output = await yakuba(
        tmp_path, "db", "upgrade", DATABASE_URL=f"postgresql+asyncpg://yakuba:secret@127.0.0.1:{port}/yakuba"
    )
    assert code == 1
    one_line(output, JA("cli.database.unreachable", where=f"postgresql+asyncpg://yakuba:***@127.0.0.1:{port}/yakuba"))
    assert "secret" not in output


async def test_a_sqlite_file_in_a_missing_folder(tmp_path):
    folder = tmp_path / "no" / "such"
    code, output = await yakuba(tmp_path, "jobs", "list", DATABASE_URL=f"sqlite+aiosqlite:///{folder}/yakuba.db")
    assert code == 1
    one_line(output, JA("cli.database.no_folder", folder=str(folder)))


# --- serve: a port in use -------------------------------------------------------------------------
async def test_a_port_in_use_stops_serve_before_anything_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = await in_a_process(
            tmp_path, "serve", SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", PORT=str(port),
            SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/",
        )  # fmt: skip
    assert code == 1
    one_line(output, JA("cli.server.port_in_use", port=port))
    assert not (tmp_path / "yakuba.db").exists()  # no migration ran


# --- a token Slack refuses ------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["jobs", "run", "maintenance"], ["setup", "prefectures"], ["members", "sync"]])
async def test_a_token_slack_refuses_is_named(tmp_path, slack: FakeSlack, args):
    env = {"SLACK_BOT_TOKEN": "xoxb-revoked", "SLACK_API_URL": slack.base_url}
    code, output = await yakuba(tmp_path, *args, dotenv=env)
    assert code == 2
    one_line(output, JA("cli.slack.invalid_auth", variable="SLACK_BOT_TOKEN", error="invalid_auth"))


async def test_a_deactivated_workspace_is_named(tmp_path, slack: FakeSlack):
    slack.error("auth.test", "account_inactive", times=None)
    code, output = await yakuba(
        tmp_path, "jobs", "run", "maintenance", dotenv={"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.base_url}
    )
    assert code == 2
    one_line(output, JA("cli.slack.invalid_auth", variable="SLACK_BOT_TOKEN", error="account_inactive"))


async def test_an_unknown_job_is_named(tmp_path, slack: FakeSlack):
    code, output = await yakuba(
        tmp_path, "jobs", "run", "nosuch", dotenv={"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.base_url}
    )
    assert code == 2
    one_line(output, JA("cli.jobs.unknown", name="nosuch"))


async def test_a_bad_time_for_a_job(tmp_path):
    code, output = await yakuba(tmp_path, "jobs", "run", "maintenance", "--at", "tomorrow")
    assert code == 2
    one_line(output, JA("cli.jobs.bad_time", value="tomorrow"))


# --- import files ---------------------------------------------------------------------------------
BROKEN = [
    ("faqs", "faqs.yaml", "- question: 予約は？\n  answer: [未完\n", "cli.import.bad_yaml", {"line": 2, "column": 11}),
    ("faqs", "faqs.csv", 'question,answer\n予約は？,"閉じていない\n', "cli.import.bad_csv", {"line": 2}),
    ("faqs", "faqs.yaml", "question: 予約は？\nanswer: マイページから\n", "cli.import.bad_shape", {}),
    ("faqs", "faqs.txt", "予約は？", "cli.import.file_type", {"suffix": ".txt"}),
    ("sections", "sections.yaml", "sections: 42\n", "cli.import.bad_shape", {}),
    ("programs", "programs.yaml", "programs:\n  - title: [unclosed\n", "cli.import.bad_yaml", dict(line=2, column=12)),
    ("sections", "sections.yaml", "- name: 課\n  kind: a\n kind: b\n", "cli.import.bad_yaml", dict(line=3, column=2)),
]


@pytest.mark.parametrize(("kind", "name", "content", "key", "params"), BROKEN)
async def test_a_file_that_cannot_be_read_names_file_and_line(tmp_path, slack: FakeSlack, kind, name, content, key,
                                                              params):  # fmt: skip
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    online = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.base_url}
    code, output = await yakuba(tmp_path, "import", kind, str(path), dotenv=online)
    assert code == 1
    one_line(output, JA(key, file=str(path), **params))


async def test_a_missing_or_undecodable_file(tmp_path, slack: FakeSlack):
    missing = tmp_path / "nothing.yaml"
    code, output = await yakuba(tmp_path, "import", "faqs", str(missing))
    assert code == 1
    one_line(output, JA("cli.import.missing", file=str(missing)))
    legacy = tmp_path / "faqs.csv"
    legacy.write_bytes("question,answer\n予約は？,マイページから\n".encode("shift_jis"))
    online = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.base_url}
    code, output = await yakuba(tmp_path, "import", "faqs", str(legacy), dotenv=online)
    assert code == 1
    one_line(output, JA("cli.import.not_utf8", file=str(legacy)))


async def test_unknown_kinds_are_usage_errors(tmp_path):
    code, output = await yakuba(tmp_path, "import", "people", "x.yaml")
    assert code == 2
    one_line(output, JA("cli.import.unknown_kind", kind="people", kinds=", ".join(IMPORTERS)))
    code, output = await yakuba(tmp_path, "export", "people", "x.yaml")
    assert code == 2
    one_line(output, JA("cli.export.unknown_kind", kind="people", kinds=", ".join(EXPORTERS)))
    code, output = await yakuba(tmp_path, "export", "faqs", str(tmp_path / "no" / "faqs.yaml"))
    assert code == 1
    one_line(output, JA("cli.export.unwritable", file=str(tmp_path / "no" / "faqs.yaml")))


async def test_row_reasons_are_in_japanese(tmp_path, slack: FakeSlack):
    path = tmp_path / "faqs.yaml"
    path.write_text(
        "- question: 予約は？\n  answer: マイページから\n  updated_on: 2021-13-45\n"
        "- question: 保管温度は？\n  answer: ''\n"
        "- question: 出典は？\n  answer: こちら\n  source_url: example.jp\n",
        encoding="utf-8",
    )
    online = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.base_url}
    code, output = await yakuba(tmp_path, "import", "faqs", str(path), dotenv=online)
    assert code == 1
    for line, reason in (
        (1, JA("faq.import.errors.bad_date", field="updated_on", value="2021-13-45")),
        (4, JA("faq.import.errors.empty", field="answer")),
        (6, JA("faq.import.errors.bad_url", field="source_url", value="example.jp")),
    ):
        assert JA("faq.import.entry", line=line, reason=reason) in output, output
    assert "not a" not in output and "Traceback" not in output


# --- --debug --------------------------------------------------------------------------------------
async def test_debug_shows_the_traceback(tmp_path):
    code, output = await in_a_process(tmp_path, "--debug", "serve")
    assert code != 0
    assert "Traceback" in output and "ConfigError" in output


async def test_the_in_process_runner_prints_what_a_process_prints(tmp_path):
    # The two runners must agree, or the in-process cases would prove less than they say.
    for args, env in (
        (["socket"], {"YAKUBA_LANG": "en", "SLACK_BOT_TOKEN": "xoxb-1"}),
        (["jobs", "run", "x", "--at", "?"], {}),
    ):
        assert await yakuba(tmp_path, *args, **env) == await in_a_process(tmp_path, *args, **env)
