"""Arrow arrays <-> numpy, straight from the Arrow buffers.

`pa.array`, `pa.scalar` and `Array.to_numpy` import pandas (~0.3 s) to ask whether their input
is a pandas object; validate and profile do not need pandas, so they convert here instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def decoded(array: pa.Array) -> pa.Array:
    """A dictionary-encoded array as plain values (dictionaries differ from batch to batch)."""
    import pyarrow as pa

    return array.dictionary_decode() if pa.types.is_dictionary(array.type) else array


def as_numpy(values: pa.Array, dtype: str) -> np.ndarray:
    """`values` cast to int64 or float64 as numpy, nulls read as 0."""
    import numpy as np
    import pyarrow as pa

    values = values.cast(pa.int64() if dtype == "int64" else pa.float64())
    data = values.buffers()[1]
    if not len(values) or data is None:
        return np.zeros(len(values), dtype=dtype)
    out = np.frombuffer(data, dtype=dtype, count=len(values), offset=values.offset * 8)
    if values.null_count:
        out = out.copy()  # the bytes under a null are unspecified
        out[int64s(values.is_null()).astype(bool)] = 0
    return out


def int64s(values: pa.Array) -> np.ndarray:
    """`values` as int64 numpy, nulls read as 0."""
    return as_numpy(values, "int64")


def numbers(array: pa.Array) -> np.ndarray:
    """float64 values of a numeric/temporal column; nulls become NaN."""
    import numpy as np
    import pyarrow as pa

    array = decoded(array)
    if pa.types.is_temporal(array.type):
        array = array.cast(pa.int64() if array.type.bit_width == 64 else pa.int32())
    array = array.cast(pa.float64(), safe=False)  # ints beyond 2**53 round, as in numpy
    validity, data = array.buffers()[:2]
    values = np.frombuffer(data, dtype=np.float64, count=len(array), offset=array.offset * 8)
    if array.null_count == 0:
        return values
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    return np.where(bits[array.offset : array.offset + len(array)].astype(bool), values, np.nan)


def from_int64s(values: np.ndarray) -> pa.Array:
    """A numpy integer array as Arrow int64."""
    import numpy as np
    import pyarrow as pa

    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])
