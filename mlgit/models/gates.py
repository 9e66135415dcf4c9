"""Metric gates: thresholds (`min`, `max`), changes against a baseline (`max_drop`, `max_rise`,
absolute or `relative`), fairness gaps between slices (`max_gap`), and a lift over the dummy
model `mlgit evaluate --baseline` scored (`min_lift` with `baseline: dummy`: the model's
metric must beat `baseline.METRIC` by that margin, by being lower for lower-is-better ones).

A gate kind is one small function in `GATE_KINDS`. `max_drop` and `max_rise` bound how far the
value may fall (rise) from the baseline, absolutely or `relative` to it; `direction` (higher or
lower is better, defaulting from the metric's name: `rmse`, `loss`, ... are lower-is-better)
says whether that move is a regression. Only a regression fails: `max_drop` guards a
higher-is-better metric, `max_rise` a lower-is-better one, and a move the other way passes as
"better" (a gate that can never fail gets a note saying so).
A metric missing on either side fails its gate with the reason; a relative gate without any
baseline yet (nothing in the stage) passes with a note.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from mlgit.errors import MlgitError
from mlgit.models import metrics

if TYPE_CHECKING:
    import git

    from mlgit.config import Config, Gate, Model
    from mlgit.models.registry.state import ArtifactState

# A metric named with one of these words is lower-is-better unless the gate says otherwise.
LOWER_IS_BETTER = ("mae", "mse", "rmse", "mape", "loss", "error", "brier", "fpr", "fnr", "gap")
BASELINE_KINDS = ("max_drop", "max_rise")
DUMMY = "dummy"  # the `baseline:` of a min_lift gate: the metrics file's own `baseline.*`


@dataclass(frozen=True)
class GateResult:
    metric: str
    kind: str  # min | max | max_drop | max_rise | max_gap
    value: float | None  # the current value (for max_gap: the gap)
    baseline: float | None  # the baseline value, for max_drop / max_rise
    threshold: float
    ok: bool
    severity: str  # error | warn
    reason: str
    baseline_label: str | None = None  # "prod (v1.2.0)", "HEAD~1", ...


@dataclass(frozen=True)
class GateReport:
    results: tuple[GateResult, ...]
    baseline_label: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every failed gate is only a warning."""
        return all(r.ok or r.severity == "warn" for r in self.results)

    @property
    def failed(self) -> tuple[GateResult, ...]:
        return tuple(r for r in self.results if not r.ok)


def direction_of(gate: Gate) -> str:
    if gate.direction:
        return gate.direction
    words = gate.metric.lower().replace("-", "_").replace(".", "_").split("_")
    lower = any(w in LOWER_IS_BETTER or w.removesuffix("s") in LOWER_IS_BETTER for w in words)
    return "lower" if lower else "higher"


def evaluate_gates(
    model: Model,
    current: dict,
    baseline: dict | None,
    baseline_label: str | None = None,
    *,
    baselines: Mapping[str, tuple[dict | None, str]] | None = None,
) -> GateReport:
    """Every gate of `model` on `current` metrics. Relative gates compare with `baseline`
    (None: no baseline yet), or, for a gate naming its own `baseline:`, with
    `baselines[gate.baseline]` = (metrics or None, label) when given."""
    results = []
    notes: list[str] = []
    for gate in model.gates:
        for kind, check in GATE_KINDS.items():
            threshold = getattr(gate, kind)
            if threshold is None:
                continue
            base, label = baseline, baseline_label
            if (
                kind in BASELINE_KINDS
                and baselines is not None
                and gate.baseline is not None
                and gate.baseline in baselines
            ):
                base, label = baselines[gate.baseline]
            result = check(gate, float(threshold), current, base, label)
            results.append(result)
            if kind in BASELINE_KINDS and (kind == "max_drop") != (direction_of(gate) == "higher"):
                opposite = "max_rise" if kind == "max_drop" else "max_drop"
                other = "lower" if direction_of(gate) == "higher" else "higher"
                note = (
                    f"{gate.metric} {kind}: {direction_of(gate)} is better, so a "
                    f"{kind.removeprefix('max_')} is an improvement and this gate never fails; "
                    f"did you mean {opposite}, or `direction: {other}`?"
                )
                if note not in notes:
                    notes.append(note)
            if kind in BASELINE_KINDS and base is None:
                note = f"no baseline yet ({label or 'none given'}): {kind} gates pass"
                if note not in notes:
                    notes.append(note)
    return GateReport(tuple(results), baseline_label, tuple(notes))


def gate_json(result: GateResult, label: bool = True) -> dict:
    """One gate result as JSON (gate-result and registry-result schemas). `label=False` leaves
    the baseline's label out, as the provenance of registry tags has always recorded it."""
    data = {
        "metric": result.metric,
        "kind": result.kind,
        "value": result.value,
        "baseline": result.baseline,
        "baseline_label": result.baseline_label,
        "threshold": result.threshold,
        "ok": result.ok,
        "severity": result.severity,
        "reason": result.reason,
    }
    if not label:
        del data["baseline_label"]
    return data


# ---------------------------------------------------------------- the gate kinds
def _number(values: dict, key: str) -> tuple[float | None, str | None]:
    """The metric as a float, or None and why not."""
    value = metrics.lookup(values, key)
    if value is None:
        return None, "missing"
    if isinstance(value, dict):
        return None, "a mapping of slices (use max_gap, or a key below it)"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"not a number ({value!r})"
    if not math.isfinite(value):
        return None, f"not finite ({value})"
    return float(value), None


def _result(gate: Gate, kind: str, threshold: float, **fields: Any) -> GateResult:
    return GateResult(
        metric=gate.metric, kind=kind, threshold=threshold, severity=gate.severity, **fields
    )


def _bound(kind: str) -> Callable:
    def check(gate: Gate, threshold: float, current: dict, base: dict | None, label: str | None):
        value, why = _number(current, gate.metric)
        if value is None:
            reason = f"{gate.metric} is {why} in the current metrics"
            return _result(
                gate, kind, threshold, value=None, baseline=None, ok=False, reason=reason
            )
        ok = value >= threshold if kind == "min" else value <= threshold
        sign = (">=" if ok else "<") if kind == "min" else ("<=" if ok else ">")
        reason = f"{value:.6g} {sign} {kind} {threshold:g}"
        return _result(gate, kind, threshold, value=value, baseline=None, ok=ok, reason=reason)

    return check


def _change(kind: str) -> Callable:
    falling = kind == "max_drop"

    def check(gate: Gate, threshold: float, current: dict, base: dict | None, label: str | None):
        value, why = _number(current, gate.metric)
        fields: dict[str, Any] = {"baseline_label": label}
        if value is None:
            reason = f"{gate.metric} is {why} in the current metrics"
            return _result(
                gate, kind, threshold, value=None, baseline=None, ok=False, reason=reason, **fields
            )
        if base is None:
            reason = f"no baseline yet ({label or 'none given'}); passes until there is one"
            return _result(
                gate, kind, threshold, value=value, baseline=None, ok=True, reason=reason, **fields
            )
        reference, why = _number(base, gate.metric)
        if reference is None:
            reason = f"{gate.metric} is {why} in the baseline {label}"
            return _result(
                gate, kind, threshold, value=value, baseline=None, ok=False, reason=reason, **fields
            )
        moved = (reference - value) if falling else (value - reference)
        amount = moved / abs(reference) if gate.relative and reference != 0 else moved
        if gate.relative and reference == 0:
            amount = math.inf if moved > 0 else 0.0
        worse = (value < reference) == (direction_of(gate) == "higher") and value != reference
        ok = amount <= threshold or not worse  # a gate bounds regressions, never improvements
        verdict = "worse" if worse else "better" if value != reference else "unchanged"
        size = abs(amount)
        unit = f"{size:.2%}" if gate.relative and math.isfinite(size) else f"{size:.6g}"
        # the way it moved, not a negative "fell by -0.04"
        verb = ("fell" if falling else "rose") if moved >= 0 else ("rose" if falling else "fell")
        allowed = f"{threshold:.2%}" if gate.relative else f"{threshold:g}"  # as the amount is
        reason = (
            f"{verb} by {unit} from {reference:.6g} ({label}) to {value:.6g}, {verdict}; "
            f"allowed {allowed}"
        )
        return _result(
            gate, kind, threshold, value=value, baseline=reference, ok=ok, reason=reason, **fields
        )

    return check


def _max_gap(gate: Gate, threshold: float, current: dict, base: dict | None, label: str | None):
    found = metrics.lookup(current, gate.metric)
    gap: float | None
    if isinstance(found, dict):
        values = {
            k: float(v)
            for k, v in found.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        }
        if len(values) < 2:
            reason = f"{gate.metric} has {len(values)} numeric slice(s); a gap needs two"
            return _result(
                gate, "max_gap", threshold, value=None, baseline=None, ok=False, reason=reason
            )
        low, high = min(values, key=values.__getitem__), max(values, key=values.__getitem__)
        gap = values[high] - values[low]
        detail = f"{high}={values[high]:.6g} vs {low}={values[low]:.6g}"
    else:
        gap, why = _number(current, gate.metric)
        if gap is None:
            reason = f"{gate.metric} is {why} in the current metrics"
            return _result(
                gate, "max_gap", threshold, value=None, baseline=None, ok=False, reason=reason
            )
        detail = "precomputed gap"
    ok = gap <= threshold
    reason = f"gap {gap:.6g} {'<=' if ok else '>'} max_gap {threshold:g} ({detail})"
    return _result(gate, "max_gap", threshold, value=gap, baseline=None, ok=ok, reason=reason)


def _min_lift(gate: Gate, threshold: float, current: dict, base: dict | None, label: str | None):
    value, why = _number(current, gate.metric)
    if value is None:
        reason = f"{gate.metric} is {why} in the current metrics"
        return _result(
            gate, "min_lift", threshold, value=None, baseline=None, ok=False, reason=reason
        )
    dummy, why = _number(current, f"baseline.{gate.metric}")
    if dummy is None:
        reason = (
            f"baseline.{gate.metric} is {why} in the metrics: score the dummy model with "
            "`mlgit evaluate --baseline --train-labels FILE`"
        )
        return _result(
            gate, "min_lift", threshold, value=value, baseline=None, ok=False, reason=reason
        )
    higher = direction_of(gate) == "higher"
    lift = value - dummy if higher else dummy - value
    ok = lift >= threshold
    better = "above" if higher else "below"
    reason = (
        f"{lift:.6g} {better} the dummy model's {dummy:.6g} "
        f"({'>=' if ok else '<'} min_lift {threshold:g})"
    )
    return _result(
        gate,
        "min_lift",
        threshold,
        value=value,
        baseline=dummy,
        ok=ok,
        reason=reason,
        baseline_label=DUMMY,
    )


GATE_KINDS: dict[str, Callable] = {
    "min": _bound("min"),
    "max": _bound("max"),
    "max_drop": _change("max_drop"),
    "max_rise": _change("max_rise"),
    "max_gap": _max_gap,
    "min_lift": _min_lift,
}


# ---------------------------------------------------------------- gates in a repository
def baseline_metrics(
    repo: git.Repo, config: Config, model: Model, spec: str, state: ArtifactState | None = None
) -> tuple[dict | None, str]:
    """(metrics, label) of a baseline: a stage -> the version it holds (in `state`, else as the
    tags say now) -> the metrics file at that version's commit; or a git revision.
    (None, label) when the stage holds nothing."""
    from mlgit.models.registry.state import read_state
    from mlgit.repo.git import require_full_history, resolve_rev

    path = require_metrics_path(config, model)
    if spec in config.stages:
        require_full_history(repo)  # a shallow clone has no tags: "no baseline yet"
        if state is None:
            state = read_state(repo).artifact(model.name)
        holder = state.stage_holder(spec)
        if holder is None:
            return None, f"{spec}: no version yet"
        label = f"{spec} {holder.version}"
        found = metrics.read_or_none(repo, path, holder.commit)
        return found if found is not None else {}, label
    commit = resolve_rev(repo, spec)
    found = metrics.read_or_none(repo, path, commit)
    return found if found is not None else {}, spec


def check_gate_baselines(repo: git.Repo, config: Config, model: Model) -> None:
    """Every gate's own `baseline:` names a stage or an existing revision."""
    from mlgit.repo.git import commit_or_none, require_full_history

    for index, gate in enumerate(model.gates):
        spec = gate.baseline
        if gate.min_lift is not None:
            if spec not in (None, DUMMY):
                raise MlgitError(
                    f"{config.file}: models.{model.name}.gates.{index}.baseline: a min_lift "
                    f"gate compares with the dummy model; write `baseline: {DUMMY}`, not {spec!r}"
                )
            continue
        if not spec or spec in config.stages or commit_or_none(repo, spec) is not None:
            continue
        require_full_history(repo)  # in a shallow clone the revision may just be cut off
        raise MlgitError(
            f"{config.file}: models.{model.name}.gates.{index}.baseline: {spec!r} is "
            f"neither a stage ({', '.join(config.stages)}) nor a git revision"
        )


def require_metrics_path(config: Config, model: Model) -> str:
    if not model.metrics:
        raise MlgitError(
            f"{config.file}: models.{model.name}.metrics is not set; name the model's DVC "
            "metrics file (e.g. metrics: metrics.json)"
        )
    return model.metrics


def run(
    repo: git.Repo,
    config: Config,
    model: Model,
    rev: str | None = None,
    baseline: str | None = None,
    override: bool = False,
    state: ArtifactState | None = None,
) -> GateReport:
    """The model's gates on its metrics file (work tree, or at `rev`). Relative gates compare
    with `gate.baseline`, else `baseline`, else the last stage; `override` makes `baseline`
    win over the gates' own. `state`: the registry state to find stage holders in."""
    from mlgit.repo.git import require_full_history

    path = require_metrics_path(config, model)
    if not model.gates:
        raise MlgitError(
            f"{config.file}: models.{model.name}.gates is empty; add gates such as "
            "{metric: accuracy, min: 0.8}"
        )
    if baseline in config.stages:  # asked for a stage: a shallow clone cannot tell it
        require_full_history(repo)
    if not override:
        check_gate_baselines(repo, config, model)
    current = metrics.read(repo, path, rev, root=config.root)
    return compare(config, model, current, repo, baseline, override, state)


def compare(
    config: Config,
    model: Model,
    current: dict,
    repo: git.Repo | None = None,
    baseline: str | None = None,
    override: bool = False,
    state: ArtifactState | None = None,
) -> GateReport:
    """The model's gates on `current` metrics, the relative ones against their baselines
    (`gate.baseline`, else `baseline`, else the last stage; `override`: `baseline` wins).
    `repo` None: the project's repository, opened only when a gate has a baseline to read
    (`mlgit monitor` checks production metrics, maybe outside a checkout)."""
    default = baseline or config.stages[-1]
    specs = {
        (default if override or not g.baseline else g.baseline)
        for g in model.gates
        if any(getattr(g, k) is not None for k in BASELINE_KINDS)
    }
    if specs and repo is None:
        from mlgit.repo.git import open_repo

        repo = open_repo(config.root)
    loaded = {
        # `repo` is not None here: it was opened above whenever `specs` is not empty
        spec: baseline_metrics(cast("git.Repo", repo), config, model, spec, state)
        for spec in sorted(specs)
    }
    per_gate = {
        g.baseline: loaded[default if override else g.baseline]
        for g in model.gates
        if g.baseline and (default if override else g.baseline) in loaded
    }
    base, label = loaded.get(default, (None, default))
    return evaluate_gates(model, current, base, label, baselines=per_gate)
