"""What `mlgit validate NAME...` means: a dataset of mlgit.yaml, or a path (with --schema)."""

from __future__ import annotations

import json

from tests.support import Project, drifting_table, write_parquet


def tracked(project: Project) -> Project:
    write_parquet(drifting_table(500), project.root / "data" / "train.parquet")
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


def test_a_file_of_a_directory_dataset_without_a_column(project: Project) -> None:
    import pyarrow as pa

    write_parquet(pa.table({"a": [1, 2], "b": [1, 1]}), project.root / "parts" / "1.parquet")
    write_parquet(pa.table({"a": [3, 4]}), project.root / "parts" / "2.parquet")
    project.write("s.yaml", "fields:\n  - {name: a, type: integer}\n  - {name: b, type: integer}\n")
    result = project.mlgit("validate", "parts", "--schema", "s.yaml")
    assert result.exit_code == 2
    assert "parts/2.parquet: has no column 'b' (its columns: a)" in result.stderr


def test_a_rewrite_that_keeps_size_and_mtime_is_not_served_from_the_cache(
    project: Project,
) -> None:
    import os

    project.write("s.yaml", "fields:\n  - {name: a, type: integer, constraints: {maximum: 5}}\n")
    data = project.write("c.csv", "a\n1\n2\n")
    assert project.mlgit("validate", "c.csv", "--schema", "s.yaml").exit_code == 0
    before = data.stat()
    data.write_text("a\n9\n2\n")  # same size, then the old mtime back (as cp -p, rsync -t do)
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert project.mlgit("validate", "c.csv", "--schema", "s.yaml").exit_code == 1
