"""Values that are not values: NaN thresholds, impossible ranges, YAML's booleans, bounds of the
wrong type or beyond int64, mixed sets, ISO dates in JSON schemas, metrics paths that cannot be
read. Each is a one-line exit 2 naming its place, before any data is read."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support import Project, run_cli

FIELD = "fields:\n  - {name: x, type: %s%s}\n"


def schema_error(tmp_path: Path, text: str, *words: str, name: str = "s.yaml") -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = run_cli(tmp_path, "check-config", name)
    assert result.exit_code == 2, result.output
    assert name in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (FIELD % ("number", ", constraints: {minimum: .nan}"), ("minimum", ".nan")),
        (
            FIELD % ("integer", "")
            + "expectations:\n  - {expect: values_between, column: x, min: 0, mostly: .nan}\n",
            ("mostly", ".nan"),
        ),
        (FIELD % ("integer", ", constraints: {minimum: 5, maximum: 1}"), ("above maximum",)),
        (FIELD % ("string", ", constraints: {minLength: 9, maxLength: 2}"), ("above maxLength",)),
        (FIELD % ("string", ", constraints: {enum: [yes, no]}"), ("boolean", "quote")),
        (
            FIELD % ("integer", "")
            + "expectations:\n  - {expect: values_between, column: x, min: abc}\n",
            ("'abc' is not an integer",),
        ),
        (
            FIELD % ("integer", "")
            + "expectations:\n  - {expect: values_between, column: x, max: 99999999999999999999}\n",
            ("is not an integer",),
        ),
        (
            FIELD % ("string", "")
            + "expectations:\n  - {expect: values_in_set, column: x, values: [a, 1]}\n",
            ("mixes",),
        ),
    ],
    ids=[
        "nan-bound",
        "nan-mostly",
        "min-above-max",
        "lengths",
        "yes-no",
        "wrong-type",
        "beyond-int64",
        "mixed-set",
    ],
)
def test_bad_values_in_a_schema(tmp_path: Path, text: str, words: tuple[str, ...]) -> None:
    schema_error(tmp_path, text, *words)


def test_a_json_schema_bounds_dates_with_iso_text(tmp_path: Path) -> None:
    import datetime as dt

    table = pa.table({"d": [dt.date(2024, 1, 1), dt.date(2024, 6, 1)]})
    pq.write_table(table, tmp_path / "d.parquet")
    schema = {
        "fields": [
            {"name": "d", "type": "date", "constraints": {"minimum": "2024-01-01",
                                                          "maximum": "2024-03-01"}}
        ],
        "expectations": [{"expect": "values_between", "column": "d", "min": "2023-12-31"}],
    }  # fmt: skip
    (tmp_path / "s.json").write_text(json.dumps(schema), encoding="utf-8")
    assert run_cli(tmp_path, "check-config", "s.json").exit_code == 0
    result = run_cli(tmp_path, "validate", "d.parquet", "--schema", "s.json", "--format", "json")
    assert result.exit_code == 1, result.output
    checks = json.loads(result.stdout)["datasets"][0]["checks"]
    failed = [(c["check"], c["unexpected_count"]) for c in checks if c["status"] == "fail"]
    assert failed == [("maximum", 1)]


def test_nan_thresholds_and_unreadable_metrics_in_mlgit_yaml(project: Project) -> None:
    project.write("metrics.json", json.dumps({"auc": 0.9}))
    (project.root / "metricsdir").mkdir()
    project.configure(
        "models:\n  m:\n    metrics: metrics.json\n    gates:\n      - {metric: auc, min: .nan}\n"
    )
    result = project.mlgit("check-config")
    assert result.exit_code == 2 and "models.m.gates.0.min" in result.stderr, result.output
    project.configure("models:\n  m:\n    metrics: metricsdir\n")
    result = project.mlgit("gate", "m")
    assert result.exit_code == 2 and "is a directory" in result.stderr, result.output
    project.configure(f"models:\n  m:\n    metrics: {'x' * 300}.json\n")
    result = project.mlgit("gate", "m")
    assert result.exit_code == 2 and "shorten it" in result.stderr, result.output


def test_an_empty_gate_baseline_is_refused(project: Project) -> None:
    project.write("metrics.json", json.dumps({"auc": 0.9}))
    project.configure("models:\n  m:\n    metrics: metrics.json\n")
    result = project.mlgit("gate", "m", "--baseline", "")
    assert result.exit_code == 2 and "--baseline" in result.stderr


@pytest.mark.parametrize("suffix", ["yaml", "toml"])
def test_metrics_files_in_yaml_and_toml(project: Project, suffix: str) -> None:
    text = "auc: 0.9\n" if suffix == "yaml" else "auc = 0.9\n"
    project.write(f"m.{suffix}", text)
    project.configure(
        f"models:\n  m:\n    metrics: m.{suffix}\n    gates:\n      - {{metric: auc, min: 0.8}}\n"
    )
    assert project.mlgit("gate", "m").exit_code == 0
    project.write(f"m.{suffix}", "auc: [oops\n" if suffix == "yaml" else "auc = = 1\n")
    result = project.mlgit("gate", "m")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
