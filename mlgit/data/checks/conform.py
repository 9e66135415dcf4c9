"""Conversion of each batch to the schema's field types, and the hidden columns it adds.

`conform_batch` runs once per batch before any check sees it. For every typed field it replaces
the column with its values as the field's type (a value that does not convert becomes null, so
the value rules skip it) and adds hidden columns that travel in the batch beside the visible ones:

- `\\x00raw:NAME`: the column as read (NaN already null), for the examples of the `type` check;
- `\\x00type-ok:NAME`: a boolean mask "this value converts to the type" (null where the value is
  null); present only when some conversion happened, otherwise every value fits.

Hidden names start with `\\x00`. Only this module knows them: the `type` check (`type_check`),
the presence test of `required` and `primaryKey` (`present`) and custom functions (`visible`,
which drops them) reach them through its functions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlgit.data.checks.base import RowCheck
from mlgit.data.checks.results import ERROR
from mlgit.data.checks.scalars import is_text, null_bool, null_of, scalar, value_set

if TYPE_CHECKING:
    import pyarrow as pa

    from mlgit.data.schema import Field

_HIDDEN = "\x00"  # the prefix of every hidden column
_TYPE_OK = _HIDDEN + "type-ok:"  # "the value converts to the field's type"
_RAW = _HIDDEN + "raw:"  # the value as read, for examples of type failures


def conform_batch(batch: pa.RecordBatch, fields: list[Field]) -> pa.RecordBatch:
    """`batch` with each of `fields` converted to its type, plus the hidden columns."""
    import pyarrow as pa

    if not fields:  # e.g. every column settled from statistics: keep the batch's row count
        return batch
    arrays = dict(zip(batch.schema.names, batch.columns, strict=True))
    for f in fields:
        raw = _nan_as_null(arrays[f.name])
        converted, fits = _conform(raw, f.type)
        if converted is not raw:  # text that reads as NaN is missing too
            converted = _nan_as_null(converted)
        arrays[f.name] = converted
        arrays[_RAW + f.name] = raw
        if fits is not None:
            arrays[_TYPE_OK + f.name] = fits
    return pa.RecordBatch.from_arrays(list(arrays.values()), names=list(arrays))


def type_check(f: Field, sample: int) -> RowCheck:
    """The `type` check of a typed field: counts the values that did not convert."""
    return RowCheck(
        "type",
        f.name,
        _type_ok(f.name),
        severity=f.severity or ERROR,
        sample=sample,
        what=f"are not {f.type} values",
        example_column=_RAW + f.name,
        proof="kept",
    )


@functools.lru_cache(maxsize=256)
def keeps(arrow_type: pa.DataType, ftype: str) -> bool:
    """Whether the rules of a `ftype` field see a column of `arrow_type` as stored: no
    conversion, so every value fits the type (NaN aside, which becomes null in any float
    column). Asked of the converters themselves, on no values, so it cannot disagree."""
    import pyarrow as pa

    if ftype == "any":
        return True
    stored = pa.nulls(0, arrow_type)
    converted, fits = _conform(stored, ftype)
    return converted is stored and fits is None


def _type_ok(name: str) -> Callable[[pa.RecordBatch], pa.Array | None]:
    """The conformer's mask for `name`, or "every non-null value fits" when it made none."""

    def passes(batch: pa.RecordBatch) -> pa.Array | None:
        if _TYPE_OK + name in batch.schema.names:
            return batch.column(_TYPE_OK + name)
        return None  # the column had the type already: every value fits

    return passes


def present(batch: pa.RecordBatch, column: str) -> pa.Array:
    """Which values are there: not null after conversion, or there but of the wrong type
    (the `type` check counts those; `required` and `primaryKey` must not count them again)."""
    import pyarrow.compute as pc

    there = batch.column(column).is_valid()
    if _TYPE_OK + column not in batch.schema.names:
        return there
    # type-ok is null where the value is null: coalesce gives `there` (False) for those
    wrong_type = pc.coalesce(pc.invert(batch.column(_TYPE_OK + column)), there)
    return pc.or_(there, wrong_type)


def visible(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`batch` without the hidden columns: what a user's function sees."""
    return batch.select([n for n in batch.schema.names if not n.startswith(_HIDDEN)])


def _nan_as_null(values: pa.Array) -> pa.Array:
    """NaN is a missing value (as in pandera and Great Expectations): null, so `required`
    counts it and the value rules skip it; `schema infer` counts it the same way."""
    import pyarrow.compute as pc
    import pyarrow.types as t

    if not t.is_floating(values.type) or values.null_count == len(values):
        return values
    nan = pc.is_nan(values)
    if not pc.any(nan).as_py():
        return values
    return pc.if_else(nan, null_of(values.type), values)


def _conform(values: pa.Array, ftype: str) -> tuple[pa.Array, pa.Array | None]:
    """`values` as the field's type, and a mask of which values convert (None: all do).

    Values that do not convert become null in the result, so the other rules skip them and
    the `type` check counts them instead of the run crashing.
    """
    import pyarrow.types as t

    if t.is_dictionary(values.type):
        if ftype == "string" and is_text(values.type.value_type, t):
            return values, None  # kept encoded: the rules run on its dictionary (per_value)
        values = values.cast(values.type.value_type)
    return CONVERTERS[ftype](values, t)


def per_value(column: pa.Array, rule: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """An elementwise `rule` over `column`; over a dictionary column's distinct values only,
    spread back to the rows through its indices (a null index gives a null)."""
    import pyarrow.types as t

    if t.is_dictionary(column.type):
        return rule(column.dictionary).take(column.indices)
    return rule(column)


def _fits_after(values: pa.Array, converted: pa.Array) -> pa.Array:
    """The type-ok mask: a non-null value that became null did not convert."""
    import pyarrow.compute as pc

    return pc.if_else(values.is_valid(), converted.is_valid(), null_bool())


def _via_text(values: pa.Array, target: pa.DataType, pattern: str) -> tuple[pa.Array, pa.Array]:
    """Cast text whole when every value converts; else cast only the values that look right."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return values.cast(target), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    trimmed = pc.utf8_trim_whitespace(values)
    looks = pc.match_substring_regex(trimmed, pattern)
    candidates = pc.if_else(looks, trimmed, null_of(trimmed.type))
    try:
        converted = candidates.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        converted = _cast_each_chunk(candidates, target)
    return converted, _fits_after(values, converted)


def _cast_each_chunk(values: pa.Array, target: pa.DataType) -> pa.Array:
    """Rare path (a value that looks right but does not cast, e.g. month 13): halve until found."""
    import pyarrow as pa

    if len(values) == 0:
        return pa.nulls(0, target)
    try:
        return values.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if len(values) == 1:
            return pa.nulls(1, target)
    half = len(values) // 2
    parts = [
        _cast_each_chunk(values.slice(0, half), target),
        _cast_each_chunk(values.slice(half), target),
    ]
    return pa.concat_arrays(parts)


_INTEGER = r"^[+-]?\d{1,18}$"
_NUMBER = r"^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|(?i:[+-]?(nan|inf|infinity)))$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_DATETIME = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$"


def _to_integer(values: pa.Array, t: Any) -> tuple[pa.Array, pa.Array | None]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if t.is_integer(values.type):
        return values, None
    if t.is_boolean(values.type):
        return values.cast(pa.int64()), None
    if t.is_floating(values.type) or t.is_decimal(values.type):
        floats = values.cast(pa.float64())
        whole = pc.and_(
            pc.equal(pc.floor(floats), floats), pc.less(pc.abs(floats), scalar(2.0**62))
        )
        converted = pc.if_else(whole, floats, null_of(floats.type)).cast(pa.int64())
        return converted, _fits_after(values, converted)
    if is_text(values.type, t):
        return _via_text(values, pa.int64(), _INTEGER)
    return pa.nulls(len(values), pa.int64()), _fits_after(values, pa.nulls(len(values)))


def _to_number(values: pa.Array, t: Any) -> tuple[pa.Array, pa.Array | None]:
    import pyarrow as pa

    if t.is_integer(values.type) or t.is_floating(values.type) or t.is_decimal(values.type):
        return values, None
    if is_text(values.type, t):
        return _via_text(values, pa.float64(), _NUMBER)
    return pa.nulls(len(values), pa.float64()), _fits_after(values, pa.nulls(len(values)))


_TRUE = ("true", "True", "TRUE", "1")
_FALSE = ("false", "False", "FALSE", "0")


def _to_boolean(values: pa.Array, t: Any) -> tuple[pa.Array, pa.Array | None]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if t.is_boolean(values.type):
        return values, None
    if t.is_integer(values.type):
        known = pc.is_in(values, value_set([0, 1], values.type))
        converted = pc.if_else(known, pc.equal(values, value_set([1], values.type)[0]), null_bool())
        return converted, _fits_after(values, converted)
    if is_text(values.type, t):
        trimmed = pc.utf8_trim_whitespace(values)
        truthy = pc.is_in(trimmed, value_set(list(_TRUE), pa.string()))
        falsy = pc.is_in(trimmed, value_set(list(_FALSE), pa.string()))
        converted = pc.if_else(pc.or_(truthy, falsy), truthy, null_bool())
        return converted, _fits_after(values, converted)
    return pa.nulls(len(values), pa.bool_()), _fits_after(values, pa.nulls(len(values)))


def _to_date(values: pa.Array, t: Any) -> tuple[pa.Array, pa.Array | None]:
    import pyarrow as pa

    if t.is_date(values.type):
        return values, None
    if t.is_timestamp(values.type):
        return values.cast(pa.date32()), None
    if is_text(values.type, t):
        return _via_text(values, pa.date32(), _DATE)
    return pa.nulls(len(values), pa.date32()), _fits_after(values, pa.nulls(len(values)))


def _to_datetime(values: pa.Array, t: Any) -> tuple[pa.Array, pa.Array | None]:
    import pyarrow as pa

    if t.is_timestamp(values.type):
        return values, None
    if t.is_date(values.type):
        return values.cast(pa.timestamp("us")), None
    if is_text(values.type, t):
        return _text_to_datetime(values)
    return pa.nulls(len(values), pa.timestamp("us")), _fits_after(values, pa.nulls(len(values)))


_OFFSET = r"(Z|[+-]\d{2}:?\d{2})\s*$"


def _text_to_datetime(values: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """Naive text as naive timestamps; text with `Z` or `+hh:mm` as UTC instants. A column
    that mixes both reads its naive values as UTC (pyarrow refuses offsets in a naive cast)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    naive, utc = pa.timestamp("us"), pa.timestamp("us", tz="UTC")
    aware = pc.match_substring_regex(values, _OFFSET)
    count = pc.sum(aware).as_py() or 0
    if not count:
        return _via_text(values, naive, _DATETIME)
    if count == len(values) - values.null_count:
        return _via_text(values, utc, _DATETIME)
    null = null_of(values.type)
    with_offset, _ = _via_text(pc.if_else(aware, values, null), utc, _DATETIME)
    without, _ = _via_text(pc.if_else(aware, null, values), naive, _DATETIME)
    converted = pc.if_else(aware, with_offset, without.cast(utc))
    return converted, _fits_after(values, converted)


def _to_string(values: pa.Array, t: Any) -> tuple[pa.Array, pa.Array | None]:
    import pyarrow as pa

    if is_text(values.type, t):
        return values, None
    try:
        return values.cast(pa.string()), None
    except pa.ArrowInvalid:  # bytes that are not UTF-8: those values are not strings
        converted = _cast_each_chunk(values, pa.string())
    except pa.ArrowNotImplementedError:  # nested values have no text form
        converted = pa.nulls(len(values), pa.string())
    return converted, _fits_after(values, converted)


def _as_is(values: pa.Array, t: Any) -> tuple[pa.Array, pa.Array | None]:
    return values, None


CONVERTERS: dict[str, Callable[[pa.Array, Any], tuple[pa.Array, pa.Array | None]]] = {
    "integer": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
    "date": _to_date,
    "datetime": _to_datetime,
    "string": _to_string,
    "any": _as_is,
}
