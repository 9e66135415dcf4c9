"""Fixtures for tests that read like the user's day: real git, real DVC, the real CLI.
What tests share besides fixtures lives in tests/support.py."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.support import IDENTITY, Project, Templates, Workdir, setup_model


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


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory)


@pytest.fixture
def project(tmp_path: Path, templates: Templates) -> Project:
    """`mlgit init` in a fresh directory, a local DVC remote, and a first commit (a copy of a
    repository built once per session)."""
    return templates.project(tmp_path)


@pytest.fixture
def config_dir(tmp_path: Path, templates: Templates) -> Workdir:
    """A directory with the mlgit.yaml `mlgit init` writes and no git or DVC: for tests that
    only parse configuration."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(templates.base() / "mlgit.yaml", root / "mlgit.yaml")
    return Workdir(root=root)


@pytest.fixture
def churn(tmp_path: Path, templates: Templates) -> Project:
    """A trained model (`setup_model`) on a fresh project, built once per session and copied."""
    return templates.derived("churn", setup_model, tmp_path)
