"""Busy CI: twenty registry commands at once in one repository. Each either succeeds or is
refused for a real reason (never DVC's lock, never a bug), no tag is duplicated, and `gto show`
reads the same registry as `mlgit registry` afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import Project

GTO = str(Path(sys.executable).parent / "gto")


def test_twenty_concurrent_promotions_and_registrations(churn: Project) -> None:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    commands = [["promote", "churn", "--to", "staging"]] * 10 + [
        ["register", "churn", "--bump", "patch"]
    ] * 10
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mlgit", *args],
            cwd=churn.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    outcomes = [(p.wait(timeout=600), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    for code, stderr in outcomes:
        assert code in (0, 1, 2), stderr
        assert "lock" not in stderr.lower() and "bug" not in stderr, stderr
        if code:
            assert stderr.startswith("mlgit: error: ") or "refused" in stderr, stderr
    assert any(code == 0 for code, _ in outcomes)
    tags = churn.sh("git", "tag", "-l").stdout.split()
    stage_tags = [t for t in tags if t.startswith("churn#staging#")]
    numbers = [t.rsplit("#", 1)[1] for t in stage_tags]
    assert len(numbers) == len(set(numbers))  # no N twice
    versions = [t for t in tags if t.startswith("churn@v")]
    assert len(versions) == 1  # one commit, one version, however many asked
    shown = json.loads(churn.sh(GTO, "show", "--json").stdout)
    result = churn.mlgit("registry", "--format", "json")
    mine = json.loads(result.stdout)
    model = mine["models"]["churn"]
    assert shown["churn"]["version"] == model["latest"]
    assert shown["churn"]["stage"]["staging"] == model["stages"]["staging"]
