"""What a Parquet row group's statistics prove about a column without reading its pages.

A footer holds, per row group and column, the null count and the least and greatest value.
When they show that a row rule passes on every value (`minimum` with the least value above
the bound, `enum` over a column holding one value, `required` with no nulls), the column's
data need not be read: the check counts its values (rows - nulls) and has nothing to report.

Statistics are used only when they prove it; anything unsure reads the column:
- float columns never: NaN is a missing value to every rule (conform.py) but Parquet does not
  count it, and writers leave it out of min/max, so neither the counts nor the bounds hold;
- bounds only of integers, decimals, dates and timestamps (orders Parquet and Arrow share);
  text and booleans settle `enum` alone, when min == max (a truncated bound never equals
  the other, and equality needs no order);
- the stored type must be the one the Arrow schema reads (integer width and sign, decimal
  precision and scale, timestamp unit and UTC flag; INT96 has none), else nothing is known.

The rule itself is then run on the two values, as the column's Arrow type, so the shortcut
agrees with a full read on every kernel detail (casts, time zones, out-of-range bounds).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgit.data.checks.conform import keeps
from mlgit.data.checks.scalars import is_text, value_set
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mlgit.data.checks.base import Proof

Passes = Callable[["pa.RecordBatch"], "pa.Array | None"]


@dataclass(frozen=True)
class ChunkStatistics:
    """One column chunk's statistics, trusted, in the column's Arrow terms."""

    rows: int
    nulls: int
    arrow_type: pa.DataType  # as the Arrow schema reads the column (maybe a dictionary)
    values: pa.Array | None  # [min, max] as the column's value type; None: no non-null value
    ordered: bool = False  # min and max bound the values in the order the rules compare
    dictionary: pa.Array | None = None  # every distinct value (the chunk's dictionary page)

    @property
    def value_type(self) -> pa.DataType:
        import pyarrow.types as t

        return self.arrow_type.value_type if t.is_dictionary(self.arrow_type) else self.arrow_type


def flat_chunks(
    group: pq.RowGroupMetaData, arrow_schema: pa.Schema
) -> dict[str, tuple[pq.ColumnChunkMetaData, pa.DataType]]:
    """The row group's chunks of top-level columns of a flat Arrow type, by column name (a
    name found twice, e.g. a column "a.b" beside a struct "a" with a field "b", is left out)."""
    import pyarrow.types as t

    types: dict[str, pa.DataType] = {}
    twice = set()
    for field in arrow_schema:
        if field.name in types:
            twice.add(field.name)
        types[field.name] = field.type
    chunks = {}
    for index in range(group.num_columns):
        chunk = group.column(index)
        path = chunk.path_in_schema
        if path in chunks:
            twice.add(path)
        chunks[path] = chunk
    return {
        name: (chunks[name], kind)
        for name, kind in types.items()
        if name in chunks and name not in twice and not t.is_nested(kind)
    }


def chunk_statistics(
    chunk: pq.ColumnChunkMetaData, rows: int, arrow_type: pa.DataType
) -> ChunkStatistics | None:
    """The statistics of `chunk` (a row group of `rows`), or None when there are none or they
    cannot be trusted for `arrow_type`."""
    import pyarrow as pa
    import pyarrow.types as t

    if rows == 0:
        return ChunkStatistics(0, 0, arrow_type, None)
    stats = chunk.statistics
    if stats is None or not stats.has_null_count or not 0 <= stats.null_count <= rows:
        return None
    value_type = arrow_type.value_type if t.is_dictionary(arrow_type) else arrow_type
    if t.is_floating(value_type):
        return None  # NaN: not counted as null by Parquet, but missing to every rule
    if stats.null_count == rows:
        return ChunkStatistics(rows, rows, arrow_type, None)
    if not stats.has_min_max:
        return None
    for matches, build, ordered in _KINDS:
        if matches(value_type):
            try:
                values = build(stats, value_type)
            except (ValueError, TypeError, OverflowError, pa.ArrowException):
                return None  # a value the type cannot hold: not statistics to trust
            if values is None:
                return None
            return ChunkStatistics(rows, stats.null_count, arrow_type, values, ordered)
    return None


# A writer falls back from dictionary to plain pages only when the dictionary outgrows its
# page limit (1 MiB in Arrow, arrow-rs/Polars and parquet-mr/Spark by default; DuckDB decides
# per chunk and never falls back), so a dictionary page well under it is complete: it lists
# every value of the chunk. A writer set to a limit under this size could fall back with a
# smaller page; the chunk's min and max must then also be in the dictionary (a value written
# after the fallback rarely is), see `with_dictionary`.
COMPLETE_DICTIONARY_BYTES = 64 << 10


def complete_dictionary(chunk: pq.ColumnChunkMetaData) -> bool:
    """Whether the chunk is dictionary-encoded with a dictionary page small enough that no
    value can have been written outside it (see COMPLETE_DICTIONARY_BYTES)."""
    from mlgit.data.readers import dictionary_page_bytes

    size = dictionary_page_bytes(chunk)
    return size is not None and 0 < size <= COMPLETE_DICTIONARY_BYTES


def with_dictionary(
    chunk: pq.ColumnChunkMetaData, rows: int, arrow_type: pa.DataType, dictionary: pa.Array
) -> ChunkStatistics | None:
    """Statistics of a dictionary-encoded chunk from its dictionary (the values) and its null
    count: what an `enum` needs when min and max differ. The chunk's min and max must be in
    the dictionary too: a dictionary cut short by a writer's fallback to plain pages rarely
    holds both."""
    stats = chunk.statistics
    if stats is None or not stats.has_null_count or not 0 <= stats.null_count <= rows:
        return None
    if stats.null_count < rows:
        if not stats.has_min_max:
            return None
        members = set(dictionary.to_pylist())
        if stats.min not in members or stats.max not in members:
            return None
    import pyarrow.types as t

    value_type = arrow_type.value_type if t.is_dictionary(arrow_type) else arrow_type
    if not dictionary.type.equals(value_type) or dictionary.null_count:
        return None
    return ChunkStatistics(rows, stats.null_count, arrow_type, None, dictionary=dictionary)


def proven(proof: Proof, passes: Passes, column: str, stats: ChunkStatistics, ftype: str) -> bool:
    """Whether `stats` prove that a row rule (`passes`, on `column` of a `ftype` field) holds
    for every value of the chunk, so a full read would count rows - nulls values, no failure."""
    import pyarrow as pa

    if not keeps(stats.arrow_type, ftype):
        return False  # converted values: the statistics describe the stored ones
    try:
        return PROOFS[proof](passes, column, stats)
    except (MlgitError, pa.ArrowException, ArithmeticError, ValueError, TypeError):
        return False  # the rule cannot run on this type: the full read reports it


def _within_bounds(passes: Passes, column: str, stats: ChunkStatistics) -> bool:
    if stats.values is None:
        return _no_value_fails(passes, column, stats)
    return stats.ordered and _all_pass(passes, column, stats.values)


def _one_value(passes: Passes, column: str, stats: ChunkStatistics) -> bool:
    if stats.dictionary is not None:  # every value the chunk holds is one of these
        return len(stats.dictionary) > 0 and _all_pass(passes, column, stats.dictionary)
    if stats.values is None:
        return _no_value_fails(passes, column, stats)
    low, high = stats.values[0], stats.values[1]
    return low.equals(high) and _all_pass(passes, column, stats.values.slice(0, 1))


PROOFS: dict[str, Callable[[Passes, str, ChunkStatistics], bool]] = {
    "bounds": _within_bounds,
    "one value": _one_value,
    "no nulls": lambda passes, column, stats: stats.nulls == 0,
    "kept": lambda passes, column, stats: True,
}


def _all_pass(passes: Passes, column: str, values: pa.Array) -> bool:
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = passes(pa.RecordBatch.from_arrays([values], names=[column]))
    return mask is not None and mask.null_count == 0 and bool(pc.all(mask).as_py())


def _no_value_fails(passes: Passes, column: str, stats: ChunkStatistics) -> bool:
    """A chunk of nulls (or no rows): nothing is counted, provided the rule runs on the type
    at all (when it raises, the full read raises the same)."""
    import pyarrow as pa

    mask = passes(pa.RecordBatch.from_arrays([pa.nulls(1, stats.value_type)], names=[column]))
    return mask is not None and mask.null_count == len(mask)


# ---------------------------------------------------------------- [min, max] as Arrow values
def _logical(stats: Any) -> dict[str, Any]:
    return json.loads(stats.logical_type.to_json())


def _from_buffer(arrow_type: pa.DataType, data: bytes) -> pa.Array:
    import pyarrow as pa

    return pa.Array.from_buffers(arrow_type, 2, [None, pa.py_buffer(data)])


def _integers(stats: Any, arrow_type: pa.DataType) -> pa.Array | None:
    import numpy as np
    import pyarrow.types as t

    logical = _logical(stats)
    unsigned = t.is_unsigned_integer(arrow_type)
    physical = "INT64" if arrow_type.bit_width == 64 else "INT32"
    if logical["Type"] == "Int":
        if logical["isSigned"] == unsigned:
            return None
    elif logical["Type"] != "None" or unsigned:
        return None
    if stats.physical_type != physical:
        return None
    dtype = np.dtype(f"{'u' if unsigned else ''}int{arrow_type.bit_width}")
    info = np.iinfo(dtype)
    low, high = stats.min, stats.max
    if not (info.min <= low <= high <= info.max):
        return None
    return _from_buffer(arrow_type, np.array([low, high], dtype=dtype).tobytes())


def _dates(stats: Any, arrow_type: pa.DataType) -> pa.Array | None:
    import numpy as np

    if stats.physical_type != "INT32" or _logical(stats)["Type"] != "Date":
        return None
    low, high = stats.min_raw, stats.max_raw
    return _from_buffer(arrow_type, np.array([low, high], dtype=np.int32).tobytes())


_UNITS = {"milliseconds": "ms", "microseconds": "us", "nanoseconds": "ns"}


def _timestamps(stats: Any, arrow_type: pa.DataType) -> pa.Array | None:
    import numpy as np

    if stats.physical_type != "INT64":  # INT96 (Spark's old timestamps) has no order
        return None
    logical = _logical(stats)
    if logical["Type"] != "Timestamp" or _UNITS.get(logical["timeUnit"]) != arrow_type.unit:
        return None
    if logical["isAdjustedToUTC"] != (arrow_type.tz is not None):
        return None
    low, high = stats.min_raw, stats.max_raw
    return _from_buffer(arrow_type, np.array([low, high], dtype=np.int64).tobytes())


def _decimals(stats: Any, arrow_type: pa.DataType) -> pa.Array | None:
    logical = _logical(stats)
    if logical["Type"] != "Decimal" or (logical["precision"], logical["scale"]) != (
        arrow_type.precision,
        arrow_type.scale,
    ):
        return None
    unscaled = [_unscaled(raw) for raw in (stats.min_raw, stats.max_raw)]
    if not all(abs(u) < 10**arrow_type.precision for u in unscaled):
        return None
    width = arrow_type.byte_width
    data = b"".join(u.to_bytes(width, "little", signed=True) for u in unscaled)
    return _from_buffer(arrow_type, data)


def _unscaled(raw: Any) -> int:
    """A decimal's unscaled integer: INT32/INT64 as is, bytes big-endian two's complement."""
    if isinstance(raw, bytes):
        return int.from_bytes(raw, "big", signed=True)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise TypeError(f"decimal statistics of {type(raw).__name__}")
    return raw


def _text(stats: Any, arrow_type: pa.DataType) -> pa.Array | None:
    if stats.physical_type != "BYTE_ARRAY" or _logical(stats)["Type"] != "String":
        return None
    low, high = stats.min, stats.max
    if not (isinstance(low, str) and isinstance(high, str)):
        return None
    return value_set([low, high], arrow_type)


def _booleans(stats: Any, arrow_type: pa.DataType) -> pa.Array | None:
    import pyarrow as pa

    if stats.physical_type != "BOOLEAN":
        return None
    low, high = stats.min, stats.max
    if not (isinstance(low, bool) and isinstance(high, bool)):
        return None
    bits = bytes([int(low) | int(high) << 1])
    return pa.Array.from_buffers(pa.bool_(), 2, [None, pa.py_buffer(bits)])


def _is(name: str, text: bool = False) -> Callable[[pa.DataType], bool]:
    def matches(arrow_type: pa.DataType) -> bool:
        import pyarrow.types as t

        return is_text(arrow_type, t) if text else getattr(t, name)(arrow_type)

    return matches


# (the Arrow types it reads, how to build [min, max], whether min/max order the values)
_KINDS: tuple[tuple[Callable[[pa.DataType], bool], Callable[..., pa.Array | None], bool], ...] = (
    (_is("is_integer"), _integers, True),
    (_is("is_decimal"), _decimals, True),
    (_is("is_date32"), _dates, True),
    (_is("is_timestamp"), _timestamps, True),
    (_is("", text=True), _text, False),
    (_is("is_boolean"), _booleans, False),
)
