"""Column kinds (numeric, categorical, null, other) and Arrow temporal types as a profile writes
them, so a column read in another time unit than its reference's is profiled in the reference's."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

NUMERIC, CATEGORICAL, NULL, OTHER = "numeric", "categorical", "null", "other"


def column_kind(dtype: pa.DataType) -> str:
    """numeric | categorical | null | other (nested, binary: counted, not compared)."""
    import pyarrow as pa

    t = pa.types
    if t.is_dictionary(dtype):
        return column_kind(dtype.value_type)
    if t.is_boolean(dtype) or t.is_string(dtype) or t.is_large_string(dtype):
        return CATEGORICAL
    if t.is_integer(dtype) or t.is_floating(dtype) or t.is_decimal(dtype) or t.is_temporal(dtype):
        return NUMERIC
    if t.is_null(dtype):
        return NULL
    return OTHER


TEMPORAL_TYPE = re.compile(  # an Arrow temporal type as a profile's `type` writes it
    r"(timestamp|date32|date64|time32|time64|duration)\[(\w+)(?:, tz=(.+))?\]"
)
_TIME_FAMILY = {"timestamp": 0, "date32": 0, "date64": 0, "time32": 1, "time64": 1, "duration": 2}


def _temporal_type(text: str) -> pa.DataType | None:
    """The Arrow type a profile's `type` names, for temporal types (else None)."""
    import pyarrow as pa

    found = TEMPORAL_TYPE.fullmatch(text)
    if found is None:
        return None
    name, unit, tz = found.groups()
    if name == "timestamp":
        return pa.timestamp(unit, tz)
    if name in ("date32", "date64"):
        return pa.date32() if name == "date32" else pa.date64()
    return getattr(pa, name)(unit)


def in_reference_unit(dtype: pa.DataType, reference_type: str) -> pa.DataType | None:
    """The reference's type when `dtype` keeps the same kind of time in another unit (ms vs us,
    a date vs a timestamp): profiled as stored, every value would look shifted 1000-fold."""
    import pyarrow as pa

    wanted = _temporal_type(reference_type)
    if wanted is None or not pa.types.is_temporal(dtype) or wanted == dtype:
        return None
    same_family = _TIME_FAMILY.get(str(wanted).split("[")[0]) == _TIME_FAMILY.get(
        str(dtype).split("[")[0]
    )
    return wanted if same_family else None


def counts_distinct(dtype: pa.DataType) -> bool:
    """Integer and string columns get a distinct-value sketch (identifiers are of these)."""
    import pyarrow as pa

    value = dtype.value_type if pa.types.is_dictionary(dtype) else dtype
    t = pa.types
    return t.is_integer(value) or t.is_string(value) or t.is_large_string(value)
