"""`mlgit drift NAME`: the reference (a profile, reference data profiled on the fly, or the
dataset at a base revision) against the current data (a path, the dataset at a revision, or its
work-tree copy); the metrics and verdicts are `data/drift.py`'s."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    from mlgit.config import Config
    from mlgit.data.drift import DriftResult
    from mlgit.data.engine import Choice, Engine
    from mlgit.data.targets import Target
    from mlgit.report import Report


def drift(
    name: str,
    *,
    data: str | Path | None = None,
    rev: str | None = None,
    reference_file: str | Path | None = None,
    base_rev: str | None = None,
    plots_dir: Path | None = None,
    output: Path | None = None,
    engine: Choice | None = None,
) -> Report:
    """The command: compare, then draw the plots (paths relative to where the report goes)."""
    from mlgit.report.drift import as_report

    result = run(name, data, rev, reference_file, base_rev, engine)
    images: tuple[tuple[str, str], ...] = ()
    if plots_dir is not None:
        from mlgit.report.plots import drift_plots

        base = (output.parent if output else Path.cwd()).resolve()
        images = tuple(
            (caption, Path(os.path.relpath(file.resolve(), base)).as_posix())
            for caption, file in drift_plots(result, plots_dir)
        )
    return as_report(result, images)


def run(
    name: str,
    data: str | Path | None = None,
    rev: str | None = None,
    reference_file: str | Path | None = None,
    base_rev: str | None = None,
    engine: Choice | None = None,
) -> DriftResult:
    """The drift of `name`'s current data against its reference (also used by `mlgit report`).
    `data` and `reference_file` are paths or URLs."""
    from mlgit.config import load_or_none
    from mlgit.data.drift import compare_source, settings
    from mlgit.data.engine import chosen
    from mlgit.data.targets import open_data, open_target, require_data, resolve

    if data is not None and rev is not None:
        raise MlgitError("--data and --rev: give one of them (the current data), not both")
    if reference_file is not None and base_rev is not None:
        raise MlgitError("--reference and --base-rev: give one of them, not both")
    cfg = load_or_none()
    rules = settings(cfg.drift, cfg.place) if cfg else settings(None)
    engine_used = chosen(engine, cfg)
    target = resolve(name, cfg)
    if data is not None:
        current = open_data(data, target.format, cfg, engine_used)
    else:
        if rev is None and cfg is not None:
            require_data(target, cfg)
        current = open_target(target, rev, engine_used)
    reference, label = _reference(target, cfg, reference_file, base_rev, engine_used)
    return compare_source(target.name, reference, current, rules, label)


def _reference(
    target: Target,
    cfg: Config | None,
    reference_file: str | Path | None,
    base_rev: str | None,
    engine: Engine,
) -> tuple[dict[str, Any], str]:
    """(reference profile, what to call it in messages)."""
    from mlgit.data import profile
    from mlgit.data.drift import is_profile_file
    from mlgit.data.targets import open_data, open_target
    from mlgit.data.urls import is_url

    dataset = target.dataset
    if reference_file is not None and (
        is_url(str(reference_file)) or not is_profile_file(Path(reference_file))
    ):
        reference_data = open_data(reference_file, target.format, cfg, engine)
        return profile.build(reference_data), str(reference_file)
    if reference_file is not None:
        return profile.load(Path(reference_file)), str(reference_file)
    if base_rev is not None:
        reference = profile.build(open_target(target, base_rev, engine))
        return reference, reference["source"]
    if cfg is not None and dataset is not None and dataset.reference:
        return profile.load(cfg.root / dataset.reference), dataset.reference
    where = f"datasets.{target.name}.reference in {cfg.file}" if cfg and dataset else "mlgit.yaml"
    raise MlgitError(
        f"{target.name}: no reference profile ({where} is not set); pass --reference FILE or "
        f"--base-rev REV, or write one with `mlgit profile {target.name}`"
    )
