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
    from mlgit.data.engine import Engine
    from mlgit.data.io import Source


@dataclass(frozen=True)
class Target:
    """What the user named: a dataset of mlgit.yaml, or a path outside any."""

    name: str  # the dataset's name, or the path as the user wrote it
    path: str  # POSIX, relative to the repository root when inside it, else absolute
    dataset: Dataset | None
    root: Path  # the repository root (or the working directory outside a repository)
    storage_options: dict = dataclasses.field(default_factory=dict)  # per URL protocol

    @property
    def is_url(self) -> bool:
        from mlgit.data.urls import is_url

        return is_url(self.path)

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
    return Target(name, _posix(dataset.path), dataset, cfg.root, cfg.storage_options)


def _posix(path: str) -> str:
    """A dataset path as targets compare it: POSIX, and a URL as written."""
    from mlgit.data.urls import is_url

    return path if is_url(path) else Path(path).as_posix()


def resolve(text: str, cfg: Config | None) -> Target:
    """NAME (a dataset of mlgit.yaml) or PATH (a dataset's path, or any data, or a URL), not
    yet read."""
    from mlgit.data.urls import is_url

    if cfg is not None and text in cfg.datasets:
        return dataset_target(cfg, text)
    root = project_root(cfg)
    if is_url(text):
        rel = text
    else:
        path = Path(text)
        absolute = (path if path.is_absolute() else Path.cwd() / path).resolve()
        try:
            rel = absolute.relative_to(root.resolve()).as_posix()
        except ValueError:
            rel = str(absolute)
    if cfg is not None:
        for dataset in cfg.datasets.values():
            if _posix(dataset.path) == rel:
                return dataset_target(cfg, dataset.name)
    return Target(text, rel, None, root, cfg.storage_options if cfg else {})


def require_data(target: Target, cfg: Config | None) -> None:
    """A path that is neither a dataset nor on disk (nor DVC-tracked) is a typo: say so."""
    if target.dataset is not None or target.is_url:  # a URL is looked at when it is read
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


def open_target(target: Target, rev: str | None = None, engine: Engine | None = None) -> Source:
    """The target's data: the work-tree copy, a URL, or the DVC-tracked data at git revision
    `rev` (read through DVC's cache, or in place from its remote), read by `engine`."""
    from mlgit.data.io import open_source, source_at

    if target.is_url:
        if rev is not None:
            raise MlgitError(
                f"{target.path}: a URL has no git revision; --rev reads DVC-tracked data "
                "(track it with `dvc import-url` to version it)"
            )
        from mlgit.data.urls import open_url

        return open_url(target.path, target.format, target.storage_options, engine)
    if rev is None:  # a dataset of mlgit.yaml stays in the repository; a typed path is the user's
        confine = target.root if target.dataset is not None else None
        source = open_source(target.local, target.format, target.path, confine=confine)
    else:
        from mlgit.repo.git import open_repo, resolve_rev

        repo = open_repo(target.root)
        source = source_at(repo, target.path, resolve_rev(repo, rev), target.format)
        source = dataclasses.replace(source, label=f"{target.path}@{rev}")
    return dataclasses.replace(source, engine=engine) if engine is not None else source


def open_data(
    where: str | Path, fmt: str | None, cfg: Config | None, engine: Engine | None = None
) -> Source:
    """A path or URL given on the command line (--data, --reference): a file or directory."""
    from mlgit.data.io import open_source
    from mlgit.data.urls import is_url, open_url

    if is_url(str(where)):
        return open_url(str(where), fmt, cfg.storage_options if cfg else {}, engine)
    source = open_source(Path(where), fmt)
    return dataclasses.replace(source, engine=engine) if engine is not None else source
