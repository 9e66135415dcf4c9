"""`mlgit demo`: the README's first command, end to end, as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import sh


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlgit", "demo", *args], capture_output=True, text=True, check=False
    )


def test_demo_runs_the_users_day_in_a_fresh_repository(tmp_path: Path) -> None:
    project = tmp_path / "churn"
    proc = run_demo(str(project))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "done: explore" in proc.stdout

    # the registry it built is real: annotated GTO tags with provenance on the commit
    tags = sh(project, "git", "tag", "-l").stdout.split()
    assert "churn@v0.0.1" in tags
    assert {t.rsplit("#", 1)[0] for t in tags if "#" in t} == {"churn#staging", "churn#prod"}
    assert sh(project, "git", "cat-file", "-t", "churn@v0.0.1").stdout.strip() == "tag"
    registry = json.loads(
        sh(project, sys.executable, "-m", "mlgit", "registry", "--format", "json").stdout
    )
    assert "churn" in json.dumps(registry)

    # data and model are versioned by DVC and pushed; nothing left dirty
    assert sh(project, "dvc", "status", "--cloud", "--json").stdout.strip() in ("{}", "")
    assert sh(project, "git", "status", "--porcelain", "--untracked-files=no").stdout == ""
    metrics = json.loads((project / "metrics.json").read_text())
    assert 0.5 < metrics["roc_auc"] <= 1.0
    assert sorted(p.name for p in (project / "plots").glob("*.png"))  # drift plots written


def test_demo_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine\n")
    proc = run_demo(str(tmp_path))
    assert proc.returncode == 2
    assert "not empty" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
