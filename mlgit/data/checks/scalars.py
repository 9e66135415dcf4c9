"""Arrow scalars and small arrays built from the schema's Python values, and type tests.

pa.array and pa.scalar import pandas (~0.3 s, a third of reading 5M rows) to ask whether their
input is a pandas object; the constants of the rules are built from buffers here instead, and
the rules take them from this module only.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from mlgit.data.arrays import from_int64s

if TYPE_CHECKING:
    import pyarrow as pa

EPOCH = dt.datetime(1970, 1, 1)  # dates and datetimes are measured from here, as Unix time
PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def is_text(arrow_type: pa.DataType, t: Any) -> bool:
    return t.is_string(arrow_type) or t.is_large_string(arrow_type) or t.is_string_view(arrow_type)


def scalar(value: Any, column_type: pa.DataType | None = None) -> Any:
    """A bound from the schema file as an Arrow scalar comparable with the column."""
    import pyarrow as pa
    import pyarrow.types as t

    if isinstance(value, dt.datetime):
        if column_type is not None and t.is_timestamp(column_type):
            return _timestamp(value, column_type)
        return _timestamp(value, pa.timestamp("us"))
    if isinstance(value, dt.date) and column_type is not None and t.is_timestamp(column_type):
        return scalar(dt.datetime.combine(value, dt.time()), column_type)
    known = _plain_values([value])
    return known[0] if known is not None else pa.scalar(value)


def _timestamp(value: dt.datetime, arrow_type: pa.DataType) -> pa.Scalar:
    """What pa.scalar(value, type=arrow_type) gives: aware values are stored as UTC."""
    import numpy as np
    import pyarrow as pa

    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    micros = (value - EPOCH) // dt.timedelta(microseconds=1)
    ticks = micros * PER_SECOND[arrow_type.unit] // 1_000_000
    data = pa.py_buffer(np.array([ticks], dtype=np.int64))
    return pa.Array.from_buffers(arrow_type, 1, [None, data])[0]


def _plain_values(values: list[Any]) -> pa.Array | None:
    """`values` as an int64, float64 or string array when they are all of that Python type
    (bools excluded), else None: the caller falls back to pa.array."""
    import numpy as np
    import pyarrow as pa

    if not values:
        return None
    kinds = {type(v) for v in values}
    if kinds == {int} and all(-(2**63) <= v < 2**63 for v in values):
        return from_int64s(np.array(values, dtype=np.int64))
    if kinds == {float}:
        data = pa.py_buffer(np.array(values, dtype=np.float64))
        return pa.Array.from_buffers(pa.float64(), len(values), [None, data])
    if kinds == {str}:
        encoded = [v.encode("utf-8") for v in values]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
        return pa.Array.from_buffers(pa.large_string(), len(values), buffers).cast(pa.string())
    return None


def value_set(values: list[Any], column_type: pa.DataType) -> pa.Array:
    """pa.array(values, type=column_type), built from buffers when the kinds match."""
    import pyarrow as pa
    import pyarrow.types as t

    plain = _plain_values(values)
    if plain is not None:
        same_kind = (
            (t.is_integer(plain.type) and t.is_integer(column_type))
            or (t.is_floating(plain.type) and t.is_floating(column_type))
            or (t.is_string(plain.type) and is_text(column_type, t))
        )
        if same_kind:
            return plain.cast(column_type)  # a value out of range raises, as pa.array does
    return pa.array(values, type=column_type)


def null_of(arrow_type: pa.DataType) -> pa.Scalar:
    """A null scalar (a Python None given to a kernel imports pandas, ~0.3 s)."""
    import pyarrow as pa

    return pa.nulls(1, arrow_type)[0]


def null_bool() -> pa.Scalar:
    import pyarrow as pa

    return pa.nulls(1, pa.bool_())[0]


def integer_compare(kernel: str, values: pa.Array, bound: Any) -> pa.Array | None:
    """`kernel(values, bound)` for an integer column and a Python int bound, exact over the
    whole range of the column's type (uint64 up to 2**64-1), or None for other kinds."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as t

    if not t.is_integer(values.type) or isinstance(bound, bool) or not isinstance(bound, int):
        return None
    info = np.iinfo(
        f"{'u' if t.is_unsigned_integer(values.type) else ''}int{values.type.bit_width}"
    )
    if info.min <= bound <= info.max:
        data = pa.py_buffer(np.array([bound], dtype=info.dtype))
        exact = pa.Array.from_buffers(values.type, 1, [None, data])[0]
        return getattr(pc, kernel)(values, exact)
    # the bound is outside what the type holds: every value is on the same side of it
    valid = values.is_valid()
    all_pass = (bound < info.min) == (kernel in ("greater_equal", "greater"))
    return pc.if_else(valid, valid if all_pass else pc.invert(valid), null_bool())


def holds(arrow_type: pa.DataType) -> str:
    """What a column of `arrow_type` holds, in the schema's words, for error messages."""
    from mlgit.data.schema import field_type

    kind = field_type(arrow_type)
    return {"any": f"{arrow_type} values", "boolean": "booleans", "datetime": "datetimes"}.get(
        kind, f"{kind}s"
    )
