"""`mlgit validate`: pick the datasets, read them (work tree or a revision), check, cache.

Load -> check -> report: this module decides *what* to validate and reuses earlier results
(`data/cache.py`); `mlgit.data.checks.validate` does the checking and `mlgit.report.validation`
lays the results out. `mlgit report` and the pre-commit hook reuse `select`, `changed_only` and
`run`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgit.data.targets import Target, dataset_target, project_root, require_data, resolve
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import git

    from mlgit.config import Config
    from mlgit.data.checks import DatasetResult
    from mlgit.data.engine import Choice, Engine
    from mlgit.data.io import Source
    from mlgit.data.schema import TableSchema
    from mlgit.report import Report
    from mlgit.report.progress import ProgressFactory


@dataclass(frozen=True)
class Job:
    """A dataset (or path) and the schema file to check it against."""

    target: Target
    schema_file: Path

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def path(self) -> str:
        return self.target.path


@dataclass(frozen=True)
class Selection:
    jobs: tuple[Job, ...]
    base: str | None = None  # the revision --changed compared with
    unchanged: tuple[str, ...] = ()  # datasets --changed left out


def validate(
    names: tuple[str, ...],
    *,
    schema_file: Path | None = None,
    rev: str | None = None,
    changed: str | None = None,
    sample: int = 20,
    fail_fast: bool = False,
    use_cache: bool = True,
    compact: bool = False,
    problems_only: bool = False,
    engine: Choice | None = None,
) -> Report:
    """The command: `changed` is None (every named dataset), "" (since the merge-base with the
    default branch) or a base revision; `engine` is the command line's choice of engine."""
    from mlgit.report.progress import progress_bar
    from mlgit.report.validation import as_report

    if rev is not None and changed is not None:
        raise MlgitError("--rev and --changed do not go together; pick one")
    chosen = select(names, schema_file)
    selection = Selection(tuple(chosen))
    if changed is not None:
        selection = changed_only(chosen, changed or None)
    with progress_bar() as progress:
        results = run(
            selection.jobs,
            rev=rev,
            sample=sample,
            fail_fast=fail_fast,
            use_cache=use_cache,
            progress=progress,
            engine=chosen_engine(engine),
        )
    report = as_report(
        results,
        base=selection.base,
        unchanged=selection.unchanged,
        compact=compact,
        problems_only=problems_only,
        warnings=[
            *_without_schema(names, schema_file),
            *(workspace_notes(selection.jobs) if rev is None else ()),
        ],
    )
    unreadable = [e for r in results for e in r.unreadable]
    if unreadable:  # exit 2 after the partial report: never a silent pass
        more = f" (and {len(unreadable) - 1} more)" if len(unreadable) > 1 else ""
        report = dataclasses.replace(report, error=f"{unreadable[0]}{more}")
    return report


def chosen_engine(choice: Choice | None) -> Engine:
    """The engine the command line, MLGIT_DASK_SCHEDULER and mlgit.yaml's `engine:` choose."""
    from mlgit.config import load_or_none
    from mlgit.data.engine import chosen

    return chosen(choice, load_or_none())


def _without_schema(names: tuple[str, ...], schema_file: Path | None) -> list[str]:
    """Datasets `mlgit validate` (all of them) leaves out, as a schema-less dataset is (images,
    models' inputs): a note each, with the command that makes one."""
    from mlgit.config import load_or_none

    cfg = load_or_none()
    if names or schema_file is not None or cfg is None:
        return []
    return [
        f"dataset {d.name} has no schema: not validated; create one with `mlgit schema infer "
        f"{d.path} -o schemas/{d.name}.schema.yaml` and set datasets.{d.name}.schema"
        for d in cfg.datasets.values()
        if not d.schema
    ]


# ---------------------------------------------------------------- choosing what to validate
def select(names: tuple[str, ...], schema_file: Path | None) -> list[Job]:
    """The datasets named on the command line (default: every dataset in mlgit.yaml)."""
    from mlgit.config import load_or_none

    cfg = load_or_none()
    if not names:
        if cfg is None:
            raise MlgitError(
                "no mlgit.yaml here and no dataset given; run `mlgit init`, or "
                "`mlgit validate PATH --schema FILE`"
            )
        if not cfg.datasets:
            raise MlgitError(f"{cfg.file}: no datasets; add one with `mlgit track PATH`")
        with_schema = [n for n, d in cfg.datasets.items() if d.schema or schema_file is not None]
        names = tuple(with_schema) or tuple(cfg.datasets)  # none has one: say so for the first
        return [_job(cfg, dataset_target(cfg, name), schema_file) for name in names]
    unique = list(dict.fromkeys(names))  # `validate train train` checks it once
    return [_named_job(cfg, name, schema_file) for name in unique]


def _job(cfg: Config | None, target: Target, schema_file: Path | None) -> Job:
    if schema_file is not None:
        return Job(target, schema_file)
    dataset = target.dataset
    if cfg is not None and dataset is not None:
        if not dataset.schema:
            raise MlgitError(
                f"{cfg.file}: datasets.{dataset.name}: no `schema:`; create one with `mlgit "
                f"schema infer {dataset.path} -o schemas/{dataset.name}.schema.yaml` and set "
                "`schema:` to it"
            )
        return Job(target, cfg.root / str(dataset.schema))
    known = ", ".join(cfg.datasets) if cfg and cfg.datasets else "none"
    raise MlgitError(
        f"{target.name}: not a dataset of mlgit.yaml (datasets: {known}) and no --schema given; "
        "pass --schema FILE or track it with `mlgit track`"
    )


def _named_job(cfg: Config | None, name: str, schema_file: Path | None) -> Job:
    target = resolve(name, cfg)
    if schema_file is None:
        require_data(target, cfg)
    return _job(cfg, target, schema_file)


def changed_only(jobs: list[Job], base: str | None) -> Selection:
    """The jobs whose DVC hash (or schema file) differs from `base`."""
    from mlgit.repo.dvc import tracked
    from mlgit.repo.git import default_branch, merge_base, open_repo, resolve_rev

    repo = open_repo(Path.cwd())
    if not base:
        base = merge_base(repo, default_branch(repo))
    base_sha = resolve_rev(repo, base)
    keep, left_out = [], []
    root = Path(repo.working_dir)
    for job in jobs:
        now = tracked(repo, job.path)
        then = tracked(repo, job.path, base_sha)
        data_changed = now is None or then is None or now.md5 != then.md5
        if data_changed or _schema_changed(repo, root, job.schema_file, base_sha):
            keep.append(job)
        else:
            left_out.append(job.name)
    return Selection(tuple(keep), base, tuple(left_out))


def _schema_changed(repo: git.Repo, root: Path, schema_file: Path, base: str) -> bool:
    from mlgit.repo.git import read_file_at

    try:
        rel = schema_file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return False  # a schema outside the repository has no history to compare with
    now = schema_file.read_bytes() if schema_file.exists() else None
    return now != read_file_at(repo, base, rel)


# ---------------------------------------------------------------- running
def run(
    jobs: list[Job] | tuple[Job, ...],
    *,
    rev: str | None = None,
    sample: int = 20,
    fail_fast: bool = False,
    use_cache: bool = True,
    progress: ProgressFactory | None = None,
    engine: Engine | None = None,
) -> list[DatasetResult]:
    """Validate every job; a bad schema or unreadable data stops with MlgitError first (files
    of a directory that cannot be read are reported in their DatasetResult instead)."""
    from mlgit.data.schema import load_schema

    schemas = {j.schema_file: load_schema(j.schema_file) for j in jobs}  # all errors early
    engine = engine or chosen_engine(None)
    results = []
    for job in jobs:
        schema = schemas[job.schema_file]
        with _opened(job.target, rev, engine) as (source, data_key):
            results.append(
                _validate_one(job, source, schema, data_key, sample, fail_fast, use_cache, progress)
            )
    return results


def workspace_notes(jobs: list[Job] | tuple[Job, ...]) -> list[str]:
    """A note per DVC-tracked dataset whose work-tree copy is not the data its `.dvc` file (or
    `dvc.lock`) records, as after a `git checkout` without `dvc checkout`: validate reads the
    copy on disk, which is then not the data git says is tracked."""
    from mlgit.repo.dvc import changed_outputs, is_initialized, tracked
    from mlgit.repo.git import find_root, open_repo

    root = find_root(Path.cwd())
    if root is None or not is_initialized(root):
        return []
    repo = open_repo(root)
    found = {j.path: tracked(repo, j.path) for j in jobs}
    records = {path: record for path, record in found.items() if record is not None}
    paths = list(records)
    if not paths:
        return []
    try:
        changed = changed_outputs(root, paths)
    except MlgitError as exc:
        return [f"could not compare the data with DVC's records: {exc}"]
    return [
        f"{path} is {state} against {records[path].source}: the copy on disk was validated, "
        f"not the tracked data; run `dvc checkout {path}` to validate that, or `dvc add "
        f"{path}` to track this copy"
        for path, state in changed.items()
    ]


@contextlib.contextmanager
def _opened(
    target: Target, rev: str | None, engine: Engine | None = None
) -> Iterator[tuple[Source, str]]:
    """The target's Source and a key that changes whenever its bytes may have changed."""
    from mlgit.data import cache
    from mlgit.data.targets import open_target

    source = open_target(target, rev, engine)
    if rev is None:
        yield source, cache.stat_key(source)
        return
    from mlgit.repo.dvc import tracked
    from mlgit.repo.git import open_repo, resolve_rev

    repo = open_repo(Path.cwd())
    sha = resolve_rev(repo, rev)
    record = tracked(repo, target.path, sha)
    yield source, f"dvc:{record.md5 if record else sha}:{source.format}"


def _validate_one(
    job: Job,
    source: Source,
    schema: TableSchema,
    data_key: str,
    sample: int,
    fail_fast: bool,
    use_cache: bool,
    progress: ProgressFactory | None,
) -> DatasetResult:
    from mlgit.data import cache
    from mlgit.data.checks import validate
    from mlgit.data.io import row_count

    root = project_root(None)
    key = cache.key(schema, data_key, sample, root)
    if use_cache:
        hit = cache.read(key)
        if hit is not None:
            return dataclasses.replace(hit, dataset=job.name, source=source.label, cached=True)
    tick = progress(job.name, row_count(source)) if progress else None
    result = validate(source, schema, sample=sample, fail_fast=fail_fast, root=root, progress=tick)
    result = dataclasses.replace(result, dataset=job.name, schema=_shown(job.schema_file, root))
    if use_cache and not result.stopped_early and not result.unreadable:
        cache.write(key, result)
    return result


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
