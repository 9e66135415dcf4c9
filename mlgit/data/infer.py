"""`mlgit schema infer` and `mlgit track`: a dataset schema from the data, in one pass.

Types (widened across the files of a directory where they differ), required, ranges, lengths,
enums for low-cardinality strings and unique keys, as observed; the schema it returns is the
one `data/schema.py` loads, so inferred data always passes its own inferred schema.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlgit.data.schema import (
    ENUM_LIMIT,
    Constraints,
    Expectation,
    Field,
    TableSchema,
    duplicate_column_error,
    field_type,
)
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import pyarrow as pa

    from mlgit.data.io import Source


def infer_schema(source: Source, enum_limit: int = ENUM_LIMIT) -> TableSchema:
    """Types, required, ranges, enums and unique keys as observed in one pass over the data."""
    from mlgit.data.io import scan

    arrow_schema, widened = _common_schema(source)
    names = list(arrow_schema.names)
    observed = scan(
        source,
        lambda: _Observer(names, enum_limit, widened),
        column_types=widened if source.format == "csv" else None,
    )
    if source.format == "csv":  # pyarrow reads text that is not UTF-8 as bytes: say so
        import pyarrow.types as t

        from mlgit.data.io import not_utf8

        for name in names:
            found = observed.types[name]
            problem = not_utf8(source, name) if found is not None and t.is_binary(found) else None
            if problem is not None:
                raise problem
    fields = tuple(
        _inferred_field(name, observed.types[name], observed.stats[name], observed.rows, enum_limit)
        for name in names
    )
    expectations = (Expectation("columns", (("columns", tuple(names)),)),)
    return TableSchema(fields=fields, expectations=expectations)


def _common_schema(source: Source) -> tuple[pa.Schema, dict[str, pa.DataType]]:
    """The Arrow schema every file of `source` shares, widened where types differ by file
    (int -> float, or text for CSV), and the columns so widened with their types.

    MlgitError naming the file and the column when the files do not have the same columns, or
    when a column's types cannot be widened to one."""
    import pyarrow as pa
    import pyarrow.types as t

    from mlgit.data.io import Source as _Source
    from mlgit.data.io import read_schema

    first = read_schema(source)
    problem = duplicate_column_error(_where(source, source.files[0]), list(first.names))
    if problem:
        raise problem
    types = {f.name: f.type for f in first}
    for data_file in source.files[1:]:
        where = _where(source, data_file)
        schema = read_schema(_Source(source.label, (data_file,), source.format))
        problem = duplicate_column_error(where, list(schema.names))
        if problem:
            raise problem
        missing = [n for n in first.names if n not in schema.names]
        extra = [n for n in schema.names if n not in first.names]
        if missing or extra:
            what = f"has no column {missing[0]!r}" if missing else f"has a column {extra[0]!r}"
            raise MlgitError(
                f"{where}: {what} that {source.files[0].relpath} "
                f"{'has' if missing else 'has not'}; the files of a dataset must have the same "
                "columns: fix the file or validate the files apart"
            )
        for f in schema:
            mine = types[f.name]
            if f.type == mine or t.is_null(f.type):
                continue
            if t.is_null(mine):
                types[f.name] = f.type
            elif field_type(f.type) in ("integer", "number") and field_type(mine) in (
                "integer",
                "number",
            ):
                types[f.name] = pa.float64()
            elif source.format == "csv":
                types[f.name] = pa.string()
            else:
                raise MlgitError(
                    f"{where}: column {f.name!r} is {f.type} here and {mine} in "
                    f"{source.files[0].relpath}; write every file with one type per column"
                )
    widened = {n: ty for n, ty in types.items() if ty != first.field(n).type}
    schema = pa.schema([pa.field(n, types[n]) for n in first.names])
    return schema, widened


def _where(source: Source, data_file: Any) -> str:
    from mlgit.data.units import file_label

    return file_label(source.label, len(source.files) == 1, data_file)


@dataclass
class _ColumnStats:
    nulls: int = 0
    minimum: Any = None
    maximum: Any = None
    min_length: int | None = None
    max_length: int | None = None
    distinct: set | None = field(default_factory=set)  # None once over the enum limit
    keys: list = field(default_factory=list)  # arrays, for the uniqueness test at the end


class _Observer:
    """The accumulator behind `infer_schema` (mergeable, as every scan state)."""

    def __init__(
        self, names: list[str], enum_limit: int, widened: dict[str, pa.DataType] | None = None
    ) -> None:
        self.names = names
        self.enum_limit = enum_limit
        self.rows = 0
        self.types: dict[str, pa.DataType | None] = dict.fromkeys(names)
        self.stats = {name: _ColumnStats() for name in names}
        self.wanted = dict(widened or {})  # columns whose files differ: read as one type

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.types as t

        from mlgit.data.arrays import decoded

        self.rows += batch.num_rows
        for name in self.names:
            # dictionaries (pandas Categorical) differ from batch to batch: plain values
            column = decoded(batch.column(name))
            wanted = self.wanted.get(name)
            if wanted is not None and column.type != wanted and not t.is_null(wanted):
                try:
                    column = column.cast(wanted)  # files of a directory widened to one type
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    # wider than the first block said (a CSV column io widened): keep it
                    self.wanted[name] = column.type
            if self.types[name] is None or self.types[name] == _null_type():
                self.types[name] = column.type
            stats = self.stats[name]
            stats.nulls += column.null_count
            if t.is_floating(column.type) and column.null_count < len(column):
                # NaN is a missing value, as in validate (and pandera, Great Expectations)
                stats.nulls += pc.sum(pc.is_nan(column)).as_py() or 0
            kind = field_type(column.type)
            if column.null_count == len(column):
                continue
            if kind in ("integer", "number", "date", "datetime"):
                low, high = (pc.min_max(column)[k] for k in ("min", "max"))
                stats.minimum = _lesser(stats.minimum, _bound(low, up=False))
                stats.maximum = _greater(stats.maximum, _bound(high, up=True))
            if kind == "string":
                lengths = pc.min_max(pc.utf8_length(column))
                stats.min_length = _lesser(stats.min_length, lengths["min"].as_py())
                stats.max_length = _greater(stats.max_length, lengths["max"].as_py())
            if kind in ("string", "integer"):
                stats.keys.append(column.drop_null())
            if stats.distinct is not None and kind in ("string", "boolean"):
                stats.distinct.update(pc.unique(column.drop_null()).to_pylist())
                if len(stats.distinct) > self.enum_limit:
                    stats.distinct = None

    def merge(self, other: _Observer) -> None:
        self.rows += other.rows
        for name in self.names:
            mine, theirs = self.stats[name], other.stats[name]
            mine.nulls += theirs.nulls
            mine.minimum = _lesser(mine.minimum, theirs.minimum)
            mine.maximum = _greater(mine.maximum, theirs.maximum)
            mine.min_length = _lesser(mine.min_length, theirs.min_length)
            mine.max_length = _greater(mine.max_length, theirs.max_length)
            mine.keys += theirs.keys
            if mine.distinct is None or theirs.distinct is None:
                mine.distinct = None
            else:
                mine.distinct |= theirs.distinct
                if len(mine.distinct) > self.enum_limit:
                    mine.distinct = None


def _null_type() -> pa.DataType:
    import pyarrow as pa

    return pa.null()


def _lesser(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _greater(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _inferred_field(
    name: str, arrow_type: pa.DataType | None, stats: _ColumnStats, rows: int, enum_limit: int
) -> Field:
    kind = field_type(arrow_type) if arrow_type is not None else "any"
    values: dict[str, Any] = {}
    if rows and stats.nulls == 0:
        values["required"] = True
    keyed = kind in ("integer", "string") and rows - stats.nulls > 1
    if keyed and _all_unique(stats.keys):
        values["unique"] = True
    if kind in ("integer", "number", "date", "datetime") and stats.minimum is not None:
        values["minimum"] = _plain(stats.minimum)
        if not (kind == "integer" and values.get("unique") and values.get("required")):
            # a unique, never-null integer is a key: new rows get new, larger ids
            values["maximum"] = _plain(stats.maximum)
    if kind == "string" and stats.min_length is not None:
        distinct = stats.distinct
        if distinct is not None and 0 < len(distinct) <= enum_limit and not values.get("unique"):
            values["enum"] = tuple(sorted(distinct))
        else:
            values["minLength"] = stats.min_length
            values["maxLength"] = stats.max_length
    return Field(name=name, type=kind, constraints=Constraints(**values))


def _bound(scalar: pa.Scalar, up: bool) -> Any:
    """An observed min (or max, `up`) as Python; timestamps finer than the microseconds a
    datetime holds are rounded outwards, so the data passes the bound written from it."""
    import pyarrow.types as t

    if not scalar.is_valid:
        return None
    if t.is_timestamp(scalar.type):
        ticks = scalar.cast(_int64()).as_py()
        per_micro = {"s": 1e-6, "ms": 1e-3, "us": 1, "ns": 1000}[scalar.type.unit]
        if per_micro >= 1:
            micros = -(-ticks // per_micro) if up else ticks // per_micro
        else:
            micros = ticks * round(1 / per_micro)
        return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(micros))
    return scalar.as_py()


def _int64() -> pa.DataType:
    import pyarrow as pa

    return pa.int64()


def _plain(value: Any) -> Any:
    """Observed bounds as YAML writes them: no numpy scalars, no time zones, finite floats."""

    if isinstance(value, decimal.Decimal):  # YAML has no decimals: the nearest int or float
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "to_pydatetime"):  # pyarrow gives pandas Timestamps for nanoseconds
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _all_unique(chunks: list) -> bool:
    import pyarrow as pa
    import pyarrow.compute as pc

    if len({chunk.type for chunk in chunks}) > 1:  # a CSV column widened after its first batches
        chunks = [chunk.cast(pa.string()) for chunk in chunks]
    values = pa.chunked_array(chunks)
    return pc.count_distinct(values).as_py() == len(values)
