"""`mlgit reproduce`: a registered version rebuilt in a temporary worktree (dvc pull, dvc repro)
and its metrics compared with its tag's provenance; the verdict is a git note that
`mlgit registry --history` shows. Real git, DVC and a real pipeline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support import Project, Templates, conforms, json_output

CONFIG = """\
version: 1
datasets:
  train:
    path: data/train.csv
models:
  churn:
    path: models/churn.pkl
    metrics: metrics.json
    dataset: train
    gates:
      - {metric: roc_auc, min: 0.1}
stages: [staging, prod]
"""

TRAIN = """\
import json, pathlib
rows = pathlib.Path("data/train.csv").read_text().split()[1:]
ys = [int(r.split(",")[1]) for r in rows]
pathlib.Path("models").mkdir(exist_ok=True)
pathlib.Path("models/churn.pkl").write_text("model " + str(sum(ys)))
metrics = {"roc_auc": round(sum(ys) / len(ys) + 1 / 3, 9), "rows": len(ys), "task": "demo"}
pathlib.Path("metrics.json").write_text(json.dumps(metrics))
"""

NOISY = TRAIN.replace("+ 1 / 3", "+ __import__('random').random() / 100")

PIPELINE = """\
stages:
  train:
    cmd: python train.py
    deps: [data/train.csv, train.py]
    outs: [models/churn.pkl]
    metrics:
      - metrics.json:
          cache: false
"""


def build(project: Project) -> None:
    """A project whose pipeline trains `churn`; v1.0.0 registered with provenance."""
    project.write("mlgit.yaml", CONFIG)
    project.write("data/train.csv", "x,y\n1,0\n2,1\n3,1\n")
    project.write("train.py", TRAIN)
    project.write("dvc.yaml", PIPELINE)
    project.sh("dvc", "add", "-q", "data/train.csv")
    project.sh("dvc", "repro", "-q")
    project.commit("train churn")
    project.sh("dvc", "push", "-q")
    result = project.mlgit("register", "churn", "--version", "v1.0.0")
    assert result.exit_code == 0, result.output


@pytest.fixture
def trained(tmp_path: Path, templates: Templates) -> Project:
    return templates.derived("reproduce-pipeline", build, tmp_path)


def note_of(project: Project, rev: str) -> dict:
    text = project.sh("git", "notes", "--ref=mlgit", "show", f"{rev}^{{commit}}").stdout
    return json.loads(text)


def test_a_version_is_reproduced_and_the_note_is_in_the_history(trained: Project) -> None:
    tags_before = trained.sh("git", "for-each-ref", "refs/tags").stdout
    result = trained.mlgit("reproduce", "churn@v1.0.0", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json_output(result.output, "reproduce-result.schema.json")
    assert data["reproduced"] is True and data["differing"] == []
    assert {m["metric"] for m in data["metrics"]} == {"roc_auc", "rows", "task"}
    packages = {"python", "dvc", "pandas", "scikit-learn", "numpy", "mlgit"}
    assert packages <= set(data["environment"])
    note = note_of(trained, "churn@v1.0.0")
    assert note["reproduce"]["churn@v1.0.0"]["reproduced"] is True
    assert trained.sh("git", "for-each-ref", "refs/tags").stdout == tags_before  # no tag rewritten
    assert trained.sh("git", "worktree", "list").stdout.count("\n") == 1  # temporary one gone

    history = trained.mlgit("registry", "churn", "--history", "--format", "json")
    assert history.exit_code == 0, history.output
    versions = json_output(history.output, "registry-result.schema.json")["models"]["churn"]
    assert versions["versions"][0]["reproduction"]["reproduced"] is True
    text = trained.mlgit("registry", "--history")
    assert "Reproductions" in text.output and "reproduced" in text.output


def test_by_stage_and_text(trained: Project) -> None:
    assert trained.mlgit("promote", "churn", "--to", "staging").exit_code == 0
    result = trained.mlgit("reproduce", "churn#staging")
    assert result.exit_code == 0, result.output
    assert "reproduced" in result.output and "v1.0.0" in result.output
    assert trained.mlgit("reproduce", "churn", "--stage", "staging").exit_code == 0
    empty = trained.mlgit("reproduce", "churn", "--stage", "prod")
    assert empty.exit_code == 2 and "no version is in prod" in empty.output


def test_nondeterministic_training_is_not_reproduced_unless_tolerated(trained: Project) -> None:
    trained.write("train.py", NOISY)
    trained.sh("dvc", "repro", "-q")
    trained.commit("noisy training")
    trained.sh("dvc", "push", "-q")
    assert trained.mlgit("register", "churn", "--version", "v1.1.0").exit_code == 0
    result = trained.mlgit("reproduce", "churn@v1.1.0", "--format", "json")
    assert result.exit_code == 1, result.output
    data = conforms(json.loads(result.output), "reproduce-result.schema.json")
    assert data["reproduced"] is False and data["differing"] == ["roc_auc"]
    assert note_of(trained, "churn@v1.1.0")["reproduce"]["churn@v1.1.0"]["reproduced"] is False
    history = trained.mlgit("registry", "--history")
    assert "not reproduced" in history.output and "roc_auc" in history.output

    # a per-metric tolerance in mlgit.yaml accepts the noise; --tolerance does too
    tolerant = "    dataset: train\n    reproduce: {tolerance: {roc_auc: 0.02}}\n"
    trained.write("mlgit.yaml", CONFIG.replace("    dataset: train\n", tolerant))
    assert trained.mlgit("reproduce", "churn@v1.1.0").exit_code == 0
    trained.write("mlgit.yaml", CONFIG)
    assert trained.mlgit("reproduce", "churn@v1.1.0", "--tolerance", "0.02").exit_code == 0


def test_a_tiny_tolerance_fails_a_deterministic_rebuild_only_when_it_differs(
    trained: Project,
) -> None:
    assert trained.mlgit("reproduce", "churn@v1.0.0", "--tolerance", "0").exit_code == 0
    bad = trained.mlgit("reproduce", "churn@v1.0.0", "--tolerance", "-1")
    assert bad.exit_code == 2 and "--tolerance" in bad.output


def test_a_tag_without_provenance_cannot_be_compared(trained: Project) -> None:
    trained.sh("git", "tag", "-a", "churn@v2.0.0", "-m", "made by hand")
    result = trained.mlgit("reproduce", "churn@v2.0.0")
    assert result.exit_code == 2, result.output
    assert "no provenance" in result.output and "nothing to compare" in result.output
    assert trained.sh("git", "notes", "--ref=mlgit", "list").stdout == ""


def test_unknown_versions_and_names(trained: Project) -> None:
    missing = trained.mlgit("reproduce", "churn@v9.9.9")
    assert missing.exit_code == 2 and "v1.0.0" in missing.output
    assert trained.mlgit("reproduce", "churn@1.0").exit_code == 2
    both = trained.mlgit("reproduce", "churn@v1.0.0", "--stage", "prod")
    assert both.exit_code == 2 and "--stage" in both.output
    stage = trained.mlgit("reproduce", "churn#prdo")
    assert stage.exit_code == 2 and "prod" in stage.output


def test_data_in_no_remote_is_named(trained: Project) -> None:
    trained.write("data/train.csv", "x,y\n1,1\n2,1\n3,1\n4,0\n")
    trained.sh("dvc", "add", "-q", "data/train.csv")
    trained.sh("dvc", "repro", "-q")
    trained.commit("new data, never pushed")
    trained.sh("dvc", "push", "-q", "train")  # the model only: register checks it
    assert trained.mlgit("register", "churn", "--version", "v1.2.0").exit_code == 0
    shutil.rmtree(trained.root / ".dvc" / "cache")
    result = trained.mlgit("reproduce", "churn@v1.2.0")
    assert result.exit_code == 2, result.output
    assert "data/train.csv" in result.output and "no DVC remote" in result.output


def test_the_dirty_worktree_stays_as_it_was(trained: Project) -> None:
    trained.write("train.py", "# work in progress\n")
    trained.write("scratch.txt", "untracked")
    status = trained.sh("git", "status", "--porcelain").stdout
    metrics = (trained.root / "metrics.json").read_text()
    result = trained.mlgit("reproduce", "churn@v1.0.0")
    assert result.exit_code == 0, result.output
    assert trained.sh("git", "status", "--porcelain").stdout == status
    assert (trained.root / "train.py").read_text() == "# work in progress\n"
    assert (trained.root / "metrics.json").read_text() == metrics
