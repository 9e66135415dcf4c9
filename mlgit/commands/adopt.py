"""What an existing DVC/GTO repository already declares, read for `mlgit init` to adopt.

Sources, as DVC and GTO define them: `dvc.yaml` (root and subfolders: `artifacts:`, top-level
and stage `metrics:`), `.dvc` files (tracked data), GTO's `.gto` (`stages`, `type_allowed`),
GTO's older `artifacts.yaml`, and the registry tags (`name@vX.Y.Z`, `name#stage#N`). Nothing here
writes: `survey` returns an `Adoption`; `commands/init_config.py` lays it out as mlgit.yaml.
Every file is repository content, so it is read bounded (`load_document`), a path that leaves
the repository is skipped, and a file that does not parse is a problem reported, not a stop.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgit.errors import MlgitError

_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")  # config.schema.json $defs/name
MODEL_TYPES = ("model",)
DATASET_TYPES = ("dataset", "data")
# Usual stage names, first to last: the order of stages found only in tags is guessed from it.
USUAL_ORDER = (
    "dev", "develop", "development", "test", "testing", "qa", "stage", "staging", "preprod",
    "pre-prod", "canary", "shadow", "prod", "production",
)  # fmt: skip


@dataclass(frozen=True)
class AdoptedModel:
    name: str  # as in mlgit.yaml and GTO's tags: `dir:name` for a dvc.yaml in a subfolder
    path: str | None
    metrics: tuple[str, ...]  # the first is used; the others are offered in a comment
    source: str  # "dvc.yaml", "artifacts.yaml", "tags"
    desc: str = ""
    labels: tuple[str, ...] = ()
    dataset: str | None = None  # a dataset its training stage depends on (a suggestion)


@dataclass(frozen=True)
class AdoptedDataset:
    name: str
    path: str
    source: str  # "dvc.yaml", "artifacts.yaml", "data/x.dvc"
    in_workspace: bool
    desc: str = ""
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Adoption:
    models: tuple[AdoptedModel, ...] = ()
    datasets: tuple[AdoptedDataset, ...] = ()
    stages: tuple[str, ...] = ()  # () when nothing declares any: mlgit's defaults
    stages_source: str = ""  # ".gto", "tags", ".gto and tags"
    stages_guessed: bool = False  # the order (or part of it) came from USUAL_ORDER
    problems: tuple[str, ...] = ()  # files that could not be read, one line each
    skipped: tuple[str, ...] = ()  # what mlgit cannot hold, and why

    @property
    def empty(self) -> bool:
        return not (self.models or self.datasets or self.stages)


@dataclass
class _Found:
    """What the reading collects before it becomes an Adoption."""

    root: Path
    # (name, spec, folder of its dvc.yaml, the file declaring it)
    artifacts: list[tuple[str, dict, str, str]] = field(default_factory=list)
    metrics: dict[str, list[str]] = field(default_factory=dict)  # folder -> metrics files
    stages: list[tuple[list[str], list[str], list[str]]] = field(default_factory=list)
    tracked: list[tuple[str, str]] = field(default_factory=list)  # (path, .dvc file)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def survey(root: Path) -> Adoption:
    """Everything `root` declares that mlgit.yaml can adopt."""
    from mlgit.repo import git

    found = _Found(root=root)
    files = git.list_files(root, ["dvc.yaml", "*/dvc.yaml", "*.dvc"])
    if not files:  # not a git work tree yet: what sits at the top
        files = [p.name for p in sorted(root.glob("*.dvc")) if p.is_file()]  # not DVC's .dvc/
        files += ["dvc.yaml"] if (root / "dvc.yaml").is_file() else []
    for rel in sorted(files, key=lambda f: (f.count("/"), f)):
        if posixpath.basename(rel) == "dvc.yaml":
            _read_dvc_yaml(found, rel)
        elif rel.endswith(".dvc"):
            _read_dvc_file(found, rel)
    _read_artifacts_yaml(found)
    gto = _read_gto(found)
    tag_models, tag_stages = _read_tags(root)
    for name, spec, _, source in found.artifacts:
        if spec.get("type") not in (*MODEL_TYPES, *DATASET_TYPES):
            found.skipped.append(
                f"artifact {name} ({source}): type {spec.get('type')!r} is neither a model nor "
                "a dataset; mlgit.yaml has no place for it"
            )
    models = _models(found, tag_models)
    datasets = _datasets(found, {m.path for m in models if m.path})
    models = [_with_dataset(found, m, datasets) for m in models]
    stages, source, guessed = _stages(found, gto.get("stages"), tag_stages)
    allowed = gto.get("type_allowed")
    if isinstance(allowed, list) and allowed and "model" not in allowed and models:
        found.skipped.append(
            f".gto: type_allowed {allowed} has no `model`: GTO will refuse to register the "
            "models; add `model` to type_allowed"
        )
    return Adoption(
        models=tuple(models),
        datasets=tuple(datasets),
        stages=stages,
        stages_source=source,
        stages_guessed=guessed,
        problems=tuple(found.problems),
        skipped=tuple(found.skipped),
    )


# ---------------------------------------------------------------- reading files
def _load(found: _Found, rel: str) -> Any:
    """The YAML of `rel`, or None after recording why it cannot be read (one line)."""
    from mlgit.documents import load_document

    try:
        return load_document(found.root / rel).data
    except MlgitError as exc:
        found.problems.append(str(exc).replace(f"{found.root}/", "", 1))
        return None


def _mapping(found: _Found, rel: str, data: Any, key: str | None = None) -> dict:
    if data is None or isinstance(data, dict):
        return data or {}
    where = f"{key}: " if key else ""
    found.problems.append(f"{rel}: {where}not a mapping; skipped it (fix it as DVC documents)")
    return {}


def _inside(found: _Found, folder: str, path: Any, what: str) -> str | None:
    """`path` (relative to `folder`) relative to the root, or None (recorded) when it is not a
    path inside the repository."""
    from mlgit.config import inside

    if not isinstance(path, str) or not path.strip():
        found.skipped.append(f"{what}: no usable path ({path!r})")
        return None
    joined = posixpath.normpath(posixpath.join(folder, path))
    if posixpath.isabs(path) or not inside(found.root, joined):
        found.skipped.append(f"{what}: path {path} leaves the repository")
        return None
    return joined


def _paths(entries: Any) -> list[str]:
    """DVC's lists of outputs/metrics/deps: `- path` or `- path: {options}`."""
    if not isinstance(entries, list):
        return []
    out: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            out.append(entry)
        elif isinstance(entry, dict):
            out += [str(k) for k in entry]
    return out


def _read_dvc_yaml(found: _Found, rel: str) -> None:
    data = _mapping(found, rel, _load(found, rel))
    folder = posixpath.dirname(rel)
    listed = [_inside(found, folder, p, f"{rel}: metrics") for p in _paths(data.get("metrics"))]
    for name, stage in _mapping(found, rel, data.get("stages"), "stages").items():
        if not isinstance(stage, dict):
            continue
        wdir = posixpath.join(folder, str(stage.get("wdir") or "."))
        where = f"{rel}: stages.{name}"

        def joined(
            key: str, wdir: str = wdir, where: str = where, stage: dict = stage
        ) -> list[str]:
            paths = [_inside(found, wdir, p, f"{where}.{key}") for p in _paths(stage.get(key))]
            return [p for p in paths if p]

        outs, deps, metrics = joined("outs"), joined("deps"), joined("metrics")
        found.stages.append((deps, outs, metrics))
        listed += metrics
    found.metrics[folder] = list(dict.fromkeys(p for p in listed if p))
    for name, spec in _mapping(found, rel, data.get("artifacts"), "artifacts").items():
        found.artifacts.append((str(name), spec if isinstance(spec, dict) else {}, folder, rel))


def _read_dvc_file(found: _Found, rel: str) -> None:
    data = _mapping(found, rel, _load(found, rel))
    folder = posixpath.dirname(rel)
    outs = data.get("outs")
    outs = outs if isinstance(outs, list) else []
    for path in [out.get("path") for out in outs if isinstance(out, dict)]:
        joined = _inside(found, folder, path, rel)
        if joined:
            found.tracked.append((joined, rel))


def _read_artifacts_yaml(found: _Found) -> None:
    """GTO before 1.0 declared artifacts in `artifacts.yaml` (name -> type, path, description)."""
    if not (found.root / "artifacts.yaml").is_file():
        return
    data = _mapping(found, "artifacts.yaml", _load(found, "artifacts.yaml"))
    known = {name for name, *_ in found.artifacts}
    for name, spec in data.items():
        if str(name) not in known and isinstance(spec, dict):
            spec = {**spec, "desc": spec.get("desc") or spec.get("description")}
            found.artifacts.append((str(name), spec, "", "artifacts.yaml"))


def _read_gto(found: _Found) -> dict:
    if not (found.root / ".gto").is_file():
        return {}
    return _mapping(found, ".gto", _load(found, ".gto"))


def _read_tags(root: Path) -> tuple[list[str], list[str]]:
    """(models, stages) named by GTO tags, each in the order first used."""
    from mlgit.models.registry.tags import parse_tag_name
    from mlgit.repo import git

    if git.find_root(root) is None:
        return [], []
    models: dict[str, None] = {}
    stages: dict[str, None] = {}
    for tag in sorted(git.list_tags(root, messages=False), key=lambda t: t.timestamp):
        parsed = parse_tag_name(tag.name)
        if parsed is None:
            continue
        models[parsed.artifact] = None
        if parsed.stage:
            stages[parsed.stage] = None
    return list(models), list(stages)


# ---------------------------------------------------------------- what becomes mlgit.yaml
def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value else ""


def _labels(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _models(found: _Found, tag_models: list[str]) -> list[AdoptedModel]:
    from mlgit.models.registry.tags import ARTIFACT_RE

    models: dict[str, AdoptedModel] = {}
    for name, spec, folder, source in found.artifacts:
        if spec.get("type") not in MODEL_TYPES:
            continue
        full = f"{folder}:{name}" if folder else name
        if not ARTIFACT_RE.match(full):
            found.skipped.append(
                f"model {full} ({source}): not a name mlgit can hold (lowercase letters, digits, "
                "'-', '_'); rename the artifact to adopt it"
            )
            continue
        path = _inside(found, folder, spec.get("path"), f"{source}: artifacts.{name}")
        if path is None:
            continue
        metrics = _metrics_for(found, folder, path)
        models.setdefault(full, AdoptedModel(
            full, path, metrics, source, _text(spec.get("desc")), _labels(spec.get("labels")),
        ))  # fmt: skip
    for name in tag_models:
        if name in models:
            continue
        if not ARTIFACT_RE.match(name):
            found.skipped.append(f"model {name} (tags): not a name mlgit can hold; skipped")
            continue
        models[name] = AdoptedModel(name, None, _metrics_for(found, "", None), "tags")
    return list(models.values())


def _metrics_for(found: _Found, folder: str, model_path: str | None) -> tuple[str, ...]:
    """Metrics files of the model's dvc.yaml (the root's for artifacts.yaml and tags), those of
    a stage that reads the model first."""
    reads_model = [m for deps, _, ms in found.stages if model_path in deps for m in ms]
    near = found.metrics.get(folder, [])
    return tuple(dict.fromkeys([*reads_model, *near]))


def _datasets(found: _Found, model_paths: set[str]) -> list[AdoptedDataset]:
    datasets: dict[str, AdoptedDataset] = {}
    candidates = [
        (name, spec.get("path"), folder, source, spec)
        for name, spec, folder, source in found.artifacts
        if spec.get("type") in DATASET_TYPES
    ]
    candidates += [(_name_from_path(p), p, "", dvc_file, {}) for p, dvc_file in found.tracked]
    taken: set[str] = set()
    for name, raw, folder, source, spec in candidates:
        path = _inside(found, folder, raw, f"{source}: {name}") if source.endswith(".yaml") else raw
        if path is None or path in taken or path in model_paths:
            continue
        taken.add(path)
        if not _NAME_RE.match(name) or name in datasets:
            why = (
                "already used by another dataset"
                if name in datasets
                else "not a name mlgit can hold"
            )
            found.skipped.append(f"dataset {name} ({source}, {path}): {why}; add it by hand")
            continue
        in_workspace = (found.root / path).exists()
        datasets[name] = AdoptedDataset(
            name, path, source, in_workspace, _text(spec.get("desc")), _labels(spec.get("labels"))
        )
    return list(datasets.values())


def _name_from_path(path: str) -> str:
    stem = posixpath.basename(path).split(".")[0] or posixpath.basename(path)
    return re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_") or "data"


def _with_dataset(
    found: _Found, model: AdoptedModel, datasets: list[AdoptedDataset]
) -> AdoptedModel:
    """The dataset a stage writing the model reads, when exactly one does."""
    from dataclasses import replace

    if model.path is None:
        return model
    deps = {d for deps, outs, _ in found.stages if model.path in outs for d in deps}
    used = [ds.name for ds in datasets if ds.path in deps]
    return replace(model, dataset=used[0]) if len(used) == 1 else model


def _stages(
    found: _Found, declared: Any, from_tags: list[str]
) -> tuple[tuple[str, ...], str, bool]:
    """(stages, where they came from, whether the order is a guess)."""
    from mlgit.models.registry.tags import STAGE_RE

    ordered = [str(s) for s in declared] if isinstance(declared, list) else []
    extra = [s for s in from_tags if s not in ordered]
    if extra:
        rank = {name: i for i, name in enumerate(USUAL_ORDER)}
        middle = rank["stage"]
        extra.sort(key=lambda s: rank.get(s, middle))  # stable: unknown ones keep first-use order
    stages = []
    for stage in [*ordered, *extra]:
        if STAGE_RE.match(stage):
            stages.append(stage)
        else:
            found.skipped.append(f"stage {stage}: not a name mlgit can hold; skipped")
    source = " and ".join(s for s, used in ((".gto", ordered), ("tags", extra)) if used)
    return tuple(stages), source, bool(extra)
