"""Mergeable dataset profiles, built batch by batch with bounded memory.

Per column: row and missing counts, min/max, mean and variance as mergeable moments (Chan's
parallel algorithm), quantiles, a histogram, and for categorical columns the top categories.

- `kinds`: what kind of column a type is (numeric, categorical, null, other), temporal units;
- `sketches`: the log-bucket quantile sketch and the distinct-value (KMV) sketch;
- `states`: one state per column kind, updated per Arrow array and merged;
- `accumulator`: a state per column fed batch by batch; `build` and `merge_profiles`;
- `files`: the profile file format (`load` with its schema check, `dumps`);

This package re-exports the names other modules and tests use, so they import
`mlgit.data.profile` alone.
"""

from mlgit.data.profile.accumulator import (
    PARALLEL_ROWS,
    ProfileAccumulator,
    _pool,
    build,
    merge_profiles,
)
from mlgit.data.profile.files import SCHEMA_VERSION, dumps, load
from mlgit.data.profile.kinds import (
    CATEGORICAL,
    NULL,
    NUMERIC,
    OTHER,
    TEMPORAL_TYPE,
    column_kind,
)
from mlgit.data.profile.sketches import (
    DISTINCT_K,
    HASH_BITS,
    MAX_BUCKETS,
    SKETCH_SCALE,
    DistinctSketch,
    LogSketch,
    _value_hashes,
    sorted_unique,
)
from mlgit.data.profile.states import (
    HISTOGRAM_BINS,
    MAX_TRACKED,
    QUANTILES,
    TOP_K,
    CategoricalState,
    CountState,
    NumericState,
)

__all__ = [
    "CATEGORICAL",
    "DISTINCT_K",
    "HASH_BITS",
    "HISTOGRAM_BINS",
    "MAX_BUCKETS",
    "MAX_TRACKED",
    "NULL",
    "NUMERIC",
    "OTHER",
    "PARALLEL_ROWS",
    "QUANTILES",
    "SCHEMA_VERSION",
    "SKETCH_SCALE",
    "TEMPORAL_TYPE",
    "TOP_K",
    "CategoricalState",
    "CountState",
    "DistinctSketch",
    "LogSketch",
    "NumericState",
    "ProfileAccumulator",
    "_pool",  # tests check whether big batches go to the pool
    "_value_hashes",  # tests check the hashes of sliced and large strings
    "build",
    "column_kind",
    "dumps",
    "load",
    "merge_profiles",
    "sorted_unique",
]
