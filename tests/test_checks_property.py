"""The vectorized engine agrees, count for count, with jsonschema applied to each row."""

from __future__ import annotations

import collections
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgit.data import io
from mlgit.data.checks import validate
from mlgit.data.io import open_source
from mlgit.data.schema import Constraints, Field, TableSchema

TEXT = st.text(alphabet="abcxyz019", max_size=6)
PATTERNS = ["[a-c]+", "a.*", "[0-9]{2}", "x|yz", ".*9"]


@st.composite
def columns(draw: st.DrawFn) -> tuple[str, str, list[Any], Constraints]:
    kind = draw(st.sampled_from(["integer", "number", "string"]))
    rows = draw(st.integers(0, 40))
    if kind == "integer":
        values = st.integers(-50, 50)
        bound = st.integers(-50, 50)
    elif kind == "number":
        values = st.floats(-100, 100, allow_nan=False, width=64)
        bound = st.floats(-100, 100, allow_nan=False)
    else:
        values, bound = TEXT, None
    data = draw(st.lists(st.one_of(st.none(), values), min_size=rows, max_size=rows))
    chosen: dict[str, Any] = {}
    if draw(st.booleans()):
        chosen["required"] = True
    if draw(st.booleans()):
        chosen["unique"] = True
    if bound is not None:
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if draw(st.booleans()):
                chosen[key] = draw(bound)
    else:
        for key in ("minLength", "maxLength"):
            if draw(st.booleans()):
                chosen[key] = draw(st.integers(0, 6))
        if draw(st.booleans()):
            chosen["pattern"] = draw(st.sampled_from(PATTERNS))
    if draw(st.booleans()):
        pool = [v for v in data if v is not None] or [draw(values)]
        chosen["enum"] = tuple(dict.fromkeys(draw(st.lists(st.sampled_from(pool), min_size=1))))
    return kind, f"c{draw(st.integers(0, 10**6))}", data, Constraints(**chosen)


def reference_count(column: str, kind: str, key: str, value: Any, data: list[Any]) -> int:
    """How many rows jsonschema (or, for `unique`, a Counter) says break one constraint."""
    if key == "unique":
        counts = collections.Counter(v for v in data if v is not None)
        return sum(1 for v in data if v is not None and counts[v] > 1)
    if key == "required":
        rule: dict[str, Any] = {
            "required": [column],
            "properties": {column: {"not": {"type": "null"}}},
        }
    else:
        keyword = {"enum": "enum", "pattern": "pattern"}.get(key, key)
        expected = f"^(?:{value})$" if key == "pattern" else list(value) if key == "enum" else value
        rule = {"properties": {column: {keyword: expected}}}
    validator = jsonschema.Draft202012Validator(rule)
    rows = [{column: v} if v is not None or key == "required" else {} for v in data]
    return sum(1 for row in rows if not validator.is_valid(row))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    specs=st.lists(columns(), min_size=1, max_size=4),
    row_group=st.integers(1, 9),
    batch_rows=st.integers(3, 17),
)
def test_engine_agrees_with_jsonschema_per_row(
    specs: list, row_group: int, batch_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = min(len(s[2]) for s in specs)
    specs = [(k, f"{name}_{i}", data[:rows], c) for i, (k, name, data, c) in enumerate(specs)]
    types = {"integer": pa.int64(), "number": pa.float64(), "string": pa.string()}
    table = pa.table({name: pa.array(data, types[k]) for k, name, data, _ in specs})
    schema = TableSchema(fields=tuple(Field(name, k, c) for k, name, _, c in specs))
    monkeypatch.setattr(io, "BATCH_ROWS", batch_rows)  # many batches: exercises the merges
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "t.parquet"
        pq.write_table(table, file, row_group_size=max(row_group, 1))
        result = validate(open_source(file), schema, sample=3)
    engine = {(r.check, r.column): r for r in result.results}
    for kind, name, data, constraints in specs:
        for key, value in constraints.items():
            expected = reference_count(name, kind, key, value, data)
            got = engine[(key, name)]
            assert got.unexpected_count == expected, (key, name, value, data)
            assert got.ok == (expected == 0)
            assert len(got.examples) == min(expected, 3)
            assert [row for row, _ in got.examples] == sorted(row for row, _ in got.examples)
            for row, shown in got.examples:
                assert data[row] == shown or key == "required"
        assert engine[("type", name)].unexpected_count == 0
    assert result.row_count == rows
