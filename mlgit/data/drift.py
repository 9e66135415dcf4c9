"""Drift between a reference profile and current data: per-column metrics, verdicts, a dataset
verdict. The metrics and verdicts are pure functions of two profiles (mlgit/data/profile/);
only `compare_source` at the end reads data, to profile the current side (`mlgit drift` itself
is `commands/drift.py`).

Metrics (the registry `METRICS`, name -> Metric):
- numeric columns: `psi` on the reference's quantile bins, `wasserstein` (the 1-Wasserstein
  distance divided by the reference's standard deviation), `ks` (the two-sample
  Kolmogorov-Smirnov statistic). Wasserstein and KS are computed on the fine log-bucket sketch
  both sides share (relative bucket width <= ~1%, usually far less), each bucket's values placed
  at its geometric middle; KS is exact at bucket boundaries.
- categorical columns: `psi` and `js` (Jensen-Shannon *distance*, base 2, in [0, 1]) over the
  reference's top categories plus one "other" bin that also takes categories never seen in the
  reference; `chi2` is the p-value of Pearson's chi-square test of the current counts against
  the (smoothed) reference proportions.

Smoothing: PSI and the chi-square expectation use proportions
`p_i = (c_i / N + 1e-4) / (1 + 1e-4 * B)` (B bins), so an empty bin (a new category, a value
beyond the reference range) weighs as about 1e-4 instead of dividing by zero; identical data
still gives exactly 0. The chi-square test drops bins empty on both sides and expects
`(c_i + 0.5) / (N + 0.5 * B)` of the current rows in bin i (so identical data gives p close to
1, and a category the reference never saw is still a finite, large surprise). JS, KS and
Wasserstein need no smoothing.

Columns left out: those listed in `drift.exclude` or with `drift.columns.NAME.ignore: true`, and
*identifier-like* columns: integer or string columns whose reference profile has at least
`IDENTIFIER_MIN_VALUES` values, (nearly) all distinct (distinct >= `IDENTIFIER_SHARE` of the
non-null values). An id or an email changes completely from one sample to the next by design, so
comparing it says nothing; these get the verdict `skip` and do not count in the dataset share.
Naming a column under `drift.columns` (thresholds, or `ignore: false`) compares it anyway.

Verdicts: a metric says `drift` at or beyond its `fail` threshold and `warn` at or beyond `warn`
(for `chi2`, a p-value, "beyond" means at or below). A column takes its worst metric verdict;
the dataset drifts when the share of drifted columns among those compared is >= `share`.
Thresholds come from mlgit.yaml `drift:`; a metric block there replaces the default block.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.data.profile import CATEGORICAL, NULL, NUMERIC, LogSketch, sorted_unique
from mlgit.errors import MlgitError
from mlgit.status import OK, SKIP, WARN

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from mlgit.data.io import Source

SMOOTHING = 1e-4
CHI2_PSEUDOCOUNT = 0.5
DRIFT, NEW = "drift", "new"  # column verdicts beyond the shared OK | WARN | SKIP
DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {
    "psi": {"warn": 0.1, "fail": 0.2},
    "js": {"fail": 0.1},
    "wasserstein": {"fail": 0.1},
    "ks": {},
    "chi2": {},
}
DEFAULT_SHARE = 0.5
IDENTIFIER_SHARE = 0.95
IDENTIFIER_MIN_VALUES = 100
IDENTIFIER_NOTE = "identifier-like: not compared"


# ---------------------------------------------------------------- two distributions on shared bins
@dataclass(frozen=True)
class Binned:
    """Reference and current counts on the same bins, plus (numeric) the shared fine grid."""

    reference: np.ndarray
    current: np.ndarray
    points: np.ndarray | None = None  # fine-grid bucket positions, ascending
    fine_reference: np.ndarray | None = None
    fine_current: np.ndarray | None = None
    scale: float = 1.0  # what Wasserstein is divided by


def smoothed(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    shares = counts / total if total else counts * 0.0
    return (shares + SMOOTHING) / (1 + SMOOTHING * counts.size)


def psi(b: Binned) -> float:
    import numpy as np

    p, q = smoothed(b.reference), smoothed(b.current)
    return float(np.sum((q - p) * np.log(q / p)))


def js(b: Binned) -> float:
    import numpy as np

    p = b.reference / b.reference.sum()
    q = b.current / b.current.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        nonzero = a > 0
        return float(np.sum(a[nonzero] * np.log2(a[nonzero] / m[nonzero])))

    return math.sqrt(max(0.0, (kl(p) + kl(q)) / 2))


def chi2(b: Binned) -> float:
    import numpy as np

    used = (b.reference > 0) | (b.current > 0)
    reference, observed = b.reference[used], b.current[used].astype(np.float64)
    if observed.size < 2:
        return 1.0
    expected = (reference + CHI2_PSEUDOCOUNT) / (
        reference.sum() + CHI2_PSEUDOCOUNT * reference.size
    )
    expected = expected * observed.sum()
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    return chi2_sf(statistic, observed.size - 1)


def chi2_sf(x: float, dof: int) -> float:
    """P(X >= x) for X ~ chi-square(dof): the regularized upper incomplete gamma Q(dof/2, x/2)
    (series below a + 1, Lentz's continued fraction above; Numerical Recipes 6.2). Written out
    because importing scipy.special costs more than the whole drift computation."""
    a, z = dof / 2, x / 2
    if z <= 0:
        return 1.0
    log_prefix = a * math.log(z) - z - math.lgamma(a)
    if z < a + 1:
        term = total = 1 / a
        n = a
        for _ in range(10_000):
            n += 1
            term *= z / n
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1 - total * math.exp(log_prefix))
    tiny = 1e-300
    b = z + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)


def _cdf_gap(b: Binned) -> np.ndarray:
    import numpy as np

    # ks and wasserstein are numeric-only metrics, and _numeric sets the fine grid
    assert b.fine_reference is not None and b.fine_current is not None
    return np.abs(
        np.cumsum(b.fine_reference) / b.fine_reference.sum()
        - np.cumsum(b.fine_current) / b.fine_current.sum()
    )


def ks(b: Binned) -> float:
    return float(_cdf_gap(b).max())


def wasserstein(b: Binned) -> float:
    import numpy as np

    assert b.points is not None  # set with the fine grid by _numeric
    return float(np.sum(_cdf_gap(b)[:-1] * np.diff(b.points)) / b.scale)


@dataclass(frozen=True)
class Metric:
    compute: Callable[[Binned], float]
    kinds: tuple[str, ...]
    higher_is_worse: bool = True  # False for p-values
    title: str = ""


METRICS: dict[str, Metric] = {
    "psi": Metric(psi, (NUMERIC, CATEGORICAL), title="population stability index"),
    "wasserstein": Metric(wasserstein, (NUMERIC,), title="Wasserstein distance / reference std"),
    "ks": Metric(ks, (NUMERIC,), title="Kolmogorov-Smirnov statistic"),
    "js": Metric(js, (CATEGORICAL,), title="Jensen-Shannon distance (base 2)"),
    "chi2": Metric(chi2, (CATEGORICAL,), higher_is_worse=False, title="chi-square p-value"),
}


# ---------------------------------------------------------------- thresholds from mlgit.yaml
@dataclass(frozen=True)
class Settings:
    thresholds: dict[str, dict[str, float]]
    share: float = DEFAULT_SHARE
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    exclude: frozenset[str] = frozenset()

    def for_column(self, name: str) -> dict[str, dict[str, float]]:
        return {**self.thresholds, **{k: v for k, v in self.columns.get(name, {}).items()}}

    def ignored(self, name: str) -> bool:
        return name in self.exclude or bool(self.columns.get(name, {}).get("ignore"))

    def identifier(self, name: str, reference: dict[str, Any]) -> bool:
        """Identifier-like in the reference, and not named under `drift.columns`."""
        return name not in self.columns and identifier_like(reference)


def identifier_like(column: dict[str, Any]) -> bool:
    """An integer or string column whose values are (nearly) all distinct."""
    values = column["count"] - column["null_count"]
    distinct = column.get("distinct")
    integer_or_string = column["kind"] == NUMERIC or column["type"] != "bool"
    return (
        distinct is not None
        and integer_or_string
        and values >= IDENTIFIER_MIN_VALUES
        and distinct >= IDENTIFIER_SHARE * values
    )


Place = Callable[[tuple[str, ...]], str]  # a key path -> "mlgit.yaml:12: drift.psi" (Config.place)


def _key(where: tuple[str, ...]) -> str:
    return ".".join(where)


def settings(block: dict[str, Any] | None, place: Place = _key) -> Settings:
    """Thresholds from the `drift:` block of mlgit.yaml; MlgitError naming a bad key at `place`."""
    block = block or {}
    thresholds = {name: dict(block.get(name, dflt)) for name, dflt in DEFAULT_THRESHOLDS.items()}
    for name, limits in thresholds.items():
        _check_limits(("drift", name), name, limits, place)
    columns: dict[str, dict[str, Any]] = {}
    for column, overrides in (block.get("columns") or {}).items():
        columns[column] = dict(overrides)
        for name in METRICS:
            if name in overrides:
                _check_limits(("drift", "columns", column, name), name, overrides[name], place)
    exclude = block.get("exclude") or []
    if not isinstance(exclude, list) or not all(isinstance(c, str) for c in exclude):
        raise MlgitError(
            f"{place(('drift', 'exclude'))}: must be a list of column names, got {exclude!r}"
        )
    share = block.get("share", DEFAULT_SHARE)
    if not isinstance(share, int | float) or not 0 < share <= 1:
        raise MlgitError(f"{place(('drift', 'share'))}: must be in (0, 1], got {share!r}")
    return Settings(
        thresholds=thresholds, share=float(share), columns=columns, exclude=frozenset(exclude)
    )


def _check_limits(
    where: tuple[str, ...], metric: str, limits: dict[str, Any], place: Place
) -> None:
    for key in ("warn", "fail"):
        value = limits.get(key)
        if value is None:
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise MlgitError(f"{place((*where, key))}: must be a number >= 0, got {value!r}")
        if not METRICS[metric].higher_is_worse and value > 1:
            raise MlgitError(f"{place((*where, key))}: a p-value is at most 1, got {value}")
    warn, fail = limits.get("warn"), limits.get("fail")
    if warn is None or fail is None:
        return
    if METRICS[metric].higher_is_worse and warn > fail:
        raise MlgitError(
            f"{place(where)}: warn ({warn}) is above fail ({fail}); warn must be <= fail"
        )
    if not METRICS[metric].higher_is_worse and warn < fail:
        raise MlgitError(
            f"{place(where)}: warn ({warn}) is below fail ({fail}); for a p-value "
            "warn must be >= fail"
        )


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class MetricResult:
    metric: str
    value: float
    warn: float | None
    fail: float | None
    verdict: str  # ok | warn | drift | "" when the metric has no thresholds


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: str
    verdict: str  # ok | warn | drift | skip | new
    metrics: tuple[MetricResult, ...] = ()
    dtype: str = ""  # Arrow type in the reference (plots show temporal bins as dates)
    note: str = ""
    reference_missing: float | None = None  # share of null/NaN values
    current_missing: float | None = None
    # what the plots draw: bins (numeric: edges; categorical: labels) and counts per bin
    edges: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()
    reference_counts: tuple[int, ...] = ()
    current_counts: tuple[int, ...] = ()

    def value(self, metric: str) -> float | None:
        return next((m.value for m in self.metrics if m.metric == metric), None)


@dataclass(frozen=True)
class DriftResult:
    dataset: str
    reference: str
    current: str
    reference_rows: int
    current_rows: int
    columns: tuple[ColumnDrift, ...]
    share: float  # drifted / compared
    share_threshold: float
    drifted: bool

    @property
    def compared(self) -> tuple[ColumnDrift, ...]:
        return tuple(c for c in self.columns if c.verdict in (OK, WARN, DRIFT))


# ---------------------------------------------------------------- comparing profiles
def check_compatible(
    reference: dict[str, Any], current: dict[str, Any], rules: Settings, label: str = ""
) -> None:
    """Same columns, same kinds; else an MlgitError naming every mismatch (and `label`, the
    reference profile's file)."""
    ref_cols, cur_cols = reference["columns"], current["columns"]
    missing = [n for n in ref_cols if n not in cur_cols and not rules.ignored(n)]
    changed = [
        f"{n} ({ref_cols[n]['type']} -> {cur_cols[n]['type']})"
        for n in ref_cols
        if n in cur_cols
        and not rules.ignored(n)
        and NULL not in (ref_cols[n]["kind"], cur_cols[n]["kind"])
        and ref_cols[n]["kind"] != cur_cols[n]["kind"]
    ]
    problems = []
    if missing:
        problems.append(f"columns missing from the current data: {', '.join(missing)}")
    if changed:
        problems.append(f"columns of another type: {', '.join(changed)}")
    if problems:
        raise MlgitError(
            f"{label or reference['source']}: the reference profile (of {reference['source']}) "
            f"does not match {current['source']} "
            f"({'; '.join(problems)}); re-profile the reference with `mlgit profile`, or "
            "list such columns under `drift.exclude` in mlgit.yaml"
        )


def compare(
    dataset: str, reference: dict[str, Any], current: dict[str, Any], rules: Settings
) -> DriftResult:
    """Drift of `current` (profiled with `reference` as its layout) against `reference`."""
    check_compatible(reference, current, rules)
    columns = []
    for name, ref in reference["columns"].items():
        if rules.ignored(name):
            columns.append(ColumnDrift(name, ref["kind"], SKIP, note="excluded in mlgit.yaml"))
            continue
        if rules.identifier(name, ref):
            columns.append(
                ColumnDrift(
                    name,
                    ref["kind"],
                    SKIP,
                    dtype=ref["type"],
                    note=IDENTIFIER_NOTE,
                    reference_missing=_missing_share(ref),
                    current_missing=_missing_share(current["columns"][name]),
                )
            )
            continue
        columns.append(_column(name, ref, current["columns"][name], rules.for_column(name)))
    for name, cur in current["columns"].items():
        if name not in reference["columns"] and not rules.ignored(name):
            columns.append(
                ColumnDrift(
                    name, cur["kind"], NEW, note="not in the reference; re-profile to compare it"
                )
            )
    compared = [c for c in columns if c.verdict in (OK, WARN, DRIFT)]
    drifted = sum(c.verdict == DRIFT for c in compared)
    share = drifted / len(compared) if compared else 0.0
    return DriftResult(
        dataset=dataset,
        reference=reference["source"],
        current=current["source"],
        reference_rows=reference["rows"],
        current_rows=current["rows"],
        columns=tuple(columns),
        share=share,
        share_threshold=rules.share,
        drifted=bool(compared) and share >= rules.share,
    )


def _missing_share(column: dict[str, Any]) -> float | None:
    return column["null_count"] / column["count"] if column["count"] else None


def _column(
    name: str, ref: dict[str, Any], cur: dict[str, Any], limits: dict[str, dict[str, float]]
) -> ColumnDrift:
    kind = ref["kind"] if ref["kind"] != NULL else cur["kind"]
    base = {
        "column": name,
        "kind": kind,
        "dtype": ref["type"],
        "reference_missing": _missing_share(ref),
        "current_missing": _missing_share(cur),
    }
    if kind not in (NUMERIC, CATEGORICAL):
        return ColumnDrift(**base, verdict=SKIP, note=f"{ref['type']} columns are not compared")
    ref_values = ref["count"] - ref["null_count"]
    cur_values = cur["count"] - cur["null_count"]
    if ref_values == 0 and cur_values == 0:
        return ColumnDrift(**base, verdict=OK, note="all values missing on both sides")
    if ref_values == 0:
        return ColumnDrift(
            **base,
            verdict=DRIFT,
            note=f"no values in the reference; {cur_values} in the current data",
        )
    if cur_values == 0:
        note = (
            f"all {cur['count']} values are missing in the current data"
            if cur["count"]
            else "the current data has no rows"
        )
        return ColumnDrift(**base, verdict=DRIFT, note=note)
    binned, plot = _NUMERIC_OR_CATEGORICAL[kind](ref, cur)
    results = []
    for metric_name, metric in METRICS.items():
        if kind not in metric.kinds:
            continue
        value = metric.compute(binned)
        warn, fail = limits[metric_name].get("warn"), limits[metric_name].get("fail")
        results.append(
            MetricResult(metric_name, value, warn, fail, _verdict(value, warn, fail, metric))
        )
    order = {"": 0, OK: 0, WARN: 1, DRIFT: 2}
    verdict = max((r.verdict for r in results), key=order.__getitem__, default=OK) or OK
    return ColumnDrift(**base, verdict=verdict, metrics=tuple(results), **plot)


def _verdict(value: float, warn: float | None, fail: float | None, metric: Metric) -> str:
    if warn is None and fail is None:
        return ""

    def beyond(limit: float | None) -> bool:
        if limit is None:
            return False
        return value >= limit if metric.higher_is_worse else value <= limit

    return DRIFT if beyond(fail) else WARN if beyond(warn) else OK


def _numeric(ref: dict[str, Any], cur: dict[str, Any]) -> tuple[Binned, dict[str, Any]]:
    import numpy as np

    edges = ref["histogram"]["edges"]
    if cur["histogram"]["edges"] != edges:
        raise RuntimeError("the current data was not binned on the reference's edges")
    ref_sketch = LogSketch.from_dict(ref["sketch"])
    cur_sketch = LogSketch.from_dict(cur["sketch"])
    level = max(ref_sketch.level, cur_sketch.level)
    _, _, ref_points, ref_counts = ref_sketch.at_level(level).buckets()
    _, _, cur_points, cur_counts = cur_sketch.at_level(level).buckets()
    points = sorted_unique(np.concatenate((ref_points, cur_points)))
    fine_ref = np.zeros(points.size)
    fine_cur = np.zeros(points.size)
    fine_ref[np.searchsorted(points, ref_points)] = ref_counts
    fine_cur[np.searchsorted(points, cur_points)] = cur_counts
    std = ref["std"]
    scale = std if std > 0 else (abs(ref["mean"]) or 1.0)
    reference = np.asarray(ref["histogram"]["counts"], dtype=np.float64)
    current = np.asarray(cur["histogram"]["counts"], dtype=np.float64)
    binned = Binned(reference, current, points, fine_ref, fine_cur, scale)
    plot = {
        "edges": tuple(edges),
        "reference_counts": tuple(int(c) for c in reference),
        "current_counts": tuple(int(c) for c in current),
    }
    return binned, plot


def _categorical(ref: dict[str, Any], cur: dict[str, Any]) -> tuple[Binned, dict[str, Any]]:
    import numpy as np

    labels = [item["value"] for item in ref["top"]]
    ref_counts = [item["count"] for item in ref["top"]] + [ref["other_count"]]
    seen = {item["value"]: item["count"] for item in cur["top"]}
    cur_known = [seen.get(label, 0) for label in labels]
    cur_values = cur["count"] - cur["null_count"]
    cur_counts = [*cur_known, cur_values - sum(cur_known)]
    binned = Binned(np.asarray(ref_counts, float), np.asarray(cur_counts, float))
    plot = {
        "note": new_values_note(cur, ref),
        "labels": (*labels, "(other)"),
        "reference_counts": tuple(ref_counts),
        "current_counts": tuple(cur_counts),
    }
    return binned, plot


_NUMERIC_OR_CATEGORICAL = {NUMERIC: _numeric, CATEGORICAL: _categorical}


def new_values_note(cur: dict[str, Any], ref: dict[str, Any], examples: int = 3) -> str:
    """How many current values the reference does not list, with the most frequent few.

    The current side was profiled keeping every reference category, so its distinct count
    minus the reference categories it holds is the number of new values (a lower bound when
    the current profile is truncated)."""
    known = {item["value"] for item in ref.get("top") or []}
    new = [item["value"] for item in cur.get("top") or [] if item["value"] not in known]
    if not new:
        return ""
    count = max(len(new), cur["distinct"] - sum(item["value"] in known for item in cur["top"]))
    shown = ", ".join(_short(v) for v in new[:examples])
    more = ", ..." if count > examples else ""
    at_least = "at least " if cur.get("truncated") else ""
    plural = "s" if count != 1 else ""
    return f"{at_least}{count} new value{plural}: {shown}{more}"


def _short(value: str, width: int = 24) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


# ---------------------------------------------------------------- loading both sides
def is_profile_file(path: Path) -> bool:
    """`--reference` is a profile (JSON) or data to profile on the fly (anything else)."""
    return path.suffix.lower() == ".json"


def compare_source(
    name: str, reference: dict[str, Any], current: Source, rules: Settings, label: str = ""
) -> DriftResult:
    """Profile `current` on the reference's layout and compare (schema checked first)."""
    from mlgit.data.profile import build

    check_source(reference, current, rules, label)
    return compare(name, reference, build(current, layout=reference), rules)


def check_source(
    reference: dict[str, Any],
    current: Source,
    rules: Settings,
    label: str = "",
    schema: pa.Schema | None = None,
) -> None:
    """`check_compatible` on the columns of `current` as its files declare them (`schema`, the
    first file's, when the caller read it already)."""
    from mlgit.data.io import read_schema
    from mlgit.data.profile import column_kind

    if schema is None:
        schema = read_schema(current)
    shape = {
        "source": current.label,
        "columns": {
            field.name: {"kind": column_kind(field.type), "type": str(field.type)}
            for field in schema
        },
    }
    check_compatible(reference, shape, rules, label)
