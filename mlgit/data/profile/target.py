"""What NAME|PATH means: a dataset named in mlgit.yaml or a plain path, now or at a revision."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgit.data.io import Source
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    from mlgit.config import Config, Dataset


@dataclass(frozen=True)
class Target:
    """A dataset named in mlgit.yaml (or a plain path) and the data to read for it."""

    source: Source
    dataset: Dataset | None
    config: Config | None


def project_config() -> Config | None:
    """mlgit.yaml of the current repository (validated), or None outside an mlgit project."""
    from mlgit import config as config_mod

    try:
        file = config_mod.find_config()
    except MlgitError:
        return None
    return config_mod.load(file)


def resolve(target: str, rev: str | None, cfg: Config | None) -> Target:
    """NAME (a dataset in mlgit.yaml) or PATH, in the work tree or at git revision `rev`."""
    from mlgit.data.io import open_source, source_at
    from mlgit.repo import git as gitx

    dataset = cfg.datasets.get(target) if cfg else None
    if dataset is not None:
        if rev is None:
            source = open_source(cfg.root / dataset.path, dataset.format, label=dataset.path)
        else:
            repo = gitx.open_repo(cfg.root)
            source = source_at(repo, dataset.path, gitx.resolve_rev(repo, rev), dataset.format)
            source = Source(f"{dataset.path}@{rev}", source.files, source.format)
        return Target(source, dataset, cfg)
    path = Path(target)
    if rev is not None:
        repo = gitx.open_repo(path.parent if path.parent.exists() else None)
        rel = gitx.relative_to_root(repo, path).as_posix()
        return Target(source_at(repo, rel, rev), None, cfg)
    if not path.exists() and cfg is not None:
        known = ", ".join(cfg.datasets) or "none"
        raise MlgitError(
            f"{target}: no dataset of that name in {cfg.file} (datasets: {known}) "
            "and no such file or directory"
        )
    return Target(open_source(path), None, cfg)
