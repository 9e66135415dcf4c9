"""`mlgit profile NAME|PATH`: write a mergeable reference profile of a dataset (for drift)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    from mlgit.data.engine import Choice
    from mlgit.report import Report


def profile(
    target: str, rev: str | None, output: Path | None, engine: Choice | None = None
) -> Report:
    """Profile the data and write it to `output` (default: the dataset's `reference:`)."""
    from mlgit.config import load_or_none
    from mlgit.data.engine import chosen
    from mlgit.data.profile import build, dumps
    from mlgit.data.targets import open_target, require_data, resolve
    from mlgit.fs import write_atomic
    from mlgit.report.profile import as_report

    cfg = load_or_none()
    found = resolve(target, cfg)
    if rev is None and cfg is not None:
        require_data(found, cfg)
    if output is None:
        dataset = found.dataset
        if cfg is None or dataset is None or not dataset.reference:
            where = f"datasets.{target}.reference in {cfg.file}" if dataset and cfg else "-o FILE"
            raise MlgitError(f"{target}: where should the profile go? set {where} or pass -o FILE")
        output = cfg.root / dataset.reference
    result = build(open_target(found, rev, chosen(engine, cfg)))
    write_atomic(output, dumps(result))
    return as_report(result, str(output))
