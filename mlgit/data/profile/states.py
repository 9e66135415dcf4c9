"""Per-column profile states: each takes Arrow arrays batch by batch, merges with another state
of its kind, and reads and writes its part of a profile file.

The reference histogram's edges are quantiles read from the sketch, snapped to bucket
boundaries, plus the lowest and highest boundary: so the reference counts per bin are exact
sums of buckets, and the two outer bins (open ends, below the reference minimum and above its
maximum) are empty in the reference. Current data is profiled with the reference's edges as
its *layout* and binned exactly with `searchsorted`; identical data gives identical counts.

Missing values: null, NaN and ±inf all count as missing (`null_count`); moments, quantiles and
histograms use the finite values. Temporal columns are profiled as numbers (their integer
representation: epoch units, days). Categorical columns (strings, booleans, dictionaries) keep
exact counts of up to `MAX_TRACKED` distinct values while scanning; beyond that, the rarest go
into `other` (the profile says `truncated: true`); the file keeps the `TOP_K` most frequent.
Two profiles merge exactly while a column has at most `TOP_K` distinct values; beyond, the
counts of the categories listed are lower bounds (the rest are in `other_count`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mlgit.data.arrays import decoded, from_int64s, int64s, numbers
from mlgit.data.moments import combine
from mlgit.data.profile.kinds import CATEGORICAL, NUMERIC
from mlgit.data.profile.sketches import DistinctSketch, LogSketch, sorted_unique

if TYPE_CHECKING:
    import pyarrow as pa

MAX_TRACKED = 10_000
TOP_K = 1000  # categories written per column: merging is exact up to this many distinct values
HISTOGRAM_BINS = 10
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


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
                at_or_below = [int(np.count_nonzero(x <= edge)) for edge in self.edges]
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
            assert self.binned is not None  # made with the edges in __init__
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
        assert counts is not None  # entries > 0: there is a chunk
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
