"""`mlgit track`: `dvc add` a dataset, register it in mlgit.yaml, stage the change in git.

Every step can be repeated, so a track stopped half-way (killed after `dvc add`, before
mlgit.yaml was written) is finished by running the same `mlgit track` again, which says so.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from mlgit.config import CONFIG_FILE, load
from mlgit.errors import MlgitError
from mlgit.fs import write_atomic


@dataclass(frozen=True)
class TrackResult:
    name: str
    path: str  # relative to the repository root
    dvc_file: str
    schema: str | None  # the schema file written, if any
    staged: tuple[str, ...]
    resumed: bool = False  # a track that was stopped half-way (after `dvc add`) was finished


def describe(result: TrackResult) -> str:
    """What track did, and the next command, as printed."""
    lines = [f"tracked  {result.path} as dataset {result.name!r} ({result.dvc_file})"]
    if result.resumed:
        lines.append(
            f"resumed  {result.dvc_file} was there but mlgit.yaml did not list {result.path}: "
            "an interrupted `mlgit track` is now finished"
        )
    if result.schema:
        lines.append(f"schema   {result.schema} (inferred; review and commit it)")
    lines.append(f"staged   {', '.join(result.staged)}")
    lines.append("next:    git commit -m 'Track dataset' && dvc push")
    return "\n".join(lines)


def dataset_name(path: Path) -> str:
    """`data/Train Set.parquet` -> `train-set`: a valid dataset name from a file name."""
    stem = path.name.split(".")[0] if path.name.split(".")[0] else path.name
    name = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_")
    return name or "data"


def track(path: Path, name: str | None) -> TrackResult:
    from mlgit.repo import dvc, git

    # The repository we are in; a path outside it is then an error that says so.
    here = Path.cwd() if git.find_root(Path.cwd()) else path.parent
    repo = git.open_repo(here if here.exists() else Path.cwd())
    root = Path(repo.working_dir)
    rel = git.relative_to_root(repo, path)
    if not (root / rel).exists():
        raise MlgitError(f"{path}: no such file or directory; check the path")
    if rel == Path("."):
        raise MlgitError(f"{path}: is the repository itself; track a data file or directory in it")
    if git.is_tracked(repo, root / rel):
        raise MlgitError(
            f"{rel} is already tracked by git; run `git rm -r --cached {rel}` "
            "(keeps the file) and then `mlgit track` again so DVC can track it"
        )
    if not dvc.is_initialized(root):
        raise MlgitError(f"DVC is not initialised in {root}; run `mlgit init` first")
    cfg_file = root / CONFIG_FILE
    cfg = load(cfg_file)  # a broken config fails here, before anything is written
    name = name or dataset_name(rel)
    if not re.fullmatch(r"[a-z0-9]([a-z0-9_-]*[a-z0-9])?", name):
        raise MlgitError(
            f"--name {name!r}: use lower-case letters, digits, '-' and '_' (e.g. train-2024)"
        )
    existing = cfg.datasets.get(name)
    if existing and Path(existing.path) != rel:
        raise MlgitError(
            f"{cfg_file}: dataset {name!r} already points to {existing.path}; "
            "choose another name with --name"
        )
    registered = any(Path(d.path) == rel for d in cfg.datasets.values())
    resumed = not registered and (root / f"{rel.as_posix()}.dvc").exists()
    schema_rel: str | None  # declared apart: the assignment narrows it to str until reset below
    schema_rel = (existing.schema if existing else None) or (f"schemas/{name}.schema.yaml")
    schema_text = None if (root / schema_rel).exists() else _inferred(root, rel)
    if schema_text is None and not (root / schema_rel).exists():
        schema_rel = None  # not tabular data (images, ...): nothing to infer
    new_text = _with_dataset(cfg_file, name, rel.as_posix(), schema_rel)
    dvc_file = dvc.add(root, rel)
    if schema_text is not None:
        assert schema_rel is not None  # reset to None only when there is no text
        write_atomic(root / schema_rel, schema_text)
    write_atomic(cfg_file, new_text)
    staged = [root / dvc_file, cfg_file] + ([root / schema_rel] if schema_rel else [])
    gitignore = (root / rel).parent / ".gitignore"
    if gitignore.exists():
        staged.append(gitignore)
    git.stage(repo, staged)
    return TrackResult(
        name=name,
        path=rel.as_posix(),
        dvc_file=dvc_file.as_posix(),
        schema=schema_rel if schema_text is not None else None,
        staged=tuple(git.relative_to_root(repo, p).as_posix() for p in staged),
        resumed=resumed,
    )


def _inferred(root: Path, rel: Path) -> str | None:
    """The schema inferred from the data, as text (None for non-tabular data).

    Read before anything is written, so unreadable data leaves the repository untouched.
    """
    from mlgit.data.infer import infer_schema
    from mlgit.data.io import FORMATS, open_source
    from mlgit.data.schema import dump_schema

    path = root / rel
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    if not any(p.suffix.lower() in FORMATS for p in files):
        return None
    source = open_source(root / rel, label=rel.as_posix(), confine=root)
    return dump_schema(infer_schema(source), source=rel.as_posix())


def _with_dataset(cfg_file: Path, name: str, rel: str, schema: str | None = None) -> str:
    """mlgit.yaml with `datasets.NAME` set, keeping the user's comments and key order."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(cfg_file.read_text(encoding="utf-8"))
    datasets = data.get("datasets")
    if not isinstance(datasets, CommentedMap):
        datasets = CommentedMap()
        data["datasets"] = datasets
    datasets.fa.set_block_style()
    entry = datasets.get(name) or CommentedMap()
    entry["path"] = rel
    if schema:
        entry["schema"] = schema
    datasets[name] = entry
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
