"""Mergeable dataset profiles, built batch by batch with bounded memory.

Per column: row and missing counts, min/max, mean and variance as mergeable moments (Chan's
parallel algorithm), quantiles, a histogram, and for categorical columns the top categories.

How the histogram gets its bin edges in one pass, with bounded memory
---------------------------------------------------------------------
Every numeric value goes into a *log-bucket sketch* (UDDSketch): at level 0 the bucket of
`x > 0` is `ceil(ln(x) * 2**20)`, a fixed, data-independent grid with a relative width of
about 1e-6 (negative values mirror it, exact zeros have their own bucket). A column keeps at
most `MAX_BUCKETS` non-empty buckets; when it would hold more, neighbouring buckets merge
pairwise (`key -> ceil(key / 2)`, one level up, twice the relative width). The level chosen is
always the finest one at which *all* data seen fits, so the sketch of a dataset does not depend
on how it was split into batches, files or Dask partitions: two halves merge into the whole.
Memory is `MAX_BUCKETS` counts per column whatever the row count; concentrated data (years,
prices around 1000) stays at a very fine level, heavy tails at a relative width of ~1%.

The reference histogram's edges are quantiles read from the sketch, snapped to bucket
boundaries, plus the lowest and highest boundary: so the reference counts per bin are exact
sums of buckets, and the two outer bins (open ends, below the reference minimum and above its
maximum) are empty in the reference. Current data is profiled with the reference's edges as
its *layout* and binned exactly with `searchsorted`; identical data gives identical counts.

Distinct values (integer and string columns): a K-minimum-values sketch keeps the `DISTINCT_K`
smallest 53-bit hashes of the values seen (splitmix64 for integers, a position-weighted byte sum
for strings). While fewer than `DISTINCT_K` values are distinct the count is exact; beyond, it is
the KMV estimate `(K - 1) / (K-th smallest hash / 2**53)` (standard error ~1/sqrt(K), 1.6%). The K
smallest hashes of a union are the K smallest of the two sketches together: it merges exactly.
Drift uses it to recognise identifier-like columns (ids, emails) that should not be compared.

Missing values: null, NaN and ±inf all count as missing (`null_count`); moments, quantiles and
histograms use the finite values. Temporal columns are profiled as numbers (their integer
representation: epoch units, days). Categorical columns (strings, booleans, dictionaries) keep
exact counts of up to `MAX_TRACKED` distinct values while scanning; beyond that, the rarest go
into `other` (the profile says `truncated: true`); the file keeps the `TOP_K` most frequent.
Two profiles merge exactly while a column has at most `TOP_K` distinct values; beyond, the
counts of the categories listed are lower bounds (the rest are in `other_count`).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.data.arrays import decoded, from_int64s, int64s, numbers
from mlgit.data.io import Source
from mlgit.data.moments import combine
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from mlgit.config import Config, Dataset

SCHEMA_VERSION = 1
SKETCH_SCALE = 2**20  # level-0 buckets are 2**-20 wide in ln(x)
MAX_BUCKETS = 2048
MAX_TRACKED = 10_000
TOP_K = 1000  # categories written per column: merging is exact up to this many distinct values
HISTOGRAM_BINS = 10
DISTINCT_K = 4096
HASH_BITS = 53  # hashes stay exact in any JSON reader (IEEE doubles)
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
NUMERIC, CATEGORICAL, NULL, OTHER = "numeric", "categorical", "null", "other"


# ---------------------------------------------------------------- column kinds
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


def _in_reference_unit(dtype: pa.DataType, reference_type: str) -> pa.DataType | None:
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


def _sum_by_value(chunks: list[tuple[pa.Array, pa.Array]]) -> tuple[pa.Array, pa.Array]:
    """(distinct values, summed counts) of (value, count) chunks whose values repeat.

    A dictionary encoding and a weighted bincount, not `Table.group_by`: that one loads
    pyarrow's query engine, which imports pandas (~0.3 s of a 1 s profile)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(pa.concat_arrays([v for v, _ in chunks]))
    codes = int64s(encoded.indices)
    weights = numbers(pa.concat_arrays([c for _, c in chunks]))  # counts < 2**53: exact
    sums = np.bincount(codes, weights=weights, minlength=len(encoded.dictionary))
    return encoded.dictionary, from_int64s(sums.round())


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """`np.unique` of 1-D numbers without NaN, minus its `np.ma` import (12 ms a process)."""
    import numpy as np

    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if values.size else values


# ---------------------------------------------------------------- the log-bucket sketch
def _ceil_shift(keys: np.ndarray, shift: int) -> np.ndarray:
    """ceil(keys / 2**shift) for int64 keys."""
    return -((-keys) >> shift) if shift else keys


def _distinct(sorted_keys: np.ndarray) -> int:
    import numpy as np

    return 0 if sorted_keys.size == 0 else 1 + int(np.count_nonzero(np.diff(sorted_keys)))


def _aggregate(keys: np.ndarray, counts: np.ndarray | None = None) -> tuple:
    """Sorted unique keys and their summed counts."""
    import numpy as np

    if keys.size == 0:
        return keys.astype(np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    counts = np.ones(keys.size, dtype=np.int64) if counts is None else counts[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.add.reduceat(counts, starts)


def _bincount_aggregate(
    keys: np.ndarray, weights: np.ndarray | None = None, span: int = 1 << 20
) -> tuple | None:
    """Like `_aggregate` in O(n) when the keys span a small range, else None."""
    import numpy as np

    if keys.size == 0:
        return keys, np.zeros(0, dtype=np.int64)
    low = int(keys.min())
    if int(keys.max()) - low >= span:
        return None
    counts = np.bincount(keys - low, weights=weights)
    present = np.flatnonzero(counts)
    return present.astype(np.int64) + low, counts[present].astype(np.int64)


class LogSketch:
    """Mergeable counts on a fixed logarithmic grid; see the module docstring."""

    def __init__(self) -> None:
        import numpy as np

        self.level = 0
        self.pos_keys = np.zeros(0, dtype=np.int64)
        self.pos_counts = np.zeros(0, dtype=np.int64)
        self.neg_keys = np.zeros(0, dtype=np.int64)
        self.neg_counts = np.zeros(0, dtype=np.int64)
        self.zeros = 0

    @property
    def total(self) -> int:
        return int(self.pos_counts.sum() + self.neg_counts.sum()) + self.zeros

    def add(self, values: np.ndarray, counts: np.ndarray | None = None) -> None:
        """Add finite float64 values (each `counts` times, if given)."""
        import numpy as np

        positive, negative = values > 0, values < 0
        pos, neg = values[positive], values[negative]
        cp = None if counts is None else counts[positive]
        cn = None if counts is None else counts[negative]
        # x > 0 goes to (g^(k-1), g^k]; x < 0 to (-g^k, -g^(k-1)]: both bins are right-closed.
        kp = np.ceil(np.log(pos) * SKETCH_SCALE).astype(np.int64)
        kn = np.floor(np.log(-neg) * SKETCH_SCALE).astype(np.int64) + 1
        other = LogSketch()
        total = values.size if counts is None else int(counts.sum())
        other.zeros = total - (pos.size if cp is None else int(cp.sum()))
        other.zeros -= neg.size if cn is None else int(cn.sum())
        # Fast path (most batches after the first): the batch fits at our level; count its
        # buckets with bincount, no sort.
        pos_agg = _bincount_aggregate(_ceil_shift(kp, self.level), cp)
        neg_agg = _bincount_aggregate(_ceil_shift(kn, self.level), cn)
        if (
            pos_agg is not None
            and neg_agg is not None
            and pos_agg[0].size + neg_agg[0].size + 1 <= MAX_BUCKETS
        ):
            other.level = self.level
            (other.pos_keys, other.pos_counts), (other.neg_keys, other.neg_counts) = (
                pos_agg,
                neg_agg,
            )
        else:
            order_p, order_n = np.argsort(kp, kind="stable"), np.argsort(kn, kind="stable")
            kp, kn = kp[order_p], kn[order_n]
            cp = None if cp is None else cp[order_p]
            cn = None if cn is None else cn[order_n]
            other.level = level = self._fitting_level(kp, kn)
            other.pos_keys, other.pos_counts = _aggregate(_ceil_shift(kp, level), cp)
            other.neg_keys, other.neg_counts = _aggregate(_ceil_shift(kn, level), cn)
        self.merge(other)

    def _fitting_level(self, kp: np.ndarray, kn: np.ndarray) -> int:
        """The finest level >= ours at which these sorted level-0 keys fit in MAX_BUCKETS."""

        def fits(level: int) -> bool:
            buckets = _distinct(_ceil_shift(kp, level)) + _distinct(_ceil_shift(kn, level))
            return buckets + 1 <= MAX_BUCKETS

        low, high = self.level, max(self.level, 40)
        while low < high:  # at level 40 every key is 0 or 1: it always fits
            mid = (low + high) // 2
            if fits(mid):
                high = mid
            else:
                low = mid + 1
        return low

    def _collapse_to(self, level: int) -> None:
        shift = level - self.level
        if shift > 0:
            self.pos_keys, self.pos_counts = _aggregate(
                _ceil_shift(self.pos_keys, shift), self.pos_counts
            )
            self.neg_keys, self.neg_counts = _aggregate(
                _ceil_shift(self.neg_keys, shift), self.neg_counts
            )
            self.level = level

    def merge(self, other: LogSketch) -> None:
        import numpy as np

        level = max(self.level, other.level)
        self._collapse_to(level)
        theirs = other.copy()
        theirs._collapse_to(level)
        self.pos_keys, self.pos_counts = _aggregate(
            np.concatenate((self.pos_keys, theirs.pos_keys)),
            np.concatenate((self.pos_counts, theirs.pos_counts)),
        )
        self.neg_keys, self.neg_counts = _aggregate(
            np.concatenate((self.neg_keys, theirs.neg_keys)),
            np.concatenate((self.neg_counts, theirs.neg_counts)),
        )
        self.zeros += theirs.zeros
        while self.pos_keys.size + self.neg_keys.size + 1 > MAX_BUCKETS:
            self._collapse_to(self.level + 1)

    def copy(self) -> LogSketch:
        new = LogSketch()
        new.level, new.zeros = self.level, self.zeros
        new.pos_keys, new.pos_counts = self.pos_keys.copy(), self.pos_counts.copy()
        new.neg_keys, new.neg_counts = self.neg_keys.copy(), self.neg_counts.copy()
        return new

    def at_level(self, level: int) -> LogSketch:
        new = self.copy()
        new._collapse_to(level)
        return new

    def buckets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(lower, upper, representative, count) of the non-empty buckets in value order.

        A bucket holds the values in (lower, upper]; the representative is its geometric middle.
        """
        import numpy as np

        width = 2.0**self.level / SKETCH_SCALE
        neg = self.neg_keys[::-1]
        parts_lower = [-np.exp(neg * width)]
        parts_upper = [-np.exp((neg - 1) * width)]
        parts_rep = [-np.exp((neg - 0.5) * width)]
        parts_count = [self.neg_counts[::-1]]
        if self.zeros:
            parts_lower.append(np.array([np.nextafter(0.0, -1.0)]))
            parts_upper.append(np.array([0.0]))
            parts_rep.append(np.array([0.0]))
            parts_count.append(np.array([self.zeros], dtype=np.int64))
        pos = self.pos_keys
        parts_lower.append(np.exp((pos - 1) * width))
        parts_upper.append(np.exp(pos * width))
        parts_rep.append(np.exp((pos - 0.5) * width))
        parts_count.append(self.pos_counts)
        return tuple(np.concatenate(p) for p in (parts_lower, parts_upper, parts_rep, parts_count))

    def relative_width(self) -> float:
        return math.expm1(2.0**self.level / SKETCH_SCALE)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "zeros": self.zeros,
            "positive": {"keys": self.pos_keys.tolist(), "counts": self.pos_counts.tolist()},
            "negative": {"keys": self.neg_keys.tolist(), "counts": self.neg_counts.tolist()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogSketch:
        import numpy as np

        new = cls()
        new.level, new.zeros = int(data["level"]), int(data["zeros"])
        for side in ("positive", "negative"):
            keys = np.asarray(data[side]["keys"], dtype=np.int64)
            counts = np.asarray(data[side]["counts"], dtype=np.int64)
            if side == "positive":
                new.pos_keys, new.pos_counts = keys, counts
            else:
                new.neg_keys, new.neg_counts = keys, counts
        return new


# ---------------------------------------------------------------- distinct values
def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer on uint64 (arrays wrap around silently)."""
    import numpy as np

    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _string_hashes(strings: pa.Array, chunk: int = 32_768) -> np.ndarray:
    """uint64 hashes of a string array without nulls, from its Arrow buffers."""
    import numpy as np
    import pyarrow as pa

    parts = []
    wide = pa.types.is_large_string(strings.type)
    for start in range(0, len(strings), chunk):
        part = strings.slice(start, chunk)
        _, offsets_buf, data_buf = part.buffers()
        offsets = np.frombuffer(
            offsets_buf,
            dtype=np.int64 if wide else np.int32,
            count=len(part) + 1,
            offset=part.offset * (8 if wide else 4),
        ).astype(np.int64)
        lengths = np.diff(offsets)
        low, high = int(offsets[0]), int(offsets[-1])
        data = np.zeros(0, np.uint8) if data_buf is None else np.frombuffer(data_buf, np.uint8)
        raw = data[low:high].astype(np.uint64) + np.uint64(1)
        starts = offsets[:-1] - low
        position = np.arange(raw.size, dtype=np.int64) - np.repeat(starts, lengths)
        weights = _mix(np.arange(int(lengths.max(initial=0)), dtype=np.uint64)) | np.uint64(1)
        sums = np.zeros(len(part), dtype=np.uint64)
        filled = lengths > 0
        if raw.size:
            sums[filled] = np.add.reduceat(raw * weights[position], starts[filled])
        parts.append(_mix(sums ^ _mix(lengths.astype(np.uint64))))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


def _value_hashes(values: pa.Array) -> np.ndarray:
    """53-bit hashes of distinct, non-null integer or string values."""
    import numpy as np
    import pyarrow as pa

    if pa.types.is_integer(values.type):
        ints = values.cast(pa.int64(), safe=False)
        raw = np.frombuffer(ints.buffers()[1], np.uint64, count=len(ints), offset=ints.offset * 8)
        hashes = _mix(raw)
    else:
        hashes = _string_hashes(values)
    return hashes >> np.uint64(64 - HASH_BITS)


class DistinctSketch:
    """K minimum values of the hashes seen; see the module docstring."""

    def __init__(self) -> None:
        import numpy as np

        self.hashes = np.zeros(0, dtype=np.uint64)  # sorted, distinct, at most DISTINCT_K

    def add_distinct(self, values: pa.Array) -> None:
        """Add an array of *distinct* non-null values (pc.unique / value_counts output)."""
        import numpy as np

        hashes = _value_hashes(values)
        if self.hashes.size == DISTINCT_K:
            hashes = hashes[hashes < self.hashes[-1]]
        if hashes.size > DISTINCT_K:  # distinct input: its K smallest are all that can stay
            hashes = np.partition(hashes, DISTINCT_K - 1)[:DISTINCT_K]
        self._add_hashes(hashes)

    def _add_hashes(self, hashes: np.ndarray) -> None:
        import numpy as np

        if hashes.size:
            self.hashes = sorted_unique(np.concatenate((self.hashes, hashes)))[:DISTINCT_K]

    def merge(self, other: DistinctSketch) -> None:
        self._add_hashes(other.hashes)

    def estimate(self, values: int) -> int:
        """Distinct values among `values` non-null values (never more than there are)."""
        if self.hashes.size < DISTINCT_K:
            return int(self.hashes.size)
        found = round((DISTINCT_K - 1) / ((int(self.hashes[-1]) + 1) / 2.0**HASH_BITS))
        return min(found, values)

    def to_list(self) -> list[int]:
        return self.hashes.tolist()

    @classmethod
    def from_list(cls, hashes: list[int]) -> DistinctSketch:
        import numpy as np

        new = cls()
        new.hashes = np.asarray(hashes, dtype=np.uint64)
        return new


# ---------------------------------------------------------------- column states
class NumericState:
    def __init__(
        self, dtype: str, edges: list[float] | None = None, distinct: bool = False
    ) -> None:
        import numpy as np

        self.type = dtype
        self.count = 0  # rows, including missing values
        self.null_count = 0
        self.n = 0  # finite values
        self.mean = 0.0
        self.m2 = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.sketch = LogSketch()
        self.distinct = DistinctSketch() if distinct else None
        # Given a reference layout, values are also binned exactly on its edges.
        self.edges = None if edges is None else np.asarray(edges, dtype=np.float64)
        self.binned = None if edges is None else np.zeros(len(edges) + 1, dtype=np.int64)

    def update(self, array: pa.Array) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        array = decoded(array)
        self.count += len(array)
        if pa.types.is_integer(array.type):
            # integers repeat: one (value, count) pair per distinct value is all the work needs
            found = pc.value_counts(array.drop_null())
            values, counts = found.field("values"), found.field("counts")
            if self.distinct is not None:
                self.distinct.add_distinct(values)
            x, weights = numbers(values), numbers(counts).astype(np.int64)
            n = int(weights.sum())
            self.null_count += array.null_count
        else:
            x = numbers(array)
            x = x[np.isfinite(x)]
            weights, n = None, x.size
            self.null_count += len(array) - n
        if n == 0:
            return
        if weights is None:
            mean = float(x.mean())
            m2 = float(np.square(x - mean).sum())
        else:
            mean = float(np.dot(x, weights) / n)
            m2 = float(np.dot(np.square(x - mean), weights))
        self._combine(n, mean, m2, float(x.min()), float(x.max()))
        self.sketch.add(x, weights)
        if self.edges is not None:
            # bins (e[i-1], e[i]]; one comparison pass per edge beats searchsorted on random data
            if weights is None:
                at_or_below = [np.count_nonzero(x <= edge) for edge in self.edges]
            else:
                at_or_below = [int(weights[x <= edge].sum()) for edge in self.edges]
            self.binned += np.diff(np.concatenate(([0], at_or_below, [n])))

    def _combine(self, n: int, mean: float, m2: float, low: float, high: float) -> None:
        self.n, self.mean, self.m2 = combine(self.n, self.mean, self.m2, n, mean, m2)
        self.min, self.max = min(self.min, low), max(self.max, high)

    def merge(self, other: NumericState) -> None:
        self.count += other.count
        self.null_count += other.null_count
        if other.n:
            self._combine(other.n, other.mean, other.m2, other.min, other.max)
        self.sketch.merge(other.sketch)
        if self.distinct is not None and other.distinct is not None:
            self.distinct.merge(other.distinct)
        if self.binned is not None and other.binned is not None:
            self.binned = self.binned + other.binned

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": NUMERIC,
            "type": self.type,
            "count": self.count,
            "null_count": self.null_count,
        }
        if self.distinct is not None:
            data["distinct"] = self.distinct.estimate(self.count - self.null_count)
            data["distinct_sketch"] = self.distinct.to_list()
        if self.n == 0:
            return data
        edges, counts = self._histogram()
        data.update(
            {
                "min": self.min,
                "max": self.max,
                "mean": self.mean,
                "m2": self.m2,
                "std": math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0,
                "quantiles": {str(q): self.quantile(q) for q in QUANTILES},
                "histogram": {"edges": edges, "counts": counts},
                "sketch": self.sketch.to_dict(),
                "relative_accuracy": self.sketch.relative_width(),
            }
        )
        return data

    def quantile(self, q: float) -> float:
        import numpy as np

        _, _, rep, counts = self.sketch.buckets()
        rank = q * (self.n - 1)
        index = int(np.searchsorted(np.cumsum(counts), rank, side="right"))
        return float(min(max(rep[min(index, rep.size - 1)], self.min), self.max))

    def _histogram(self) -> tuple[list[float], list[int]]:
        """Edges (reference layout if given, else sketch quantiles) and counts per bin."""
        import numpy as np

        if self.edges is not None:
            return self.edges.tolist(), self.binned.tolist()
        lower, upper, _, counts = self.sketch.buckets()
        cumulative = np.cumsum(counts)
        targets = np.arange(1, HISTOGRAM_BINS) * (self.n / HISTOGRAM_BINS)
        cuts = upper[np.minimum(np.searchsorted(cumulative, targets, side="left"), upper.size - 1)]
        edges = sorted_unique(np.concatenate(([lower[0]], cuts, [upper[-1]])))
        bins = np.searchsorted(edges, upper, side="left")
        binned = np.bincount(bins, weights=counts, minlength=edges.size + 1).astype(np.int64)
        return edges.tolist(), binned.tolist()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericState:
        new = cls(data["type"])
        new.count, new.null_count = data["count"], data["null_count"]
        if "sketch" in data:
            new.n = data["count"] - data["null_count"]
            new.mean, new.m2 = data["mean"], data["m2"]
            new.min, new.max = data["min"], data["max"]
            new.sketch = LogSketch.from_dict(data["sketch"])
        if "distinct_sketch" in data:
            new.distinct = DistinctSketch.from_list(data["distinct_sketch"])
        return new


class CategoricalState:
    """Exact counts per category, kept as Arrow arrays: a batch's `value_counts` is appended,
    and the chunks are summed with a hash group-by once they hold more than `2 * MAX_TRACKED`
    entries (then the rarest beyond `MAX_TRACKED` go to `other`). No Python loop per value, so
    a column of unique ids or emails costs about what a numeric column does."""

    def __init__(self, dtype: str, keep: list[str] | None = None, distinct: bool = False) -> None:
        self.type = dtype
        self.count = 0
        self.null_count = 0
        self.chunks: list[tuple[pa.Array, pa.Array]] = []  # (string values, int64 counts)
        self.entries = 0  # values in `chunks`, repeats included
        self.other = 0  # values pruned from the counts
        self.truncated = False
        self.keep = frozenset(keep or ())  # reference categories are never pruned
        self.distinct = DistinctSketch() if distinct else None

    def update(self, array: pa.Array) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        self.count += len(array)
        if pa.types.is_dictionary(array.type):
            values, counts = _dictionary_counts(array)
            self.null_count += len(array) - int(numbers(counts).sum())
        else:
            self.null_count += array.null_count
            found = pc.value_counts(array.drop_null())
            values, counts = found.field("values"), found.field("counts")
        if self.distinct is not None:
            self.distinct.add_distinct(values)
        if not pa.types.is_string(values.type):
            values = values.cast(pa.string())  # booleans become "true" / "false"
        self._add([(values, counts)])

    def merge(self, other: CategoricalState) -> None:
        self.count += other.count
        self.null_count += other.null_count
        self.other += other.other
        self.truncated = self.truncated or other.truncated
        if self.distinct is not None and other.distinct is not None:
            self.distinct.merge(other.distinct)
        self._add(other.chunks)

    def _add(self, chunks: list[tuple[pa.Array, pa.Array]]) -> None:
        self.chunks.extend(chunks)
        self.entries += sum(len(values) for values, _ in chunks)
        if self.entries > 2 * MAX_TRACKED:
            self._consolidate()

    def _consolidate(self) -> None:
        """Sum the chunks into one; prune beyond MAX_TRACKED categories."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if len(self.chunks) > 1:
            self.chunks = [_sum_by_value(self.chunks)]
        values, counts = self.chunks[0] if self.chunks else (pa.array([], pa.string()), None)
        self.entries = len(values)
        if self.entries <= 2 * MAX_TRACKED:
            return
        order = self._ranked_order()
        kept = order[:MAX_TRACKED]
        rest = order[MAX_TRACKED:]
        if self.keep:
            reference = pa.array(sorted(self.keep), pa.string())
            in_keep = pc.is_in(values.take(rest), value_set=reference)
            kept = pa.concat_arrays([kept, rest.filter(in_keep)])
            rest = rest.filter(pc.invert(in_keep))
        self.other += pc.sum(counts.take(rest)).as_py() or 0
        self.chunks = [(values.take(kept), counts.take(kept))]
        self.entries = len(kept)
        self.truncated = True

    def _ranked_order(self) -> pa.Array:
        """Indices of the (single) chunk by count descending, then value."""
        import pyarrow as pa
        import pyarrow.compute as pc

        values, counts = self.chunks[0]
        return pc.sort_indices(
            pa.table({"value": values, "count": counts}),
            sort_keys=[("count", "descending"), ("value", "ascending")],
        )

    def ranked(self) -> list[tuple[str, int]]:
        """(category, count), most frequent first (ties by value)."""
        self._consolidate()
        if not self.chunks:
            return []
        values, counts = self.chunks[0]
        order = self._ranked_order()
        return list(
            zip(values.take(order).to_pylist(), counts.take(order).to_pylist(), strict=True)
        )

    def to_dict(self) -> dict[str, Any]:
        ranked = self.ranked()
        top = ranked[:TOP_K] + [kv for kv in ranked[TOP_K:] if kv[0] in self.keep]
        rest = sum(count for key, count in ranked[TOP_K:] if key not in self.keep)
        distinct = len(ranked)
        if self.truncated and self.distinct is not None:
            # the same however the data was split
            distinct = self.distinct.estimate(self.count - self.null_count)
        data = {
            "kind": CATEGORICAL,
            "type": self.type,
            "count": self.count,
            "null_count": self.null_count,
            "distinct": distinct,
            "truncated": self.truncated or len(ranked) > len(top),
            "top": [{"value": key, "count": count} for key, count in top],
            "other_count": self.other + rest,
        }
        if self.distinct is not None:
            data["distinct_sketch"] = self.distinct.to_list()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalState:
        import pyarrow as pa

        new = cls(data["type"])
        new.count, new.null_count = data["count"], data["null_count"]
        if data["top"]:
            new._add(
                [
                    (
                        pa.array([item["value"] for item in data["top"]], pa.string()),
                        pa.array([item["count"] for item in data["top"]], pa.int64()),
                    )
                ]
            )
        new.other = data["other_count"]
        new.truncated = data["truncated"]
        if "distinct_sketch" in data:
            new.distinct = DistinctSketch.from_list(data["distinct_sketch"])
        return new


def _dictionary_counts(array: pa.DictionaryArray) -> tuple[pa.Array, pa.Array]:
    """(distinct non-null values, counts) of a dictionary array: a bincount of its indices,
    ~10x faster than decoding the strings and hashing them again."""
    import numpy as np

    valid = array.indices.drop_null() if array.null_count else array.indices
    per_entry = np.bincount(int64s(valid), minlength=len(array.dictionary))
    present = np.flatnonzero(per_entry)
    values = array.dictionary.take(from_int64s(present))
    counts = from_int64s(per_entry[present])
    if values.null_count:  # a null inside the dictionary is a missing value too
        keep = values.is_valid()
        values, counts = values.filter(keep), counts.filter(keep)
    # a dictionary may repeat a value; the counts must be per distinct value
    return _sum_by_value([(values, counts)]) if len(values) > 1 else (values, counts)


def _counts_distinct(dtype: pa.DataType) -> bool:
    """Integer and string columns get a distinct-value sketch (identifiers are of these)."""
    import pyarrow as pa

    value = dtype.value_type if pa.types.is_dictionary(dtype) else dtype
    t = pa.types
    return t.is_integer(value) or t.is_string(value) or t.is_large_string(value)


class CountState:
    """Columns that are counted but not profiled further (all-null type, nested, binary)."""

    def __init__(self, dtype: str, kind: str) -> None:
        self.type, self.kind = dtype, kind
        self.count = 0
        self.null_count = 0

    def update(self, array: pa.Array) -> None:
        self.count += len(array)
        self.null_count += array.null_count

    def merge(self, other: CountState) -> None:
        self.count += other.count
        self.null_count += other.null_count

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "type": self.type,
            "count": self.count,
            "null_count": self.null_count,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CountState:
        new = cls(data["type"], data["kind"])
        new.count, new.null_count = data["count"], data["null_count"]
        return new


_STATES = {NUMERIC: NumericState, CATEGORICAL: CategoricalState}
PARALLEL_ROWS = 65_536  # smaller batches are profiled on the calling thread
_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor | None:
    """One shared pool for the process, or None on a single core."""
    workers = min(4, os.cpu_count() or 1)
    if workers < 2:
        return None
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(workers, thread_name_prefix="mlgit-profile"))
    return _POOL[0]


# ---------------------------------------------------------------- the accumulator
class ProfileAccumulator:
    """`mlgit.data.io.Accumulator` building a profile; `layout` is the reference profile whose
    bin edges and categories the current data is binned with; `schema` is the data's own, whose
    types the profile records (a string column may be read as a dictionary)."""

    def __init__(
        self, layout: dict[str, Any] | None = None, schema: pa.Schema | None = None
    ) -> None:
        self.layout = layout
        self.types = {} if schema is None else dict(zip(schema.names, schema.types, strict=True))
        self.casts: dict[str, pa.DataType] = {}  # temporal columns read in the reference's unit
        self.rows = 0
        self.columns: dict[str, Any] = {}
        self._pending: list[Future] = []

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        """Columns are independent: big batches are profiled column by column on a thread
        pool (numpy and Arrow kernels release the GIL) while the caller reads the next batch;
        at most one batch is in flight, so memory stays bounded."""
        self.rows += batch.num_rows
        work = []
        for name, array in zip(batch.schema.names, batch.columns, strict=True):
            state = self.columns.get(name)
            if state is None:
                dtype = self.types.get(name, array.type)
                cast = _in_reference_unit(dtype, self._reference(name).get("type", ""))
                if cast is not None:
                    self.casts[name] = dtype = cast
                state = self.columns[name] = self._new_state(name, dtype)
            if name in self.casts:
                array = array.cast(self.casts[name], safe=False)
            work.append((state, array))
        pool = _pool() if batch.num_rows >= PARALLEL_ROWS else None
        self.wait()
        if pool is None:
            for state, array in work:
                state.update(array)
        else:
            self._pending = [pool.submit(state.update, array) for state, array in work]

    def add_columns(self, schema: pa.Schema, only: list[str] | None = None) -> None:
        """States for the columns of `schema` no batch has shown yet."""
        for field in schema:
            if field.name not in self.columns and (only is None or field.name in only):
                self.columns[field.name] = self._new_state(field.name, field.type)

    def wait(self) -> None:
        """Finish the batch in flight (and raise what it raised)."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def _reference(self, name: str) -> dict[str, Any]:
        """The reference profile's column `name` ({} when there is none)."""
        return ((self.layout or {}).get("columns") or {}).get(name) or {}

    def _new_state(self, name: str, dtype: pa.DataType) -> Any:
        kind = column_kind(dtype)
        reference = self._reference(name)
        # distinct values matter in the reference only (drift skips identifier-like columns)
        distinct = self.layout is None and _counts_distinct(dtype)
        if kind == NUMERIC:
            edges = (reference.get("histogram") or {}).get("edges")
            return NumericState(
                str(dtype),
                edges if reference.get("kind") == NUMERIC else None,
                distinct,
            )
        if kind == CATEGORICAL:
            keep = [item["value"] for item in reference.get("top") or []]
            return CategoricalState(str(dtype), keep, distinct)
        return CountState(str(dtype), kind)

    def merge(self, other: ProfileAccumulator) -> None:
        self.wait()
        other.wait()
        self.rows += other.rows
        for name, state in other.columns.items():
            mine = self.columns.get(name)
            if mine is None:
                self.columns[name] = state
            elif type(mine) is not type(state):
                raise MlgitError(
                    f"column {name!r} is {mine.type} in one part and {state.type} in another; "
                    "make the files of the dataset share one schema"
                )
            else:
                mine.merge(state)

    def profile(self, source: str) -> dict[str, Any]:
        from mlgit import __version__

        self.wait()
        return {
            "schema_version": SCHEMA_VERSION,
            "source": source,
            "rows": self.rows,
            "created_by": f"mlgit {__version__}",
            "columns": {name: state.to_dict() for name, state in self.columns.items()},
        }

    @classmethod
    def from_profile(cls, profile: dict[str, Any]) -> ProfileAccumulator:
        """The state a profile file was written from, to merge more data or profiles into."""
        new = cls()
        new.rows = profile["rows"]
        for name, column in profile["columns"].items():
            state_cls = _STATES.get(column["kind"])
            new.columns[name] = (
                state_cls.from_dict(column) if state_cls else CountState.from_dict(column)
            )
        return new


# ---------------------------------------------------------------- entry points
def build(
    source: Source,
    layout: dict[str, Any] | None = None,
    columns: list[str] | None = None,
) -> dict[str, Any]:
    """The profile of a dataset, streamed batch by batch (binned on `layout`'s edges if given)."""
    import pyarrow as pa

    from mlgit.data.io import dictionary_encoded, read_schema, scan

    schema = read_schema(source) if source.format == "parquet" else None
    text = [
        field.name
        for field in schema or ()
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
        if columns is None or field.name in columns
    ]
    accumulator = scan(
        source,
        lambda: ProfileAccumulator(layout, schema),
        columns=columns,
        # counted per dictionary entry instead of per row (see CategoricalState.update)
        dictionary_columns=dictionary_encoded(source, text),
    )
    if accumulator.rows == 0:  # no batch came, yet the columns exist: profile them as empty
        accumulator.add_columns(schema or read_schema(source), columns)
    return accumulator.profile(source.label)


def merge_profiles(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """The profile of the union of the data two profiles were built from."""
    accumulator = ProfileAccumulator.from_profile(first)
    accumulator.merge(ProfileAccumulator.from_profile(second))
    return accumulator.profile(f"{first['source']} + {second['source']}")


def load(file: Path) -> dict[str, Any]:
    """A profile file, checked against the bundled schema; MlgitError if it is not one."""
    from jsonschema import Draft202012Validator

    from mlgit.documents import bundled_schema

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MlgitError(
            f"{file}: reference profile not found; create it with `mlgit profile NAME`"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f":{exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise MlgitError(
            f"{file}{where}: not a valid profile (corrupt JSON: {exc}); "
            "re-create it with `mlgit profile NAME`"
        ) from None
    except OSError as exc:
        raise MlgitError(f"{file}: cannot read ({exc.strerror})") from None

    def invalid(place: str, message: str) -> MlgitError:
        return MlgitError(
            f"{file}: {place}: not a valid profile ({message}); re-create it with "
            "`mlgit profile NAME`"
        )

    # The schema check walks long arrays slowly, so it sees their first elements only; the
    # arrays themselves are checked below with numpy.
    validator = Draft202012Validator(bundled_schema("profile.schema.json"))
    error = next(
        iter(sorted(validator.iter_errors(_heads(data)), key=lambda e: list(e.path))), None
    )
    if error is not None:
        raise invalid(".".join(str(p) for p in error.absolute_path) or "(top level)", error.message)
    for name, column in data["columns"].items():
        for place, problem in _array_problems(column):
            raise invalid(f"columns.{name}.{place}", problem)
    return data


def _heads(value: Any, keep: int = 8) -> Any:
    if isinstance(value, dict):
        return {k: _heads(v, keep) for k, v in value.items()}
    if isinstance(value, list):
        return [_heads(v, keep) for v in value[:keep]]
    return value


def _array_problems(column: dict[str, Any]) -> list[tuple[str, str]]:
    import numpy as np

    problems = []
    histogram = column.get("histogram")
    if histogram is not None:
        edges, counts = histogram["edges"], histogram["counts"]
        if len(counts) != len(edges) + 1:
            problems.append(("histogram", "needs one more count than edges"))
        elif not all(isinstance(e, int | float) for e in edges) or np.any(np.diff(edges) <= 0):
            problems.append(("histogram.edges", "edges must be increasing numbers"))
    hashes = column.get("distinct_sketch")
    if hashes is not None and not (
        len(hashes) <= DISTINCT_K
        and all(type(h) is int and 0 <= h < 2**HASH_BITS for h in hashes)
        and all(a < b for a, b in itertools.pairwise(hashes))
    ):
        problems.append(
            ("distinct_sketch", f"at most {DISTINCT_K} increasing integers below 2**{HASH_BITS}")
        )
    for side in ("positive", "negative"):
        store = (column.get("sketch") or {}).get(side)
        if store is None:
            continue
        keys, counts = store["keys"], store["counts"]
        if len(keys) != len(counts):
            problems.append((f"sketch.{side}", "keys and counts differ in length"))
        elif not all(type(k) is int for k in keys) or not all(
            type(c) is int and c >= 0 for c in counts
        ):
            problems.append((f"sketch.{side}", "keys and counts must be integers"))
    return problems


def dumps(profile: dict[str, Any]) -> str:
    return json.dumps(profile, indent=1, allow_nan=False) + "\n"


# ---------------------------------------------------------------- what NAME|PATH means
@dataclass(frozen=True)
class Target:
    """A dataset named in mlgit.yaml (or a plain path) and the data to read for it."""

    source: Source
    dataset: Dataset | None
    config: Config | None


def project_config() -> Config | None:
    """mlgit.yaml of the current repository (validated), or None outside an mlgit project."""
    from mlgit import config as config_mod

    try:
        file = config_mod.find_config()
    except MlgitError:
        return None
    return config_mod.load(file)


def resolve(target: str, rev: str | None, cfg: Config | None) -> Target:
    """NAME (a dataset in mlgit.yaml) or PATH, in the work tree or at git revision `rev`."""
    from mlgit.data.io import open_source, source_at
    from mlgit.repo import git as gitx

    dataset = cfg.datasets.get(target) if cfg else None
    if dataset is not None:
        if rev is None:
            source = open_source(cfg.root / dataset.path, dataset.format, label=dataset.path)
        else:
            repo = gitx.open_repo(cfg.root)
            source = source_at(repo, dataset.path, gitx.resolve_rev(repo, rev), dataset.format)
            source = Source(f"{dataset.path}@{rev}", source.files, source.format)
        return Target(source, dataset, cfg)
    path = Path(target)
    if rev is not None:
        repo = gitx.open_repo(path.parent if path.parent.exists() else None)
        rel = gitx.relative_to_root(repo, path).as_posix()
        return Target(source_at(repo, rel, rev), None, cfg)
    if not path.exists() and cfg is not None:
        known = ", ".join(cfg.datasets) or "none"
        raise MlgitError(
            f"{target}: no dataset of that name in {cfg.file} (datasets: {known}) "
            "and no such file or directory"
        )
    return Target(open_source(path), None, cfg)
