"""`mlgit validate`: pick the datasets, read them (work tree or a revision), check, cache.

Load -> check -> report: this module decides *what* to validate and reuses earlier results
keyed by (data fingerprint, schema digest); `mlgit.data.checks.validate` does the checking and
`mlgit.report.validation` lays the results out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import decimal
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit import __version__
from mlgit.data.checks import CheckResult, DatasetResult
from mlgit.data.schema import TableSchema, load_schema, schema_hash
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import git

    from mlgit.config import Config
    from mlgit.data.io import Source

CACHE_VERSION = 1


@dataclass(frozen=True)
class Target:
    """One thing to validate: a dataset of mlgit.yaml or a path, and the schema for it."""

    name: str  # the dataset name, or the path as the user wrote it
    path: str  # relative to the repository root when inside one
    schema_file: Path
    format: str | None = None


@dataclass(frozen=True)
class Selection:
    targets: tuple[Target, ...]
    base: str | None = None  # the revision --changed compared with
    unchanged: tuple[str, ...] = ()  # datasets --changed left out


def _config() -> Config | None:
    from mlgit import config

    try:
        file = config.find_config()
    except MlgitError:
        return None
    return config.load(file)


def _root() -> Path:
    from mlgit.repo.git import find_root

    return find_root(Path.cwd()) or Path.cwd()


def select(names: tuple[str, ...], schema_file: Path | None) -> list[Target]:
    """The targets named on the command line (default: every dataset in mlgit.yaml)."""
    cfg = _config()
    root = cfg.root if cfg else _root()
    if not names:
        if cfg is None:
            raise MlgitError(
                "no mlgit.yaml here and no dataset given; run `mlgit init`, or "
                "`mlgit validate PATH --schema FILE`"
            )
        if not cfg.datasets:
            raise MlgitError(f"{cfg.file}: no datasets; add one with `mlgit track PATH`")
        return [_dataset_target(cfg, name, schema_file) for name in cfg.datasets]
    unique = list(dict.fromkeys(names))  # `validate train train` checks it once
    return [_named_target(cfg, root, name, schema_file) for name in unique]


def _dataset_target(cfg: Config, name: str, schema_file: Path | None) -> Target:
    dataset = cfg.dataset(name)
    if schema_file is None and not dataset.schema:
        raise MlgitError(
            f"{cfg.file}: datasets.{name}: no `schema:`; create one with `mlgit schema infer "
            f"{dataset.path} -o schemas/{name}.schema.yaml` and set `schema:` to it"
        )
    schema = schema_file if schema_file is not None else cfg.root / str(dataset.schema)
    return Target(name, Path(dataset.path).as_posix(), schema, dataset.format)


def _named_target(cfg: Config | None, root: Path, name: str, schema_file: Path | None) -> Target:
    if cfg is not None and name in cfg.datasets:
        return _dataset_target(cfg, name, schema_file)
    path = Path(name)
    absolute = (path if path.is_absolute() else Path.cwd() / path).resolve()
    try:
        rel = absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = str(absolute)
    if cfg is not None:
        for dataset in cfg.datasets.values():
            if Path(dataset.path).as_posix() == rel:
                return _dataset_target(cfg, dataset.name, schema_file)
    if schema_file is None and not absolute.exists() and not Path(f"{absolute}.dvc").exists():
        from mlgit.config import _did_you_mean

        known = list(cfg.datasets) if cfg else []
        raise MlgitError(
            f"{name}: no such dataset in mlgit.yaml (datasets: {', '.join(known) or 'none'}) "
            f"and no such file or directory{_did_you_mean(name, known)}"
        )
    if schema_file is None:
        known = ", ".join(cfg.datasets) if cfg and cfg.datasets else "none"
        raise MlgitError(
            f"{name}: not a dataset of mlgit.yaml (datasets: {known}) and no --schema given; "
            "pass --schema FILE or track it with `mlgit track`"
        )
    return Target(name, rel, schema_file)


def changed_only(targets: list[Target], base: str | None) -> Selection:
    """The targets whose DVC hash (or schema file) differs from `base`."""
    from mlgit.repo import dvc
    from mlgit.repo import git as gitx

    repo = gitx.open_repo(Path.cwd())
    if not base:
        base = gitx.merge_base(repo, gitx.default_branch(repo))
    base_sha = gitx.resolve_rev(repo, base)
    keep, left_out = [], []
    root = Path(repo.working_dir)
    for target in targets:
        now = dvc.tracked(repo, target.path)
        then = dvc.tracked(repo, target.path, base_sha)
        data_changed = now is None or then is None or now.md5 != then.md5
        if data_changed or _schema_changed(repo, root, target.schema_file, base_sha):
            keep.append(target)
        else:
            left_out.append(target.name)
    return Selection(tuple(keep), base, tuple(left_out))


def _schema_changed(repo: git.Repo, root: Path, schema_file: Path, base: str) -> bool:
    from mlgit.repo import git as gitx

    try:
        rel = schema_file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return False  # a schema outside the repository has no history to compare with
    now = schema_file.read_bytes() if schema_file.exists() else None
    return now != gitx.read_file_at(repo, base, rel)


# ---------------------------------------------------------------- running
ProgressFactory = Callable[[str, int | None], Callable[[int], None]]


def run(
    targets: list[Target] | tuple[Target, ...],
    *,
    rev: str | None = None,
    sample: int = 20,
    fail_fast: bool = False,
    use_cache: bool = True,
    progress: ProgressFactory | None = None,
) -> list[DatasetResult]:
    """Validate every target; a bad schema or unreadable data stops with MlgitError first."""
    schemas = {t.schema_file: load_schema(t.schema_file) for t in targets}  # all errors early
    results = []
    for target in targets:
        schema = schemas[target.schema_file]
        with _opened(target, rev) as (source, data_key):
            results.append(
                _validate_one(
                    target, source, schema, data_key, sample, fail_fast, use_cache, progress
                )
            )
    return results


def workspace_notes(targets: list[Target] | tuple[Target, ...]) -> list[str]:
    """A note per DVC-tracked target whose work-tree copy is not the data its `.dvc` file (or
    `dvc.lock`) records, as after a `git checkout` without `dvc checkout`: validate reads the
    copy on disk, which is then not the data git says is tracked."""
    from mlgit.repo import dvc
    from mlgit.repo import git as gitx

    root = gitx.find_root(Path.cwd())
    if root is None or not dvc.is_initialized(root):
        return []
    repo = gitx.open_repo(root)
    records = {t.path: dvc.tracked(repo, t.path) for t in targets}
    paths = [path for path, record in records.items() if record is not None]
    if not paths:
        return []
    try:
        changed = dvc.changed_outputs(root, paths)
    except MlgitError as exc:
        return [f"could not compare the data with DVC's records: {exc}"]
    return [
        f"{path} is {state} against {records[path].source}: the copy on disk was validated, "
        f"not the tracked data; run `dvc checkout {path}` to validate that, or `dvc add "
        f"{path}` to track this copy"
        for path, state in changed.items()
    ]


@contextlib.contextmanager
def _opened(target: Target, rev: str | None) -> Iterator[tuple[Source, str]]:
    """The target's Source and a key that changes whenever its bytes may have changed."""
    from mlgit.data import io

    if rev is None:
        root = _root()
        path = Path(target.path)
        source = io.open_source(
            path if path.is_absolute() else root / path, target.format, target.path
        )
        yield source, _stat_key(source)
        return
    from mlgit.repo import dvc
    from mlgit.repo import git as gitx

    repo = gitx.open_repo(Path.cwd())
    sha = gitx.resolve_rev(repo, rev)
    source = io.source_at(repo, target.path, sha, target.format)
    source = dataclasses.replace(source, label=f"{target.path}@{rev}")
    record = dvc.tracked(repo, target.path, sha)
    try:
        yield source, f"dvc:{record.md5 if record else sha}:{source.format}"
    finally:
        _remove_fetched(source)


def _stat_key(source: Source) -> str:
    """Size, mtime, ctime and inode of every file: a file edited after `dvc add` gets a new
    key, even when `cp -p` or `touch -r` put its old mtime back (no one can set the ctime)."""
    parts = [source.format]
    for data_file in source.files:
        stat = data_file.local.stat()
        parts.append(
            f"{data_file.relpath}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:"
            f"{stat.st_ino}"
        )
    return "stat:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _remove_fetched(source: Source) -> None:
    """Delete the temporary copy DVC fetched from a remote (never DVC's cache)."""
    tmp = Path(tempfile.gettempdir()).resolve()
    for data_file in source.files[:1]:
        for parent in data_file.local.resolve().parents:
            if parent.parent == tmp and parent.name.startswith("mlgit-fetch-"):
                shutil.rmtree(parent, ignore_errors=True)


def _validate_one(
    target: Target,
    source: Source,
    schema: TableSchema,
    data_key: str,
    sample: int,
    fail_fast: bool,
    use_cache: bool,
    progress: ProgressFactory | None,
) -> DatasetResult:
    from mlgit.data import io
    from mlgit.data.checks import validate

    key = _cache_key(schema, data_key, sample)
    if use_cache:
        hit = _cache_read(key)
        if hit is not None:
            return dataclasses.replace(hit, dataset=target.name, source=source.label, cached=True)
    tick = progress(target.name, io.row_count(source)) if progress else None
    result = validate(
        source, schema, sample=sample, fail_fast=fail_fast, root=_root(), progress=tick
    )
    result = dataclasses.replace(result, dataset=target.name, schema=_shown(target.schema_file))
    if use_cache and not result.stopped_early:
        _cache_write(key, result)
    return result


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(_root().resolve()).as_posix()
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- the results cache
def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlgit" / "validate"


def _cache_key(schema: TableSchema, data_key: str, sample: int) -> str:
    parts = [str(CACHE_VERSION), __version__, data_key, schema_hash(schema), str(sample)]
    root = _root()
    for expectation in schema.expectations:  # a custom check's code is part of the rules
        if expectation.expect == "custom":
            file = root / str(expectation.get("function")).rsplit(":", 1)[0]
            parts.append(hashlib.sha256(file.read_bytes()).hexdigest() if file.exists() else "-")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _cache_read(key: str) -> DatasetResult | None:
    file = cache_dir() / f"{key}.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        checks = tuple(
            CheckResult(**{**c, "examples": tuple(tuple(e) for e in c["examples"])})
            for c in data.pop("results")
        )
        return DatasetResult(**data, results=checks)
    except (OSError, ValueError, TypeError, KeyError):
        return None  # no entry, or one from another version: validate again


def _cache_write(key: str, result: DatasetResult) -> None:
    from mlgit.report import write_atomic

    data = jsonable(dataclasses.asdict(result))
    with contextlib.suppress(MlgitError):  # a read-only cache only costs speed
        write_atomic(cache_dir() / f"{key}.json", json.dumps(data))


def jsonable(value: Any) -> Any:
    """Values as JSON can hold them: dates as ISO text, decimals and bytes as text."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# ---------------------------------------------------------------- progress
PROGRESS_AFTER = 2.0  # seconds: a scan that ends sooner never shows a bar


@contextlib.contextmanager
def progress_bar(after: float | None = None) -> Iterator[ProgressFactory | None]:
    """A rich progress bar on stderr, only when stderr is a terminal and the data takes time.

    The bar appears at the first batch read `after` seconds (default PROGRESS_AFTER) into the
    run, so validating small data prints nothing; it is transient, so the report stays clean.
    """
    if not sys.stderr.isatty():
        yield None
        return
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("validating {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    )
    bar = Progress(*columns, console=Console(stderr=True), transient=True)
    show_at = time.monotonic() + (PROGRESS_AFTER if after is None else after)
    started = False

    def factory(name: str, total: int | None) -> Callable[[int], None]:
        task = bar.add_task(name, total=total)

        def tick(rows: int) -> None:
            nonlocal started
            bar.advance(task, rows)
            if not started and time.monotonic() >= show_at:
                bar.start()
                started = True

        return tick

    try:
        yield factory
    finally:
        if started:
            bar.stop()
