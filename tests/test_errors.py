"""The one error handler: user errors exit 2 in one line; bugs exit 3 with a logged traceback."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from mlgit.cli import cli
from mlgit.errors import MlgitError
from tests.support import run_cli


@pytest.fixture
def broken_commands():
    @cli.command("raise-user-error", hidden=True)
    def user_error() -> None:
        raise MlgitError("data.csv:3: bad value; fix it")

    @cli.command("raise-bug", hidden=True)
    def bug() -> None:
        raise RuntimeError("boom")

    yield
    cli.commands.pop("raise-user-error")
    cli.commands.pop("raise-bug")


def test_user_error_is_one_line_exit_2(broken_commands: None) -> None:
    result = run_cli(None, "raise-user-error")
    assert result.exit_code == 2
    assert result.stderr == "mlgit: error: data.csv:3: bad value; fix it\n"


def test_debug_shows_the_traceback(broken_commands: None) -> None:
    result = run_cli(None, "--debug", "raise-user-error")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_bug_is_logged_not_shown(broken_commands: None, tmp_path: Path) -> None:
    result = run_cli(None, "raise-bug", env={"XDG_CACHE_HOME": str(tmp_path)})
    assert result.exit_code == 3
    assert "this is a bug in mlgit" in result.stderr
    assert "Traceback" not in result.stderr
    log = tmp_path / "mlgit" / "mlgit.log"
    assert str(log) in result.stderr
    assert "RuntimeError: boom" in log.read_text()


def test_usage_error_exits_2() -> None:
    result = run_cli(None, "init", "--no-such-option")
    assert result.exit_code == 2
    assert isinstance(cli, click.Group)
