"""`mlgit reproduce`'s verdict: the metrics a version's tag recorded against those a rebuild
wrote, within absolute tolerances; and the git note that keeps the verdict (refs/notes/mlgit,
JSON: {"schema_version": 1, "reproduce": {TAG: verdict}}), never a rewritten tag."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from mlgit.models.metrics import flatten

NOTES_REF = "mlgit"
PACKAGES = ("dvc", "pandas", "scikit-learn", "numpy", "mlgit")


@dataclass(frozen=True)
class MetricCheck:
    metric: str  # dotted key, as `dvc metrics show` prints it
    recorded: Any
    rebuilt: Any
    difference: float | None  # |rebuilt - recorded| for numbers
    tolerance: float
    ok: bool


@dataclass(frozen=True)
class Verdict:
    artifact: str
    version: str
    tag: str  # the tag whose provenance recorded the metrics
    commit: str
    metrics_file: str
    reproduced: bool
    checks: tuple[MetricCheck, ...]
    environment: dict[str, str]
    checked_at: str
    error: str | None = None  # the pipeline failed: why (its last error line)

    @property
    def differing(self) -> tuple[MetricCheck, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def as_json(self) -> dict:
        return {
            "artifact": self.artifact,
            "version": self.version,
            "tag": self.tag,
            "commit": self.commit,
            "metrics_file": self.metrics_file,
            "reproduced": self.reproduced,
            "checked_at": self.checked_at,
            "error": self.error,
            "differing": [c.metric for c in self.differing],
            "metrics": [
                {
                    "metric": c.metric,
                    "recorded": c.recorded,
                    "rebuilt": c.rebuilt,
                    "difference": c.difference,
                    "tolerance": c.tolerance,
                    "ok": c.ok,
                }
                for c in self.checks
            ],
            "environment": self.environment,
        }


def tolerance_for(metric: str, default: float, per_metric: dict[str, float]) -> float:
    """The tolerance of `metric`: its own entry, else that of the longest dotted prefix
    (`slices` covers `slices.sex.accuracy`), else `default`."""
    parts = metric.split(".")
    for cut in range(len(parts), 0, -1):
        key = ".".join(parts[:cut])
        if key in per_metric:
            return float(per_metric[key])
    return default


def compare(
    recorded: dict, rebuilt: dict | None, default: float, per_metric: dict[str, float]
) -> tuple[MetricCheck, ...]:
    """One check per metric the tag recorded; numbers within tolerance, anything else equal.
    A metric the rebuild did not write differs."""
    new = flatten(rebuilt) if rebuilt is not None else {}
    checks = []
    for metric, old in flatten(recorded).items():
        tol = tolerance_for(metric, default, per_metric)
        value = new.get(metric)
        difference = None
        if isinstance(value, int | float) and _number(old) and _number(value):
            difference = abs(float(value) - float(old))
            ok = difference <= tol or (math.isnan(old) and math.isnan(value))
        else:
            ok = metric in new and value == old
        checks.append(MetricCheck(metric, old, value, difference, tol, ok))
    return tuple(checks)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def environment() -> dict[str, str]:
    """Python and the versions of the packages that make the numbers."""
    import platform
    from importlib import metadata

    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def merged_note(existing: str | None, verdict: Verdict) -> str:
    """The note text with `verdict` set under its tag, keeping other tags' verdicts."""
    data: dict = {}
    if existing:
        try:
            parsed = json.loads(existing)
            data = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            data = {}  # a note not written by mlgit: replaced (the verdict is the note's job)
    data["schema_version"] = 1
    runs = data.get("reproduce")
    runs = runs if isinstance(runs, dict) else {}
    runs[verdict.tag] = verdict.as_json()
    data["reproduce"] = runs
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def verdicts_in(note: str | None) -> dict[str, dict]:
    """{tag: verdict} from a note's text; {} for none, or a note mlgit did not write."""
    if not note:
        return {}
    try:
        data = json.loads(note)
    except ValueError:
        return {}
    runs = data.get("reproduce") if isinstance(data, dict) else None
    return {k: v for k, v in runs.items() if isinstance(v, dict)} if isinstance(runs, dict) else {}
