"""What `mlgit validate NAME...` means: a dataset of mlgit.yaml, or a path (with --schema)."""

from __future__ import annotations

import json

from tests.conftest import Project
from tests.test_drift import table
from tests.test_profile import write


def tracked(project: Project) -> Project:
    write(table(500), project.root / "data" / "train.parquet")
    assert project.mlgit("track", "data/train.parquet").exit_code == 0
    return project


def test_a_misspelt_dataset_gets_a_did_you_mean(project: Project) -> None:
    result = tracked(project).mlgit("validate", "trian")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "mlgit: error: trian: no such dataset in mlgit.yaml (datasets: train) and no such file "
        "or directory; did you mean 'train'?"
    )


def test_a_dataset_named_twice_is_validated_once(project: Project) -> None:
    result = tracked(project).mlgit("validate", "train", "train", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [d["dataset"] for d in json.loads(result.output)["datasets"]] == ["train"]
