"""The `yakuba` command run two ways: in-process as a fresh process would run it, or as a real subprocess.

In-process spares each run the 3-4 s of CPU that a Python start importing the bot costs on the 2-core
machine; a subprocess is for what only a process of its own shows (a port held open, a shadowed driver on
PYTHONPATH, the traceback Python prints under --debug). tests/test_cli_errors.py checks that both print the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import traceback
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main


def _dotenv(cwd: Path, dotenv: dict[str, str] | None) -> None:
    if dotenv:
        # Tokens in .env, as many operators keep them (pydantic-settings reads it; nothing else does).
        (cwd / ".env").write_text("".join(f"{k}={v}\n" for k, v in dotenv.items()), encoding="utf-8")


async def in_process(
    args: list[str],
    *,
    cwd: Path,
    environ: dict[str, str],
    stdin: bytes | None = None,
    dotenv: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of `yakuba ARGS` with only `environ`, in `cwd`, reading `stdin`.

    It runs in a thread of its own: the command runs its own event loop (asyncio.run) while the test's loop
    keeps serving the fake Slack the command may talk to."""
    _dotenv(cwd, dotenv)
    return await asyncio.to_thread(_run, args, cwd, environ, stdin)


def _run(args: list[str], cwd: Path, environ: dict[str, str], stdin: bytes | None) -> tuple[int, str, str]:
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        os.environ.clear()
        os.environ.update(environ)
        os.chdir(cwd)
        # A bare root logger, as in a new process: the command's own logging set-up prints where it would.
        root.handlers[:] = []
        root.setLevel(logging.WARNING)
        result = CliRunner().invoke(main, args, input=stdin, catch_exceptions=True)
        err = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            err += "".join(traceback.format_exception(result.exception))  # what Python prints for it
        return result.exit_code, result.stdout, err
    finally:
        for handler in root.handlers:
            with contextlib.suppress(Exception):
                handler.close()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


async def subprocess(
    args: list[str],
    *,
    cwd: Path,
    environ: dict[str, str],
    stdin: bytes | None = None,
    dotenv: dict[str, str] | None = None,
    timeout: float = 120,
) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of `python -m bot ARGS` in a process of its own."""
    _dotenv(cwd, dotenv)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=environ,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    return process.returncode or 0, out.decode(), err.decode()
