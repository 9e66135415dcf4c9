"""`mlgit track`: dvc add + register + inferred schema, staged; bad inputs change nothing."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from mlgit.data.schema import load_schema
from tests.support import Project


def table() -> pa.Table:
    return pa.table({"id": [1, 2, 3], "label": ["yes", "no", "yes"], "x": [0.5, None, 1.5]})


def staged(project: Project) -> set[str]:
    return set(project.sh("git", "diff", "--cached", "--name-only").stdout.split())


def snapshot(project: Project) -> tuple[str, str, str]:
    config = (project.root / "mlgit.yaml").read_text()
    index = project.sh("git", "status", "--porcelain").stdout
    return config, index, project.sh("dvc", "status", "--json").stdout


def test_track_a_file_writes_schema_and_stages_everything(project: Project) -> None:
    (project.root / "data").mkdir()
    pq.write_table(table(), project.root / "data" / "train.parquet")
    result = project.mlgit("track", "data/train.parquet")
    assert result.exit_code == 0, result.output
    assert "schema   schemas/train.schema.yaml" in result.output
    config = yaml.safe_load((project.root / "mlgit.yaml").read_text())
    assert config["datasets"]["train"] == {
        "path": "data/train.parquet",
        "schema": "schemas/train.schema.yaml",
    }
    schema = load_schema(project.root / "schemas" / "train.schema.yaml")
    assert [(f.name, f.type) for f in schema.fields] == [
        ("id", "integer"),
        ("label", "string"),
        ("x", "number"),
    ]
    assert schema.fields[1].constraints.enum == ("no", "yes")
    assert {
        "data/train.parquet.dvc",
        "data/.gitignore",
        "mlgit.yaml",
        "schemas/train.schema.yaml",
    } <= staged(project)
    assert json.loads(project.sh("dvc", "status", "--json").stdout) == {}
    assert project.mlgit("validate").exit_code == 0
    assert project.mlgit("check-config").exit_code == 0


def test_track_a_directory(project: Project) -> None:
    parts = project.root / "data" / "events"
    parts.mkdir(parents=True)
    pq.write_table(table(), parts / "part-0.parquet")
    pq.write_table(table(), parts / "part-1.parquet")
    result = project.mlgit("track", "data/events", "--name", "events")
    assert result.exit_code == 0, result.output
    assert {"data/events.dvc", "schemas/events.schema.yaml"} <= staged(project)
    assert json.loads(project.sh("dvc", "status", "--json").stdout) == {}
    validated = project.mlgit("validate", "events", "--format", "json")
    assert json.loads(validated.output)["datasets"][0]["row_count"] == 6


def test_track_keeps_an_existing_schema(project: Project) -> None:
    (project.root / "data").mkdir()
    pq.write_table(table(), project.root / "data" / "train.parquet")
    mine = "fields:\n  - {name: id, type: integer}\n"
    project.write("schemas/train.schema.yaml", mine)
    assert project.mlgit("track", "data/train.parquet").exit_code == 0
    assert (project.root / "schemas" / "train.schema.yaml").read_text() == mine
    config = yaml.safe_load((project.root / "mlgit.yaml").read_text())
    assert config["datasets"]["train"]["schema"] == "schemas/train.schema.yaml"


def test_track_non_tabular_data_has_no_schema(project: Project) -> None:
    (project.root / "images").mkdir()
    (project.root / "images" / "a.png").write_bytes(b"\x89PNG fake")
    result = project.mlgit("track", "images")
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((project.root / "mlgit.yaml").read_text())
    assert config["datasets"]["images"] == {"path": "images"}


def test_track_corrupt_data_writes_nothing(project: Project) -> None:
    (project.root / "data").mkdir()
    (project.root / "data" / "bad.parquet").write_bytes(b"not parquet")
    before = snapshot(project)
    result = project.mlgit("track", "data/bad.parquet")
    assert result.exit_code == 2
    assert "data/bad.parquet: cannot read as parquet" in result.stderr
    assert not (project.root / "data" / "bad.parquet.dvc").exists()
    assert not (project.root / "schemas").exists()
    config = before[0]
    assert (project.root / "mlgit.yaml").read_text() == config


def test_track_path_outside_the_repository(project: Project, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "x.parquet"
    pq.write_table(table(), outside)
    before = snapshot(project)
    result = project.mlgit("track", str(outside))
    assert result.exit_code == 2
    assert f"{outside} is outside the repository" in result.stderr
    assert snapshot(project) == before


def test_track_path_already_tracked_by_git(project: Project) -> None:
    project.write("data/small.csv", "a,b\n1,2\n")
    project.sh("git", "add", "data/small.csv")
    before = snapshot(project)
    result = project.mlgit("track", "data/small.csv")
    assert result.exit_code == 2
    assert "data/small.csv is already tracked by git" in result.stderr
    assert "git rm -r --cached data/small.csv" in result.stderr
    assert snapshot(project) == before
    assert not (project.root / "data" / "small.csv.dvc").exists()


def test_track_missing_path(project: Project) -> None:
    before = snapshot(project)
    result = project.mlgit("track", "data/nope.parquet")
    assert result.exit_code == 2
    assert "data/nope.parquet: no such file or directory" in result.stderr
    assert snapshot(project) == before
