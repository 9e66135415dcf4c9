"""The pure parts of the checks, without a repository: conversion to field types and the Arrow
constants built from the schema's Python values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as t
import pytest

from mlgit.data.checks.conform import conform_batch, per_value, present, type_check, visible
from mlgit.data.checks.scalars import holds, integer_compare, is_text, scalar, value_set
from mlgit.data.schema import Field


def conformed(values: list[Any], ftype: str, arrow_type: pa.DataType | None = None) -> Any:
    batch = pa.RecordBatch.from_arrays([pa.array(values, type=arrow_type)], names=["c"])
    return conform_batch(batch, [Field("c", ftype)])


def type_failures(batch: pa.RecordBatch, ftype: str) -> tuple[int | None, list[Any]]:
    """(how many values are not of the type, their values as read) from the `type` check."""
    check = type_check(Field("c", ftype), sample=20)
    check.update(batch, 0)
    result = check.result()
    return result.unexpected_count, [value for _, value in result.examples]


def test_text_to_integer_keeps_the_raw_value_of_what_does_not_convert() -> None:
    batch = conformed(["1", " 2 ", "x", None, "3.0"], "integer")
    assert batch.column("c").to_pylist() == [1, 2, None, None, None]
    assert batch.column("c").type == pa.int64()
    assert type_failures(batch, "integer") == (2, ["x", "3.0"])


def test_a_column_of_the_type_already_adds_no_mask_and_passes() -> None:
    batch = conformed([1, None, 3], "integer")
    assert batch.column("c").to_pylist() == [1, None, 3]
    assert type_failures(batch, "integer") == (0, [])


def test_text_that_reads_as_nan_is_a_number_and_missing() -> None:
    batch = conformed(["1.5", "nan", "NaN", "one"], "number")
    assert batch.column("c").to_pylist() == [1.5, None, None, None]
    assert type_failures(batch, "number") == (1, ["one"])


def test_nan_in_a_float_column_is_null_in_the_raw_column_too() -> None:
    batch = conformed([1.0, float("nan")], "integer")
    assert batch.column("c").to_pylist() == [1, None]
    assert type_failures(batch, "integer") == (0, [])


def test_integers_as_booleans_only_0_and_1() -> None:
    batch = conformed([0, 1, 2], "boolean")
    assert batch.column("c").to_pylist() == [False, True, None]
    assert type_failures(batch, "boolean") == (1, [2])


def test_a_date_that_looks_right_but_does_not_exist_fails_alone() -> None:
    batch = conformed(["2024-01-31", "2024-13-01", "2024-02-01"], "date")
    assert batch.column("c").to_pylist() == [dt.date(2024, 1, 31), None, dt.date(2024, 2, 1)]
    assert type_failures(batch, "date") == (1, ["2024-13-01"])


def test_naive_and_offset_datetimes_in_one_column_are_read_as_utc() -> None:
    batch = conformed(["2024-01-01T00:00:00", "2024-01-01T01:00:00+01:00"], "datetime")
    column = batch.column("c")
    assert column.type == pa.timestamp("us", tz="UTC")
    assert column[0].value == column[1].value


def test_a_dictionary_string_column_stays_encoded() -> None:
    batch = conformed(["a", "b", "a"], "string", pa.dictionary(pa.int32(), pa.string()))
    column = batch.column("c")
    assert t.is_dictionary(column.type)
    lengths = per_value(column, pc.utf8_length)
    assert lengths.to_pylist() == [1, 1, 1]


def test_a_value_of_the_wrong_type_is_present_and_hidden_columns_are_not_visible() -> None:
    batch = conformed(["1", "x", None], "integer")
    assert present(batch, "c").to_pylist() == [True, True, False]
    assert visible(batch).schema.names == ["c"]


def test_scalar_of_an_aware_datetime_is_what_pa_scalar_gives() -> None:
    moment = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    for unit in ("s", "ms", "us", "ns"):
        kind = pa.timestamp(unit)
        assert scalar(moment, kind) == pa.scalar(moment, type=kind)
    assert scalar(dt.date(2024, 5, 1), pa.timestamp("ms")).value == 1_714_521_600_000


@pytest.mark.parametrize(
    ("values", "arrow_type"),
    [([1, 2], pa.int16()), ([1.5], pa.float32()), (["a", "é"], pa.large_string())],
)
def test_value_set_equals_pa_array(values: list[Any], arrow_type: pa.DataType) -> None:
    assert value_set(values, arrow_type).equals(pa.array(values, type=arrow_type))


def test_integer_compare_is_exact_outside_the_range_of_the_type() -> None:
    values = pa.array([0, 255, None], type=pa.uint8())
    assert integer_compare("greater_equal", values, -1).to_pylist() == [True, True, None]
    assert integer_compare("less", values, 256).to_pylist() == [True, True, None]
    assert integer_compare("greater", values, 300).to_pylist() == [False, False, None]
    assert integer_compare("less_equal", values, 254).to_pylist() == [True, False, None]
    assert integer_compare("less", pa.array([1.0]), 2) is None


def test_type_words_for_messages() -> None:
    assert is_text(pa.large_string(), t) and not is_text(pa.binary(), t)
    assert holds(pa.int8()) == "integers"
    assert holds(pa.bool_()) == "booleans"
