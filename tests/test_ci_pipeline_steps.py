"""What the generated pipelines call besides the user's commands: `mlgit ci check-tag` (CD's
guard), `mlgit ci changed-data` (CI's data pull), and generation from the built wheel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Project
from test_ci_generate import VARIANTS, make_repo
from test_registry import CONFIG, setup_model


def test_check_tag_accepts_a_gated_promotion_and_refuses_stale_and_hand_made_tags(
    project: Project,
) -> None:
    setup_model(project)
    assert project.mlgit("promote", "churn", "--to", "staging").exit_code == 0
    first = "churn#staging#1"
    ok = project.mlgit("ci", "check-tag", first)
    assert ok.exit_code == 0, ok.output
    lines = dict(line.split("=", 1) for line in ok.stdout.splitlines())
    assert lines["model"] == "churn" and lines["stage"] == "staging"
    assert lines["version"] == "v0.0.1" and len(lines["commit"]) == 40

    project.write("metrics.json", '{"roc_auc": 0.9, "slices": {}}')
    project.commit("retrain")
    assert project.mlgit("promote", "churn", "--to", "staging").exit_code == 0
    stale = project.mlgit("ci", "check-tag", first)
    assert stale.exit_code == 1
    assert "no longer holds staging" in stale.stderr

    project.sh("git", "tag", "-a", "-m", "by hand", "churn#prod#9")
    hand = project.mlgit("ci", "check-tag", "churn#prod#9")
    assert hand.exit_code == 1 and "no mlgit provenance" in hand.stderr
    allowed = project.mlgit("ci", "check-tag", "churn#prod#9", "--allow-unverified")
    assert allowed.exit_code == 0 and "stage=prod" in allowed.stdout

    unassign = project.mlgit("ci", "check-tag", "churn#staging!#5")
    assert unassign.exit_code == 2 and "not a stage assignment tag" in unassign.stderr


def test_check_tag_accepts_a_forced_promotion_with_its_reason(project: Project) -> None:
    setup_model(project, roc_auc=0.5)  # fails the roc_auc >= 0.80 gate
    forced = project.mlgit("promote", "churn", "--to", "staging", "--force", "--reason", "hotfix")
    assert forced.exit_code == 0, forced.output
    assert project.mlgit("ci", "check-tag", "churn#staging#1").exit_code == 0


def test_changed_data_lists_only_datasets_whose_dvc_hash_changed(project: Project) -> None:
    project.write("schemas/train.schema.yaml", "fields:\n  - {name: x, type: integer}\n")
    schema = "    path: data/train.csv\n    schema: schemas/train.schema.yaml\n"
    setup_model(project, CONFIG.replace("    path: data/train.csv\n", schema))
    base = project.sh("git", "rev-parse", "HEAD").stdout.strip()
    project.write("README.md", "docs only\n")
    project.commit("docs")
    assert project.mlgit("ci", "changed-data", base).stdout == ""
    project.write("data/train.csv", "x,y\n1,0\n2,1\n3,0\n")
    project.sh("dvc", "add", "-q", "data/train.csv")
    project.commit("more data")
    assert project.mlgit("ci", "changed-data", base).stdout == "data/train.csv\n"


def test_the_built_wheel_ships_the_templates_and_generates(tmp_path: Path) -> None:
    """Build the wheel, install it (no deps: this environment has them) into a directory that
    shadows the checkout, and generate with it from outside the checkout."""
    pytest.importorskip("hatchling")
    checkout = Path(__file__).resolve().parents[1]
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(checkout)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("mlgit-*.whl")
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    assert (target / "mlgit" / "ci-templates" / "gitlab" / "gitlab-ci.yml.j2").is_file()
    root = make_repo(tmp_path / "repo", VARIANTS["one_model"])
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import mlgit.ci.render as r; print(r.template_dir())"],
        cwd=root, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip() == str(target / "mlgit" / "ci-templates")
    proc = subprocess.run(
        [sys.executable, "-m", "mlgit", "ci", "generate", "--provider", "all"],
        cwd=root, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    golden = Path(__file__).parent / "golden" / "ci" / "gitlab" / "gitlab-ci.yml"
    assert (root / ".gitlab-ci.yml").read_text(encoding="utf-8") == golden.read_text("utf-8")
