"""The profile's sketches on their own: no repository, no CLI, a few seconds in all.

LogSketch promises every value a bucket whose representative is within its relative width, and a
sketch that does not depend on how the data was split; DistinctSketch promises an exact count
below DISTINCT_K distinct values, a KMV estimate within a few standard errors (1/sqrt(K)) above,
never more than the values it was given, and exact merges.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgit.data.profile.sketches import DISTINCT_K, MAX_BUCKETS, DistinctSketch, LogSketch
from mlgit.data.profile.states import NumericState

QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
# a handful of examples each: the property holds for any data, the point is variety, not volume
FEW = settings(max_examples=40, deadline=None)


def sketch_of(values: np.ndarray, counts: np.ndarray | None = None) -> LogSketch:
    sketch = LogSketch()
    sketch.add(np.asarray(values, dtype=np.float64), counts)
    return sketch


def quantile_bucket(sketch: LogSketch, q: float) -> tuple[float, float, float]:
    """(lower, upper, representative) of the bucket holding the value of rank q * (n - 1)."""
    lower, upper, rep, counts = sketch.buckets()
    index = int(np.searchsorted(np.cumsum(counts), q * (sketch.total - 1), side="right"))
    index = min(index, rep.size - 1)
    return float(lower[index]), float(upper[index]), float(rep[index])


def assert_quantiles_within_width(sketch: LogSketch, values: np.ndarray) -> None:
    width = sketch.relative_width()
    for q in QUANTILES:
        # the value of rank floor(q * (n - 1)), which is what the sketch's cumulative counts find
        exact = float(np.quantile(values, q, method="lower"))
        lower, upper, rep = quantile_bucket(sketch, q)
        assert lower <= exact <= upper or np.isclose(exact, upper, rtol=1e-12), (q, exact)
        assert abs(rep - exact) <= width * abs(exact) * (1 + 1e-9), (q, exact, rep, width)


def random_values(seed: int, size: int, spread: float) -> np.ndarray:
    """Mixed-sign heavy-tailed values with some exact zeros; `spread` sets the tail."""
    rng = np.random.default_rng(seed)
    values = rng.lognormal(0.0, spread, size) * rng.choice([-1.0, 1.0], size, p=[0.3, 0.7])
    values[rng.random(size) < 0.05] = 0.0
    return values


# ---------------------------------------------------------------- LogSketch quantiles
@pytest.mark.parametrize(
    ("spread", "size", "widest"),
    # concentrated data stays fine; realistic heavy tails at ~1%, as documented; values spread
    # over e**-30..e**30 still fit the bucket budget, at a few percent
    [(0.01, 50_000, 1e-3), (1.0, 100_000, 0.02), (6.0, 100_000, 0.1)],
)
def test_log_sketch_quantiles_are_within_the_relative_width(
    spread: float, size: int, widest: float
) -> None:
    values = random_values(7, size, spread)
    sketch = sketch_of(values)
    assert sketch.total == size
    assert sketch.pos_keys.size + sketch.neg_keys.size + 1 <= MAX_BUCKETS
    assert sketch.relative_width() < widest
    assert_quantiles_within_width(sketch, values)


def test_log_sketch_counts_weigh_values() -> None:
    rng = np.random.default_rng(3)
    distinct = np.unique(rng.integers(-5_000, 50_000, 3_000)).astype(np.float64)
    counts = rng.integers(1, 50, distinct.size)
    weighted = sketch_of(distinct, counts)
    assert weighted.to_dict() == sketch_of(np.repeat(distinct, counts)).to_dict()
    assert_quantiles_within_width(weighted, np.repeat(distinct, counts))


def test_numeric_state_quantiles_match_numpy_within_the_sketch_accuracy() -> None:
    values = random_values(11, 80_000, 2.0)
    state = NumericState("double")
    state.update(pa.array(values))
    column = state.to_dict()
    width = column["relative_accuracy"]
    for q, found in column["quantiles"].items():
        exact = float(np.quantile(values, float(q), method="lower"))
        assert abs(found - exact) <= width * abs(exact) * (1 + 1e-9), (q, found, exact)


# Bucket boundaries are exp(key * width): near the largest doubles (~1.8e308) the upper one
# overflows to inf, so the property is stated for the range real data lives in.
finite = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)


@FEW
@given(st.lists(finite, min_size=1, max_size=300))
def test_log_sketch_quantiles_on_any_floats(values: list[float]) -> None:
    data = np.array(values, dtype=np.float64)
    assert_quantiles_within_width(sketch_of(data), data)


# ---------------------------------------------------------------- LogSketch merges
def test_merged_halves_equal_the_sketch_of_the_whole() -> None:
    values = random_values(5, 120_000, 4.0)  # wide enough to leave level 0
    first, second = sketch_of(values[:20_000]), sketch_of(values[20_000:])
    merged = first.copy()
    merged.merge(second)
    whole = sketch_of(values)
    assert whole.level > 0
    assert merged.to_dict() == whole.to_dict()


@FEW
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(1, 20_000),
    spread=st.sampled_from([0.001, 0.5, 3.0, 10.0]),
    cuts=st.lists(st.floats(0.0, 1.0), max_size=4),
)
def test_sketch_does_not_depend_on_how_the_data_was_split(
    seed: int, size: int, spread: float, cuts: list[float]
) -> None:
    values = random_values(seed, size, spread)
    bounds = sorted({0, size, *(int(c * size) for c in cuts)})
    parts = [values[a:b] for a, b in itertools.pairwise(bounds)]
    streamed, merged = LogSketch(), LogSketch()
    for part in parts:
        streamed.add(part)  # batch by batch into one sketch
        merged.merge(sketch_of(part))  # one sketch per part, merged (Dask partitions)
    whole = sketch_of(values).to_dict()
    assert streamed.to_dict() == whole
    assert merged.to_dict() == whole


@FEW
@given(st.lists(finite, max_size=200), st.lists(finite, max_size=200))
def test_merge_of_two_sketches_is_the_sketch_of_the_concatenation(
    left: list[float], right: list[float]
) -> None:
    first, second = sketch_of(np.array(left)), sketch_of(np.array(right))
    merged = first.copy()
    merged.merge(second)
    assert merged.to_dict() == sketch_of(np.array(left + right)).to_dict()
    assert LogSketch.from_dict(merged.to_dict()).to_dict() == merged.to_dict()


# ---------------------------------------------------------------- DistinctSketch
def distinct_sketch(values: pa.Array) -> DistinctSketch:
    sketch = DistinctSketch()
    sketch.add_distinct(pc.unique(values.drop_null()))
    return sketch


@pytest.mark.parametrize("distinct", [DISTINCT_K * 3, 50_000, 300_000])
@pytest.mark.parametrize("kind", ["int", "string"])
def test_distinct_estimate_is_within_its_error_bound(distinct: int, kind: str) -> None:
    rng = np.random.default_rng(distinct)
    ids = rng.permutation(np.arange(distinct, dtype=np.int64) * 7919 - 10**9)
    values = pa.array(ids) if kind == "int" else pa.array([f"user{i}@example.com" for i in ids])
    sketch = DistinctSketch()
    for start in range(0, distinct, 40_000):  # in batches, as a scan feeds it
        sketch.add_distinct(values.slice(start, 40_000))
    estimate = sketch.estimate(10 * distinct)  # a generous cap, so the estimate itself shows
    # standard error 1/sqrt(K) = 1.6%; four of them keep this deterministic test far from flaky
    assert abs(estimate - distinct) <= 4 / np.sqrt(DISTINCT_K) * distinct, (estimate, distinct)
    assert sketch.estimate(distinct) <= distinct


@FEW
@given(st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(-50, 50), max_size=400))
def test_distinct_is_exact_below_k_for_integers(values: list[int]) -> None:
    sketch = distinct_sketch(pa.array(values, pa.int64()))
    assert sketch.estimate(len(values)) == len(set(values))


@FEW
@given(st.lists(st.text(max_size=8), max_size=100))
def test_distinct_is_exact_below_k_for_strings(values: list[str]) -> None:
    sketch = distinct_sketch(pa.array(values, pa.string()))
    assert sketch.estimate(len(values)) == len(set(values))


@FEW
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(DISTINCT_K, 3 * DISTINCT_K))
def test_distinct_estimate_never_exceeds_the_values_given(seed: int, size: int) -> None:
    # at n just above K, the KMV estimate is as likely above n as below: the cap must hold
    offset = int(np.random.default_rng(seed).integers(-(2**40), 2**40))
    sketch = distinct_sketch(pa.array(np.arange(size, dtype=np.int64) + offset))
    assert sketch.estimate(size) <= size
    assert len(sketch.to_list()) == min(size, DISTINCT_K)


@FEW
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.tuples(st.integers(0, 3 * DISTINCT_K), st.integers(0, 3 * DISTINCT_K)),
)
def test_distinct_merge_equals_the_sketch_of_the_union(seed: int, sizes: tuple[int, int]) -> None:
    rng = np.random.default_rng(seed)
    left = pa.array(rng.integers(0, 20_000, sizes[0]))  # overlapping ranges: shared values
    right = pa.array(rng.integers(10_000, 30_000, sizes[1]))
    merged = distinct_sketch(left)
    merged.merge(distinct_sketch(right))
    union = distinct_sketch(pa.concat_arrays([left, right]))
    assert merged.to_list() == union.to_list()
    assert DistinctSketch.from_list(merged.to_list()).to_list() == union.to_list()
