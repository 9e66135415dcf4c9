"""`mlgit init`, `mlgit --help`, `--version`."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from mlgit import __version__
from mlgit.cli import cli
from tests.support import run_cli, sh


def test_help_lists_the_commands_that_exist() -> None:
    result = run_cli(None, "--help")
    assert result.exit_code == 0
    expected = [
        "init",
        "check-config",
        "track",
        "schema",
        "validate",
        "profile",
        "drift",
        "monitor",
        "evaluate",
        "gate",
        "register",
        "promote",
        "rollback",
        "deprecate",
        "unassign",
        "registry",
        "reproduce",
        "report",
        "ci",
        "check-large-files",
        "doctor",
        "demo",
    ]
    listed = re.findall(r"^  (\S+)\s", result.output.split("Commands:")[1], re.MULTILINE)
    assert listed == expected  # in the order of the user's day
    assert sorted(cli.commands) == sorted(expected)  # nothing that DESIGN.md does not promise


def test_version() -> None:
    result = run_cli(None, "--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_init_in_empty_directory(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".git").is_dir()
    assert (tmp_path / ".dvc").is_dir()
    config = yaml.safe_load((tmp_path / "mlgit.yaml").read_text())
    assert config["version"] == 1
    assert config["datasets"] == {} and config["models"] == {}
    assert config["stages"] == ["staging", "prod"]
    assert "ci" in config
    hooks = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())
    local = hooks["repos"][0]
    assert local["repo"] == "local"
    assert local["hooks"][0]["entry"] == "mlgit check-config"
    assert local["hooks"][0]["language"] == "system"
    staged = sh(tmp_path, "git", "diff", "--cached", "--name-only").stdout.split()
    assert "mlgit.yaml" in staged and ".pre-commit-config.yaml" in staged
    assert "mlgit track" in result.output  # tells the next command


def test_init_in_existing_repo_keeps_its_files(tmp_path: Path) -> None:
    sh(tmp_path, "git", "init", "-q")
    (tmp_path / "README.md").write_text("mine\n")
    sh(tmp_path, "git", "add", "README.md")
    sh(tmp_path, "git", "commit", "-q", "-m", "first")
    result = run_cli(tmp_path, "init")
    assert result.exit_code == 0, result.output
    assert "kept     git repository" in result.output
    assert (tmp_path / "README.md").read_text() == "mine\n"
    assert sh(tmp_path, "git", "log", "--oneline").stdout.count("\n") == 1


def test_init_twice_changes_nothing(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init").exit_code == 0
    (tmp_path / "mlgit.yaml").write_text("version: 1\n# edited\n")
    before = {
        p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and ".git/" not in str(p)
    }
    result = run_cli(tmp_path, "init")
    assert result.exit_code == 0
    assert "nothing to do" in result.output
    after = {
        p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and ".git/" not in str(p)
    }
    assert before == after


def test_init_force_rewrites_config(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "init").exit_code == 0
    (tmp_path / "mlgit.yaml").write_text("version: 1\n")
    result = run_cli(tmp_path, "init", "--force", "--ci", "github,gitlab")
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "mlgit.yaml").read_text())
    assert config["ci"]["providers"] == ["github", "gitlab"]


def test_init_bad_provider(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init", "--ci", "jenkins")
    assert result.exit_code == 2
    assert "--ci" in result.stderr
    assert not (tmp_path / "mlgit.yaml").exists()


def test_init_in_unwritable_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    immutable = False
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions, not the immutable flag
            immutable = (
                shutil.which("chattr") is not None
                and sh(tmp_path, "chattr", "+i", str(locked), check=False).returncode == 0
            )
            if not immutable:
                pytest.skip("running as root without chattr: nothing stops writes")
        result = run_cli(locked, "init")
        assert result.exit_code == 2
        assert "not writable" in result.stderr
        assert list(locked.iterdir()) == []
    finally:
        if immutable:
            sh(tmp_path, "chattr", "-i", str(locked))
        locked.chmod(0o755)


def test_init_on_a_file_is_an_error(tmp_path: Path) -> None:
    from mlgit.commands.init import init
    from mlgit.errors import MlgitError

    target = tmp_path / "a-file"
    target.write_text("")
    try:
        init(target, False, ("github",))
    except MlgitError as exc:
        assert "not a directory" in str(exc)
    else:
        raise AssertionError("init on a file must fail")


def test_git_missing_on_path(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    work = tmp_path / "w"
    work.mkdir()
    result = run_cli(work, "init", env={"PATH": str(empty)})
    assert result.exit_code == 2
    assert "git was not found on PATH" in result.stderr
    assert list(work.iterdir()) == []


def test_dvc_missing_on_path(tmp_path: Path) -> None:
    only_git = tmp_path / "bin"
    only_git.mkdir()
    git = sh(tmp_path, "which", "git").stdout.strip()
    (only_git / "git").symlink_to(git)
    work = tmp_path / "w"
    work.mkdir()
    result = run_cli(work, "init", env={"PATH": str(only_git)})
    assert result.exit_code == 2
    assert "dvc was not found on PATH" in result.stderr
    assert list(work.iterdir()) == []
