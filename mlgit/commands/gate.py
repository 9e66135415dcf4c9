"""`mlgit gate MODEL`: the model's metric gates on its metrics file, one row per gate."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlgit.report import Report


def gate(model: str, baseline: str | None = None, rev: str | None = None) -> Report:
    """MODEL's gates on its metrics (the work tree's, or as committed at `rev`); `baseline`
    (a stage or a revision) replaces every gate's own baseline."""
    from mlgit import config
    from mlgit.errors import MlgitError
    from mlgit.models import gates
    from mlgit.models.registry.tags import validate_artifact
    from mlgit.repo.git import open_repo
    from mlgit.report.gates import as_report

    validate_artifact(model)
    if baseline is not None and not baseline.strip():
        raise MlgitError("--baseline '': name a stage or a git revision to compare with")
    cfg = config.load()
    repo = open_repo(cfg.root)
    spec = cfg.model(model)
    result = gates.run(repo, cfg, spec, rev=rev, baseline=baseline, override=baseline is not None)
    label = f"{spec.metrics}@{rev}" if rev else str(spec.metrics)
    return as_report(model, result, label)
