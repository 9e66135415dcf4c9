"""The two mergeable sketches of a profile: quantiles of numeric columns and distinct values.

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

Distinct values (integer and string columns): a K-minimum-values sketch keeps the `DISTINCT_K`
smallest 53-bit hashes of the values seen (splitmix64 for integers, a position-weighted byte sum
for strings). While fewer than `DISTINCT_K` values are distinct the count is exact; beyond, it is
the KMV estimate `(K - 1) / (K-th smallest hash / 2**53)` (standard error ~1/sqrt(K), 1.6%). The K
smallest hashes of a union are the K smallest of the two sketches together: it merges exactly.
Drift uses it to recognise identifier-like columns (ids, emails) that should not be compared.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

SKETCH_SCALE = 2**20  # level-0 buckets are 2**-20 wide in ln(x)
MAX_BUCKETS = 2048
DISTINCT_K = 4096
HASH_BITS = 53  # hashes stay exact in any JSON reader (IEEE doubles)


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
        return (
            np.concatenate(parts_lower),
            np.concatenate(parts_upper),
            np.concatenate(parts_rep),
            np.concatenate(parts_count),
        )

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
