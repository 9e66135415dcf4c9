"""Checks settled from Parquet statistics give, result for result, what a full read gives.

Each test writes a real Parquet file and runs the Validator over it twice: as a full read
(every batch of the file through `update`) and the settled way, as the engine does (per row
group: `settle`, read the columns left, `update`; one Validator per row group, merged).
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mlgit.data.checks import DatasetResult, Validator, needed_columns
from mlgit.data.schema import TableSchema, from_data
from mlgit.data.units import Unit, _dictionary
from mlgit.repo.dvc import DataFile
from mlgit.report import formats
from mlgit.report.validation import as_report
from tests.support import conforms, write_parquet


def _schema(fields: list[dict[str, Any]], expectations: list[dict[str, Any]] = ()) -> TableSchema:
    return from_data({"fields": fields, "expectations": list(expectations)})


def both_ways(path: Path, schema: TableSchema, batch_rows: int = 7) -> int:
    """Assert that the full read and the settled reads (one Validator per row group, merged,
    as the threaded engine; one for the whole file, as a serial one) give identical results
    and rows; return the column chunks settled."""
    parquet = pq.ParquetFile(path)
    wanted = needed_columns(schema, parquet.schema_arrow.names)
    full = Validator(schema, 5, path.parent)
    first = 0
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=wanted):
        full.update(batch, first)
        first += batch.num_rows
    expected = repr(full.results(False))  # repr: NaN examples compare equal, floats exactly
    serial = Validator(schema, 5, path.parent)
    merged = _settled(path, schema, batch_rows, lambda: serial)
    for validator in (merged, serial):
        assert validator.rows == full.rows == parquet.metadata.num_rows
        assert repr(validator.results(False)) == expected
    assert merged.settled_chunks == serial.settled_chunks
    return merged.settled_chunks


def _settled(
    path: Path, schema: TableSchema, batch_rows: int, serial: Callable[[], Validator]
) -> Validator:
    """The settled read, row group by row group: `settle`, read the columns left, `update`;
    each group fed to a new Validator (merged in order) and to `serial()` too."""
    merged: Validator | None = None
    first = 0
    text = [f.name for f in schema.fields if f.type == "string"]  # read as validate reads them
    with pq.ParquetFile(path, read_dictionary=text) as parquet:
        wanted = needed_columns(schema, parquet.schema_arrow.names) or parquet.schema_arrow.names
        for index in range(parquet.num_row_groups):
            group = parquet.metadata.row_group(index)
            part = Validator(schema, 5, path.parent)
            unit = Unit(DataFile(path.name, path), index, first, group.num_rows)
            dictionary = functools.partial(_dictionary, unit, parquet)  # as the engine reads it
            settled = part.settle(group, parquet.schema_arrow, dictionary)
            assert part.settled_chunks == len(settled)
            assert serial().settle(group, parquet.schema_arrow, dictionary) == settled
            columns = [c for c in wanted if c not in settled]
            for batch in parquet.iter_batches(
                batch_size=batch_rows, row_groups=[index], columns=columns
            ):
                assert not set(settled) & set(batch.schema.names)
                part.update(batch, first)
                serial().update(batch, first)
                first += batch.num_rows
            if merged is None:
                merged = part
            else:
                merged.merge(part)
    assert merged is not None, "a file with no row group"
    return merged


INTEGERS = [{"name": "n", "type": "integer", "constraints": {"minimum": 0, "maximum": 99}}]


# ---------------------------------------------------------------- what settles, counted
def test_bounds_proven_by_statistics_settle_the_column(tmp_path: Path) -> None:
    path = write_parquet(
        pa.table({"n": list(range(100))}), tmp_path / "a.parquet", row_group_size=10
    )
    assert both_ways(path, _schema(INTEGERS)) == 10


def test_a_row_group_that_may_fail_is_read(tmp_path: Path) -> None:
    values = [*range(50), -1, *range(51, 100)]  # the 6th row group holds -1
    path = write_parquet(pa.table({"n": values}), tmp_path / "a.parquet", row_group_size=10)
    assert both_ways(path, _schema(INTEGERS)) == 9


def test_without_statistics_nothing_settles(tmp_path: Path) -> None:
    path = write_parquet(
        pa.table({"n": list(range(100))}),
        tmp_path / "a.parquet",
        row_group_size=10,
        write_statistics=False,
    )
    assert both_ways(path, _schema(INTEGERS)) == 0


def test_every_kind_of_proof_settles(tmp_path: Path) -> None:
    table = pa.table(
        {
            "n": pa.array(range(40), pa.int32()),
            "kind": ["a"] * 20 + ["b"] * 20,
            "flag": [True] * 40,
            "free": [None, *range(39)],
        }
    )
    schema = _schema(
        [
            {"name": "n", "type": "integer", "constraints": {"required": True, "minimum": 0}},
            {"name": "kind", "type": "string", "constraints": {"enum": ["a", "b"]}},
            {"name": "flag", "type": "boolean", "constraints": {"enum": [True]}},
            {"name": "free"},
        ],
        [
            {"expect": "values_between", "column": "free", "min": 0, "max": 40, "mostly": 0.5},
            {"expect": "values_in_set", "column": "kind", "values": ["a", "b", "c"]},
            {"expect": "row_count", "min": 1},
            {"expect": "columns", "columns": ["n", "kind", "flag", "free"]},
        ],
    )
    path = write_parquet(table, tmp_path / "a.parquet", row_group_size=10)
    assert both_ways(path, schema) == 4 * 4


def test_a_column_another_check_reads_is_never_settled(tmp_path: Path) -> None:
    table = pa.table({"n": list(range(40)), "m": list(range(40)), "s": ["ab"] * 40})
    schema = _schema(
        [
            {"name": "n", "type": "integer", "constraints": {"minimum": 0, "unique": True}},
            {"name": "m", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "s", "type": "string", "constraints": {"enum": ["ab"], "pattern": "a."}},
        ],
        [{"expect": "mean", "column": "m", "min": 0}],
    )
    path = write_parquet(table, tmp_path / "a.parquet", row_group_size=10)
    assert both_ways(path, schema) == 0


def test_custom_functions_see_every_column_so_nothing_settles(tmp_path: Path) -> None:
    (tmp_path / "rules.py").write_text(
        "import pyarrow.compute as pc\ndef positive(batch):\n"
        "    return pc.greater_equal(batch.column('n'), 0)\n",
        encoding="utf-8",
    )
    schema = _schema(INTEGERS, [{"expect": "custom", "function": "rules.py:positive"}])
    path = write_parquet(
        pa.table({"n": list(range(40))}), tmp_path / "a.parquet", row_group_size=10
    )
    assert both_ways(path, schema) == 0


def test_values_converted_to_the_field_type_are_read(tmp_path: Path) -> None:
    table = pa.table({"n": [str(i) for i in range(40)], "d": pa.array(range(40), pa.int64())})
    schema = _schema(
        [
            {"name": "n", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "d", "type": "string", "constraints": {"required": True}},
        ]
    )
    path = write_parquet(table, tmp_path / "a.parquet", row_group_size=10)
    assert both_ways(path, schema) == 0


def test_a_kernel_error_is_raised_by_the_read_not_hidden_by_statistics(tmp_path: Path) -> None:
    schema = _schema([{"name": "s", "constraints": {"minimum": 3}}])
    path = write_parquet(pa.table({"s": ["a", "b"]}), tmp_path / "a.parquet")
    part = Validator(schema, 5, None)
    parquet = pq.ParquetFile(path)
    assert part.settle(parquet.metadata.row_group(0), parquet.schema_arrow) == []


# ---------------------------------------------------------------- values statistics misstate
def test_nan_in_a_float_column_is_missing_to_the_rules_so_floats_never_settle(
    tmp_path: Path,
) -> None:
    values = [1.0, math.nan, 2.0, 3.0] * 10  # Parquet leaves NaN out of min/max and null count
    table = pa.table({"x": values, "y": values})
    schema = _schema(
        [
            {"name": "x", "type": "number", "constraints": {"minimum": 0, "required": True}},
            {"name": "y", "constraints": {"minimum": 0}},  # untyped: NaN fails `minimum`
        ]
    )
    path = write_parquet(table, tmp_path / "a.parquet", row_group_size=8)
    assert both_ways(path, schema) == 0
    schema = _schema([{"name": "x", "type": "number", "constraints": {"maximum": 5}}])
    clean = write_parquet(pa.table({"x": [1.5] * 40}), tmp_path / "b.parquet", row_group_size=8)
    assert both_ways(clean, schema) == 0  # no NaN here, but the statistics cannot tell


def test_nulls_are_not_counted_and_fail_required(tmp_path: Path) -> None:
    values = [None if i % 3 == 0 else i for i in range(30)] + list(range(30, 60))
    schema = _schema(
        [
            {"name": "n", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "m", "type": "integer", "constraints": {"required": True}},
        ]
    )
    path = write_parquet(
        pa.table({"n": values, "m": values}), tmp_path / "a.parquet", row_group_size=30
    )
    assert both_ways(path, schema) == 3  # n twice, m where no value is null


def test_a_row_group_of_nulls_and_an_empty_row_group(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    arrow_schema = pa.schema([("n", pa.int64()), ("s", pa.string())])
    with pq.ParquetWriter(path, arrow_schema) as writer:
        writer.write_table(pa.table({"n": [1, 2], "s": ["x", "x"]}, schema=arrow_schema))
        writer.write_table(pa.table({"n": [None, None], "s": [None, None]}, schema=arrow_schema))
        writer.write_table(arrow_schema.empty_table())
        writer.write_table(pa.table({"n": [3], "s": ["y"]}, schema=arrow_schema))
    assert [pq.ParquetFile(path).metadata.row_group(i).num_rows for i in range(4)] == [2, 2, 0, 1]
    schema = _schema(
        [
            {"name": "n", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "s", "type": "string", "constraints": {"enum": ["x", "y"]}},
        ]
    )
    assert both_ways(path, schema) == 8
    required = _schema([{"name": "n", "type": "integer", "constraints": {"required": True}}])
    assert both_ways(path, required) == 3  # the nulls are read: they fail


def test_long_strings_settle_only_when_their_statistics_are_whole(tmp_path: Path) -> None:
    import duckdb

    same = "a" * 200
    schema = _schema([{"name": "s", "type": "string", "constraints": {"enum": [same, "b"]}}])
    whole = write_parquet(pa.table({"s": [same] * 20}), tmp_path / "a.parquet", row_group_size=10)
    assert both_ways(whole, schema) == 2
    huge = "a" * 5000  # pyarrow drops statistics of values beyond 4 KiB
    schema = _schema([{"name": "s", "type": "string", "constraints": {"enum": [huge]}}])
    dropped = write_parquet(pa.table({"s": [huge] * 20}), tmp_path / "b.parquet", row_group_size=10)
    assert both_ways(dropped, schema) == 0
    # DuckDB truncates long strings to a min and a max that differ: never one value
    truncated = tmp_path / "c.parquet"
    duckdb.sql(
        f"COPY (SELECT repeat('a', 300) AS s FROM range(20)) TO '{truncated}' (FORMAT PARQUET)"
    )
    stats = pq.ParquetFile(truncated).metadata.row_group(0).column(0).statistics
    assert stats.min != stats.max
    schema = _schema([{"name": "s", "type": "string", "constraints": {"enum": ["a" * 300]}}])
    assert both_ways(truncated, schema) == 0
    prefix = _schema([{"name": "s", "type": "string", "constraints": {"enum": ["a" * 256]}}])
    assert both_ways(truncated, prefix) == 0  # fails on every row, as the full read says


# ---------------------------------------------------------------- logical types
def test_timestamps_with_time_zones_and_units(tmp_path: Path) -> None:
    start = dt.datetime(2024, 3, 31, 0, 30, tzinfo=dt.UTC)
    moments = [start + dt.timedelta(minutes=37 * i) for i in range(60)]
    table = pa.table(
        {
            "paris": pa.array(moments, pa.timestamp("us", tz="Europe/Paris")),
            "utc_ns": pa.array(moments, pa.timestamp("ns", tz="UTC")),
            "naive_s": pa.array([m.replace(tzinfo=None) for m in moments], pa.timestamp("s")),
            "naive_ms": pa.array([m.replace(tzinfo=None) for m in moments], pa.timestamp("ms")),
        }
    )
    bound = dt.datetime(2024, 3, 31, 12, 0)  # naive: UTC against an aware column
    aware = dt.datetime(2024, 3, 31, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    fields = [
        {"name": name, "type": "datetime", "constraints": {"minimum": low}}
        for name, low in (("paris", aware), ("utc_ns", bound), ("naive_s", bound))
    ]
    fields.append({"name": "naive_ms", "type": "datetime", "constraints": {"maximum": bound}})
    path = write_parquet(table, tmp_path / "a.parquet", row_group_size=12)
    assert both_ways(path, _schema(fields)) > 0
    on_a_date = [{"name": "paris", "constraints": {"minimum": dt.date(2024, 3, 31)}}]
    assert both_ways(path, _schema(on_a_date)) == 5


def test_dates(tmp_path: Path) -> None:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(60)]
    path = write_parquet(pa.table({"d": days}), tmp_path / "a.parquet", row_group_size=10)
    fields = [
        {
            "name": "d",
            "type": "date",
            "constraints": {
                "minimum": dt.date(2024, 1, 15),
                "exclusiveMaximum": dt.date(2024, 3, 1),
            },
        }
    ]
    assert both_ways(path, _schema(fields)) == 4  # the first two groups hold days before 15
    as_datetime = [
        {"name": "d", "type": "datetime", "constraints": {"minimum": dt.datetime(2024, 1, 1)}}
    ]
    assert both_ways(path, _schema(as_datetime)) == 0  # converted to timestamps: read


def test_unsigned_integers_up_to_2_64(tmp_path: Path) -> None:
    top = 2**64 - 1
    values = [top - i for i in range(20)] + list(range(20))
    table = pa.table({"u": pa.array(values, pa.uint64()), "b": pa.array(range(40), pa.uint8())})
    fields = [
        {"name": "u", "type": "integer", "constraints": {"minimum": 2**63, "maximum": top}},
        {"name": "b", "type": "integer", "constraints": {"minimum": -5, "maximum": 300}},
    ]
    path = write_parquet(table, tmp_path / "a.parquet", row_group_size=10)
    assert both_ways(path, _schema(fields)) == 2 + 4
    beyond = [{"name": "u", "constraints": {"maximum": 2**64, "minimum": -1}}]
    assert both_ways(path, _schema(beyond)) == 4  # bounds the type cannot hold


def test_decimals(tmp_path: Path) -> None:
    values = [decimal.Decimal(i) / 4 - 2 for i in range(40)]
    table = pa.table(
        {
            "small": pa.array(values, pa.decimal128(9, 2)),
            "wide": pa.array(values, pa.decimal256(40, 2)),
        }
    )
    fields = [
        {"name": "small", "type": "number", "constraints": {"minimum": -2, "maximum": 7.75}},
        {"name": "wide", "constraints": {"exclusiveMinimum": -1.5}},
    ]
    for kwargs in ({}, {"store_decimal_as_integer": True}):
        path = write_parquet(table, tmp_path / "a.parquet", row_group_size=10, **kwargs)
        assert both_ways(path, _schema(fields)) == 4 + 3


def test_dictionary_encoded_strings(tmp_path: Path) -> None:
    kinds = pa.array(["cat"] * 25 + ["dog"] * 15).dictionary_encode()
    path = write_parquet(pa.table({"k": kinds}), tmp_path / "a.parquet", row_group_size=10)
    schema = _schema([{"name": "k", "type": "string", "constraints": {"enum": ["cat"]}}])
    assert both_ways(path, schema) == 2  # the group holding cat and dog, and dog's, are read


# ---------------------------------------------------------------- other writers
def test_a_file_written_by_duckdb(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "d.parquet"
    duckdb.sql(
        "COPY (SELECT i AS n, i::UBIGINT AS u, (i / 8)::DECIMAL(18, 3) AS amount, "
        "TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL 1 minute AS at, "
        "DATE '2024-01-01' + (i // 2048)::INTEGER AS day, "
        "CASE WHEN i % 7 = 0 THEN NULL ELSE 'x' END AS tag, i::DOUBLE AS f "
        f"FROM range(10000) t(i)) TO '{path}' (FORMAT PARQUET, ROW_GROUP_SIZE 2048)"
    )
    assert pq.ParquetFile(path).metadata.num_row_groups > 1
    schema = _schema(
        [
            {"name": "n", "type": "integer", "constraints": {"minimum": 0, "required": True}},
            {"name": "u", "type": "integer", "constraints": {"maximum": 9_000}},
            {"name": "amount", "type": "number", "constraints": {"minimum": 0}},
            {"name": "at", "type": "datetime", "constraints": {"minimum": dt.datetime(2024, 1, 1)}},
            {"name": "day", "type": "date", "constraints": {"enum": [dt.date(2024, 1, 3)]}},
            {"name": "tag", "type": "string", "constraints": {"enum": ["x"]}},
            {"name": "f", "type": "number", "constraints": {"minimum": 0}},
        ]
    )
    # row groups of 2048 rows, the last of 1808: n, amount, at and tag settle in all five,
    # u in the four below 9000, day in the one of 2024-01-03, f (a float) in none
    assert both_ways(path, schema, batch_rows=1000) == 4 * 5 + 4 + 1


def test_a_file_written_with_sparks_settings(tmp_path: Path) -> None:
    moments = [dt.datetime(2024, 1, 1) + dt.timedelta(hours=i) for i in range(40)]
    table = pa.table({"at": pa.array(moments, pa.timestamp("ns")), "n": list(range(40))})
    path = write_parquet(
        table,
        tmp_path / "a.parquet",
        row_group_size=10,
        use_deprecated_int96_timestamps=True,
        flavor="spark",
    )
    fields = [
        {"name": "at", "type": "datetime", "constraints": {"minimum": dt.datetime(2023, 1, 1)}},
        {"name": "n", "type": "integer", "constraints": {"minimum": 0}},
    ]
    assert both_ways(path, _schema(fields)) == 4  # INT96 timestamps are read; n settles


# ---------------------------------------------------------------- any data, any bounds
KINDS = ["int64", "int8", "uint64", "decimal", "date", "timestamp", "string", "float"]


@st.composite
def _cases(draw: st.DrawFn) -> tuple[pa.Table, dict[str, Any], int]:
    """A column of runs of values (so row groups often hold one value), bounds near them."""
    rows = draw(st.integers(0, 60))
    kind = draw(st.sampled_from(KINDS))
    value: st.SearchStrategy[Any] = st.integers(-30, 30)
    if kind == "string":
        value = st.sampled_from(["a", "b", "ab", ""])
    elif kind == "uint64":
        value = st.integers(2**64 - 40, 2**64 - 1) | st.integers(0, 20)
    elif kind == "int8":
        value = st.integers(-128, 127)
    elif kind == "float":
        value = st.sampled_from([math.nan, -1.5, 0.0, 2.5, 7.0])
    runs = draw(st.lists(st.tuples(st.one_of(st.none(), value), st.integers(1, 12)), max_size=8))
    data = [v for v, times in runs for _ in range(times)][:rows]
    bound: st.SearchStrategy[Any] = value
    ftype = {"string": "string", "float": "number", "decimal": "number"}.get(kind, "integer")
    if kind == "date":
        days = pa.array([None if v is None else v + 19_000 for v in data], pa.int32())
        column = days.cast(pa.date32())
        bound = st.integers(-35, 35).map(lambda d: dt.date(2022, 1, 8) + dt.timedelta(days=d))
        ftype = "date"
    elif kind == "timestamp":
        column = pa.array(data, pa.int64()).cast(pa.timestamp("s", tz="UTC"))
        bound = st.integers(-35, 35).map(
            lambda s: dt.datetime(1970, 1, 1) + dt.timedelta(seconds=s)
        )
        ftype = "datetime"
    elif kind == "decimal":
        halves = [None if v is None else decimal.Decimal(v) / 2 for v in data]
        column = pa.array(halves, pa.decimal128(6, 1))
        bound = st.integers(-35, 35) | st.sampled_from([-0.5, 0.5])
    else:
        types = {"int64": pa.int64(), "int8": pa.int8(), "uint64": pa.uint64()}
        column = pa.array(data, types.get(kind, pa.float64() if kind == "float" else pa.string()))
    constraints: dict[str, Any] = {}
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if draw(st.booleans()):
            constraints[key] = draw(bound)
    if draw(st.booleans()):
        constraints["required"] = True
    if draw(st.booleans()):
        pool = [v for v in column.to_pylist() if v is not None] or [draw(bound)]
        constraints["enum"] = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    field = {"name": "c", "type": draw(st.sampled_from(["any", ftype])), "constraints": constraints}
    return pa.table({"c": column}), field, draw(st.integers(1, 20))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=_cases(), statistics=st.booleans())
def test_settled_and_full_reads_agree_on_any_data(
    tmp_path: Path, case: tuple[pa.Table, dict[str, Any], int], statistics: bool
) -> None:
    table, field, group_rows = case
    path = write_parquet(
        table, tmp_path / "h.parquet", row_group_size=group_rows, write_statistics=statistics
    )
    settled = both_ways(path, _schema([field]), batch_rows=5)
    event("settled" if settled else "read")  # --hypothesis-show-statistics: both happen
    if not statistics and table.num_rows:  # an empty row group needs none
        assert settled == 0


# ---------------------------------------------------------------- the report
@pytest.mark.parametrize("settled", [0, 12])
def test_the_report_counts_settled_chunks(settled: int) -> None:
    result = DatasetResult(
        dataset="train", ok=True, results=(), row_count=10, settled_chunks=settled
    )
    report = as_report([result])
    data = conforms(report.data, "validate-result.schema.json")
    assert data["datasets"][0]["settled_chunks"] == settled
    line = "12 column chunks settled from Parquet statistics"
    for name in ("text", "markdown"):
        assert (line in formats()[name](report, False)) == bool(settled)


# ---------------------------------------------------------------- enum from the dictionary page
CITY = [{"name": "city", "type": "string", "constraints": {"enum": ["Oslo", "Rome", "Lima"]}}]


def test_an_enum_is_settled_from_the_chunk_dictionary(tmp_path: Path) -> None:
    cities = ["Oslo", "Rome", "Lima", None] * 250  # min != max: the statistics alone cannot
    path = write_parquet(pa.table({"city": cities}), tmp_path / "a.parquet", row_group_size=100)
    assert both_ways(path, _schema(CITY)) == 10


def test_a_dictionary_holding_a_value_outside_the_enum_is_read(tmp_path: Path) -> None:
    cities = ["Oslo", "Rome", "Lima"] * 300 + ["Paris"]  # Paris only in the last row group
    path = write_parquet(pa.table({"city": cities}), tmp_path / "a.parquet", row_group_size=100)
    assert both_ways(path, _schema(CITY)) == 9


def test_a_dictionary_cut_short_by_a_fallback_to_plain_pages_is_not_trusted(
    tmp_path: Path,
) -> None:
    # a 1 KiB dictionary page limit: the writer keeps 1,024 values in the dictionary and
    # writes the rest as plain pages, which hold the one value the enum does not allow
    values = [f"value-{i:06d}" for i in range(50_000)]
    allowed = values[:-2] + values[-1:]
    path = write_parquet(
        pa.table({"v": values}), tmp_path / "a.parquet", dictionary_pagesize_limit=1024
    )
    schema = _schema([{"name": "v", "type": "string", "constraints": {"enum": allowed}}])
    assert both_ways(path, schema, batch_rows=4096) == 0
