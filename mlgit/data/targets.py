"""NAME|PATH on the command line: a dataset of mlgit.yaml, or a path to data, and where to read it.

`validate`, `profile` and `drift` take either the name of a dataset or a path; a path that is a
dataset's path means that dataset (so `mlgit validate data/train.parquet` uses train's schema).
One resolution serves them all, and one function opens the data: the work-tree copy, or the
DVC-tracked data as it was at a git revision.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgit.documents import did_you_mean
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    from mlgit.config import Config, Dataset
    from mlgit.data.io import Source


@dataclass(frozen=True)
class Target:
    """What the user named: a dataset of mlgit.yaml, or a path outside any."""

    name: str  # the dataset's name, or the path as the user wrote it
    path: str  # POSIX, relative to the repository root when inside it, else absolute
    dataset: Dataset | None
    root: Path  # the repository root (or the working directory outside a repository)

    @property
    def format(self) -> str | None:
        return self.dataset.format if self.dataset else None

    @property
    def local(self) -> Path:
        """The path on disk (the work-tree copy)."""
        path = Path(self.path)
        return path if path.is_absolute() else self.root / path


def project_root(cfg: Config | None) -> Path:
    """The project's root: mlgit.yaml's directory, else the git work tree, else the cwd."""
    if cfg is not None:
        return cfg.root
    from mlgit.repo.git import find_root

    return find_root(Path.cwd()) or Path.cwd()


def dataset_target(cfg: Config, name: str) -> Target:
    dataset = cfg.dataset(name)
    return Target(name, Path(dataset.path).as_posix(), dataset, cfg.root)


def resolve(text: str, cfg: Config | None) -> Target:
    """NAME (a dataset of mlgit.yaml) or PATH (a dataset's path, or any data), not yet read."""
    if cfg is not None and text in cfg.datasets:
        return dataset_target(cfg, text)
    root = project_root(cfg)
    path = Path(text)
    absolute = (path if path.is_absolute() else Path.cwd() / path).resolve()
    try:
        rel = absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = str(absolute)
    if cfg is not None:
        for dataset in cfg.datasets.values():
            if Path(dataset.path).as_posix() == rel:
                return dataset_target(cfg, dataset.name)
    return Target(text, rel, None, root)


def require_data(target: Target, cfg: Config | None) -> None:
    """A path that is neither a dataset nor on disk (nor DVC-tracked) is a typo: say so."""
    if target.dataset is not None:
        return
    local = target.local
    if local.exists() or Path(f"{local}.dvc").exists():
        return
    known = list(cfg.datasets) if cfg else []
    listed = f"datasets: {', '.join(known)}" if known else "it has no datasets yet"
    raise MlgitError(
        f"{target.name}: no such dataset in mlgit.yaml ({listed}) "
        f"and no such file or directory{did_you_mean(target.name, known)}"
    )


def open_target(target: Target, rev: str | None = None) -> Source:
    """The target's data: the work-tree copy, or the DVC-tracked data at git revision `rev`
    (read through DVC's cache or remote; the caller removes a fetched copy with
    `io.remove_fetched`)."""
    from mlgit.data.io import open_source, source_at

    if rev is None:  # a dataset of mlgit.yaml stays in the repository; a typed path is the user's
        confine = target.root if target.dataset is not None else None
        return open_source(target.local, target.format, target.path, confine=confine)
    from mlgit.repo.git import open_repo, resolve_rev

    repo = open_repo(target.root)
    source = source_at(repo, target.path, resolve_rev(repo, rev), target.format)
    return dataclasses.replace(source, label=f"{target.path}@{rev}")
