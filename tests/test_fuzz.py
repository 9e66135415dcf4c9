"""Fuzzed mlgit.yaml and schema files (hypothesis, about a minute): every outcome of check-config,
validate and gate is exit 0, 1 or 2 with `mlgit: error:` lines, never an internal error (exit 3).
Structure-aware mutations (a value of another type at any key, keys removed or added) and text
mutations (lines dropped, duplicated, YAML syntax and control characters spliced in)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import run_cli

CONFIG = {
    "version": 1,
    "datasets": {"d": {"path": "d.parquet", "schema": "s.yaml"}},
    "models": {
        "m": {
            "metrics": "metrics.json",
            "gates": [{"metric": "auc", "min": 0.5}, {"metric": "slices.sex.acc", "max_gap": 0.1}],
        }
    },
    "stages": ["staging", "prod"],
    "promotion": {"requires": {"prod": ["staging"]}},
    "drift": {"psi": {"warn": 0.1, "fail": 0.2}, "share": 0.5},
    "ci": {"providers": ["github"], "schedule": "0 3 * * 1", "train": "dvc repro"},
}
SCHEMA = {
    "primaryKey": "id",
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True, "unique": True}},
        {"name": "x", "type": "number", "constraints": {"minimum": 0, "maximum": 10}},
        {"name": "c", "type": "string", "constraints": {"enum": ["a", "b"], "pattern": "[ab]"}},
    ],
    "expectations": [
        {"expect": "row_count", "min": 1},
        {"expect": "values_between", "column": "x", "min": 0, "max": 10, "mostly": 0.9},
        {"expect": "mean", "column": "x", "min": 0, "max": 10},
    ],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "..", "../x", "/etc/passwd", "\x1b[31m", "a" * 300, "0 3 * *", "*"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
SNIPPETS = [
    *("&a [1]", "*a", "*nope", "[", "{", "}", ": :", "!!binary x", "? [1]", ".nan", "- -"),
    *("\t", "\x00", "\x1b[2J", "'", '"', "~", "0x1F", "1e999", "<<: *a", "!!set {a}"),
]


def _paths(value: Any, where: tuple = ()) -> list[tuple]:
    found = [where]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*where, index))
    return found


def _set(data: Any, where: tuple, value: Any, delete: bool) -> Any:
    if not where:
        return value
    parent = data
    for step in where[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        parent.pop(where[-1], None)
    else:
        parent[where[-1]] = value
    return data


@st.composite
def mutated(draw: st.DrawFn, base: dict) -> str:
    data = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        where = draw(st.sampled_from(paths))
        data = _set(data, where, draw(values), draw(st.booleans()))
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except Exception:
        text = json.dumps(data, default=str)
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 2))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "splice"]))
        if action == "drop":
            lines.pop(at)
        elif action == "dup":
            lines.insert(at, lines[at])
        else:
            lines[at] += " " + draw(st.sampled_from(SNIPPETS))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    table = pa.table({"id": [1, 2, 3], "x": [0.5, 2.0, 9.0], "c": ["a", "b", "a"]})
    pq.write_table(table, root / "d.parquet")
    (root / "metrics.json").write_text(json.dumps({"auc": 0.9}), encoding="utf-8")
    (root / "mlgit.yaml").write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    (root / "s.yaml").write_text(yaml.safe_dump(SCHEMA), encoding="utf-8")
    return root


def _outcome_is_clean(result: Any) -> None:
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert lines and all(
            line.startswith(("mlgit: error: ", "Usage:", "Try ", "Error:")) for line in lines
        ), result.stderr


FUZZ = settings(
    max_examples=int(os.environ.get("MLGIT_FUZZ_EXAMPLES", "400")),  # more outside the suite
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(text=mutated(CONFIG))
def test_fuzzed_config(workdir: Path, text: str) -> None:
    (workdir / "mlgit.yaml").write_text(text, encoding="utf-8")
    (workdir / "s.yaml").write_text(yaml.safe_dump(SCHEMA), encoding="utf-8")
    for args in (("check-config",), ("validate", "d"), ("gate", "m")):
        _outcome_is_clean(run_cli(workdir, *args, catch_exceptions=True))


@FUZZ
@given(text=mutated(SCHEMA))
def test_fuzzed_schema(workdir: Path, text: str) -> None:
    (workdir / "mlgit.yaml").write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    (workdir / "s.yaml").write_text(text, encoding="utf-8")
    for args in (("check-config", "s.yaml"), ("validate", "d.parquet", "--schema", "s.yaml")):
        _outcome_is_clean(run_cli(workdir, *args, catch_exceptions=True))
