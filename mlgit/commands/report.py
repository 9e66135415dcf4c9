"""`mlgit report`: what the reviewer of a pull request needs to know, in one summary.

Against a base revision (default: the merge-base with the default branch): the datasets the
change touched, validated against their schemas; the drift of their data against the data at
the base; every model's metrics at the base and now; and the models' gates. It composes
`validate`, `drift` and `gate` and computes nothing of its own. Validation errors and failed
gates fail the report (exit 1); drift only warns, since a pull request that brings new training
data is expected to move its distribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import git

    from mlgit.commands.validate import Job
    from mlgit.config import Config
    from mlgit.data.checks import DatasetResult
    from mlgit.data.drift import DriftResult
    from mlgit.models.gates import GateReport
    from mlgit.report import Report


@dataclass(frozen=True)
class MetricChange:
    model: str
    metric: str  # flattened, as `dvc metrics diff` prints it: slices.sex.accuracy
    base: float | None  # None: not in the base's metrics file (or no file there)
    current: float | None

    @property
    def change(self) -> float | None:
        if self.base is None or self.current is None:
            return None
        return self.current - self.base


@dataclass(frozen=True)
class ModelGates:
    model: str
    metrics_file: str
    report: GateReport


@dataclass(frozen=True)
class Review:
    base: str  # the revision as the user gave it (or the merge-base found)
    base_commit: str
    validation: tuple[DatasetResult, ...]
    unchanged: tuple[str, ...]  # datasets the change did not touch
    warnings: tuple[str, ...]  # changed datasets whose copy on disk is not the tracked data
    drift: tuple[DriftResult, ...]
    metrics: tuple[MetricChange, ...]
    gates: tuple[ModelGates, ...]
    notes: tuple[str, ...]  # what was not compared, and why


def report(base: str | None) -> Report:
    """The command: the summary of the change against `base` (default: the merge-base)."""
    from mlgit.config import load
    from mlgit.report.review import as_report

    cfg = load()
    require_something(cfg)
    return as_report(run(cfg, base))


def run(cfg: Config, base: str | None = None) -> Review:
    from mlgit.commands.validate import workspace_notes
    from mlgit.repo.git import default_branch, merge_base, open_repo, resolve_rev

    repo = open_repo(cfg.root)
    if base is None:
        branch = default_branch(repo)
        base_commit = merge_base(repo, branch)
        base = f"the merge-base with {branch}"
    else:
        base_commit = resolve_rev(repo, base)
    notes: list[str] = []
    validation, unchanged, changed = _validation(cfg, base_commit, notes)
    return Review(
        base=base,
        base_commit=base_commit,
        validation=validation,
        unchanged=unchanged,
        warnings=tuple(workspace_notes(changed)),
        drift=_drift(cfg, repo, base_commit, tuple(t.name for t in changed), notes),
        metrics=_metrics(cfg, repo, base_commit, notes),
        gates=_gates(cfg, repo, notes),
        notes=tuple(notes),
    )


def _validation(
    cfg: Config, base_commit: str, notes: list[str]
) -> tuple[tuple[DatasetResult, ...], tuple[str, ...], tuple[Job, ...]]:
    """(results for the datasets changed since the base, names unchanged, jobs changed)."""
    from mlgit.commands import validate

    with_schema = [name for name, d in cfg.datasets.items() if d.schema]
    for name in cfg.datasets:
        if name not in with_schema:
            notes.append(f"dataset {name} has no schema: not validated")
    if not with_schema:
        return (), (), ()
    selection = validate.changed_only(validate.select(tuple(with_schema), None), base_commit)
    results = validate.run(selection.jobs, sample=5)
    return tuple(results), selection.unchanged, selection.jobs


def _drift(
    cfg: Config, repo: git.Repo, base_commit: str, changed: tuple[str, ...], notes: list[str]
) -> tuple[DriftResult, ...]:
    """Each changed dataset whose data changed, against its data at the base."""
    from mlgit.commands.drift import run
    from mlgit.repo.dvc import tracked

    results = []
    for name in changed:
        path = cfg.datasets[name].path
        then = tracked(repo, path, base_commit)
        now = tracked(repo, path)
        if then is None:
            notes.append(f"dataset {name} is new: no data at the base to compare with")
        elif now is not None and now.md5 == then.md5:
            continue  # only its schema changed
        else:
            results.append(run(name, base_rev=base_commit))
    return tuple(results)


def _metrics(
    cfg: Config, repo: git.Repo, base_commit: str, notes: list[str]
) -> tuple[MetricChange, ...]:
    from mlgit.models.metrics import read, read_or_none

    changes = []
    for model in cfg.models.values():
        if not model.metrics:
            notes.append(f"model {model.name} has no metrics file in mlgit.yaml")
            continue
        current = _numbers(read(repo, model.metrics, root=cfg.root))
        base = _numbers(read_or_none(repo, model.metrics, base_commit) or {})
        for metric in sorted(set(current) | set(base)):
            changes.append(MetricChange(model.name, metric, base.get(metric), current.get(metric)))
    return tuple(changes)


def _numbers(metrics: dict) -> dict[str, float]:
    from mlgit.models.metrics import flatten

    return {
        key: float(value)
        for key, value in flatten(metrics).items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }


def _gates(cfg: Config, repo: git.Repo, notes: list[str]) -> tuple[ModelGates, ...]:
    from mlgit.models import gates

    found = []
    for model in cfg.models.values():
        if not model.gates:
            notes.append(f"model {model.name} has no gates in mlgit.yaml")
            continue
        if not model.metrics:
            continue  # said under metrics
        found.append(ModelGates(model.name, model.metrics, gates.run(repo, cfg, model)))
    return tuple(found)


def require_something(cfg: Config) -> None:
    if not cfg.datasets and not cfg.models:
        raise MlgitError(
            f"{cfg.file}: no datasets and no models to report on; add them with "
            "`mlgit track PATH` and a `models:` block"
        )
