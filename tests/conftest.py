"""Fixtures for tests that read like the user's day: real git, real DVC, the real CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mlgit.cli import cli

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test User",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test User",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "DVC_NO_ANALYTICS": "1",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test has a git identity, no DVC analytics, and its own HOME and cache."""
    home = tmp_path_factory.mktemp("home")
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    # As in an activated virtual environment: the dvc installed beside mlgit comes first.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def sh(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a real command (git, dvc, ...) in `cwd`."""
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def with_blocks(config: str, blocks: str) -> str:
    """mlgit.yaml text with the top-level keys of `blocks` replaced by them (a key given twice
    is an error, so appending `drift:` to the file `mlgit init` wrote would not do)."""
    for key in re.findall(r"^(\w+):", blocks, re.MULTILINE):
        config = re.sub(rf"^{key}:.*?(?=^\S|\Z)", "", config, flags=re.MULTILINE | re.DOTALL)
    return config + blocks


@dataclass
class Project:
    """A real repository in tmp_path with git, DVC, a local DVC remote and mlgit.yaml."""

    root: Path
    remote: Path

    def mlgit(self, *args: str) -> Result:
        """Run the real CLI in the project directory."""
        old = Path.cwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(cli, list(args), catch_exceptions=False)
        finally:
            os.chdir(old)

    def sh(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return sh(self.root, *args, check=check)

    def commit(self, message: str = "change") -> str:
        self.sh("git", "add", "-A")
        self.sh("git", "commit", "-q", "-m", message)
        return self.sh("git", "rev-parse", "HEAD").stdout.strip()

    def configure(self, blocks: str) -> None:
        """Set top-level blocks of mlgit.yaml (replacing those already there)."""
        config = self.root / "mlgit.yaml"
        config.write_text(with_blocks(config.read_text(), blocks), encoding="utf-8")

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """`mlgit init` in a fresh directory, a local DVC remote, and a first commit."""
    root = tmp_path / "repo"
    root.mkdir()
    remote = tmp_path / "dvc-remote"
    remote.mkdir()
    sh(root, "git", "init", "-q", "-b", "main")
    proj = Project(root=root, remote=remote)
    result = proj.mlgit("init")
    assert result.exit_code == 0, result.output
    proj.sh("dvc", "remote", "add", "-d", "local", str(remote))
    proj.commit("init")
    yield proj
