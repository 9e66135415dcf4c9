"""mlgit.yaml, the project's one config file: found, checked (every error with its place, via
`documents.py`), and turned into the typed `Config` every command reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgit.documents import (
    Document,
    Problem,
    did_you_mean,
    json_type,
    load_document,
    not_a_number_problems,
    validate_document,
)
from mlgit.errors import MlgitError

CONFIG_FILE = "mlgit.yaml"
DEFAULT_STAGES = ("staging", "prod")


# ---------------------------------------------------------------- the typed config
@dataclass(frozen=True)
class Dataset:
    name: str
    path: str  # relative to the repository root
    schema: str | None = None
    reference: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class Gate:
    metric: str
    min: float | None = None
    max: float | None = None
    max_drop: float | None = None
    max_rise: float | None = None
    max_gap: float | None = None
    min_lift: float | None = None  # beat `baseline.METRIC` (the dummy model) by this much
    baseline: str | None = None
    relative: bool = False
    direction: str | None = None
    severity: str = "error"


@dataclass(frozen=True)
class Model:
    name: str
    path: str | None = None
    metrics: str | None = None
    dataset: str | None = None
    gates: tuple[Gate, ...] = ()
    # `mlgit reproduce`: per-metric absolute tolerance (dotted keys), beside --tolerance
    reproduce_tolerance: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    root: Path
    file: Path
    datasets: dict[str, Dataset] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    stages: tuple[str, ...] = DEFAULT_STAGES
    promotion_requires: dict[str, tuple[str, ...]] = field(default_factory=dict)
    drift: dict[str, Any] = field(default_factory=dict)
    monitor: dict[str, Any] = field(default_factory=dict)
    ci: dict[str, Any] = field(default_factory=dict)
    engine: dict[str, Any] = field(default_factory=dict)  # {kind, scheduler, workers, statistics}
    storage_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # per protocol
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict, repr=False)

    def place(self, where: tuple[str | int, ...]) -> str:
        """`mlgit.yaml:12: drift.psi.fail`: a key's place, for errors found after loading."""
        key = ".".join(str(w) for w in where)
        ends = range(len(where), -1, -1)
        line = next((self.lines[where[:e]] for e in ends if where[:e] in self.lines), None)
        return f"{self.file}:{line}: {key}" if line else f"{self.file}: {key}"

    def dataset(self, name: str) -> Dataset:
        if name not in self.datasets:
            known = list(self.datasets)
            raise MlgitError(
                f"{self.file}: no dataset named {name!r}{did_you_mean(name, known)} "
                f"(datasets: {', '.join(known) or 'none; add one with `mlgit track PATH`'})"
            )
        return self.datasets[name]

    def model(self, name: str) -> Model:
        if name not in self.models:
            known = list(self.models)
            raise MlgitError(
                f"{self.file}: no model named {name!r}{did_you_mean(name, known)} "
                f"(models: {', '.join(known) or 'none; add one under `models:`'})"
            )
        return self.models[name]


def find_config_or_none(start: Path | None = None) -> Path | None:
    """mlgit.yaml of the project around `start`, or None outside a project (commands that also
    work on plain paths, such as validate, profile and drift, use this)."""
    try:
        return find_config(start)
    except MlgitError:
        return None


def load_or_none(start: Path | None = None) -> Config | None:
    """The project's checked Config, or None outside a project (a broken mlgit.yaml is still an
    error: it must not be silently ignored)."""
    file = find_config_or_none(start)
    return None if file is None else load(file)


def find_config(start: Path | None = None) -> Path:
    """mlgit.yaml at the top of the git work tree containing `start` (or in `start`)."""
    from mlgit.repo.git import find_root

    here = (start or Path.cwd()).resolve()
    root = find_root(here) or here
    file = root / CONFIG_FILE
    if not file.exists():
        raise MlgitError(f"no {CONFIG_FILE} in {root}; run `mlgit init` to create one")
    return file


def declared(root: Path) -> tuple[list[str], list[str]]:
    """(stages, models) as mlgit.yaml declares them, read without validating it (the registry
    view only orders by them: no jsonschema on its fast path); empty lists when there is no
    readable mlgit.yaml."""
    try:
        data = load_document(root / CONFIG_FILE).data
    except MlgitError:
        return [], []
    if not isinstance(data, dict):
        return [], []
    stages = s if isinstance(s := data.get("stages"), list) else []
    models = m if isinstance(m := data.get("models"), dict) else {}
    return [str(s) for s in stages], [str(m) for m in models]


def check(file: Path, deep: bool = True) -> tuple[Document, list[Problem]]:
    """Every problem in the config file: schema errors, then references to missing files.
    A dataset schema file (`fields:`, no `version:`) is checked as one, so `mlgit check-config
    schemas/train.schema.yaml` works as the schema's header says."""
    doc = load_document(file)
    if isinstance(doc.data, dict) and "fields" in doc.data and "version" not in doc.data:
        from mlgit.data.schema import schema_problems

        return doc, schema_problems(file)
    if not isinstance(doc.data, dict):
        got = json_type(doc.data)
        return doc, [Problem(file, (), 1, f"expected a mapping with `version: 1`, got {got}")]
    problems = validate_document(doc, "config.schema.json") or not_a_number_problems(doc)
    if not problems:
        problems = _check_references(doc, deep)
    return doc, problems


def _check_references(doc: Document, deep: bool) -> list[Problem]:
    """What the schema cannot know: files on disk and names pointing at each other; `deep`
    (check-config) also checks every dataset schema, which commands load when they need it."""
    from mlgit.data.urls import is_url

    root = doc.file.parent
    data = doc.data
    problems = []

    def problem(where: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(doc.file, where, doc.line_of(where), message))

    for where, path in _named_paths(data):
        if not inside(root, path):
            problem(
                where,
                f"{path} leads outside the repository (after resolving links); mlgit.yaml may "
                "only name files in it: move the file in, or give the path on the command line",
            )
    for where, path in _named_paths(data):
        reason = _unusable(root, path, metrics=where[-1] == "metrics")
        if reason:
            problem(where, f"{path}: {reason}")
    problems.extend(_trusted_only(doc))
    if problems:
        return problems  # nothing outside is looked at, not even whether it exists
    for name, ds in (data.get("datasets") or {}).items():
        if not is_url(ds["path"]) and not _data_exists(root, ds["path"]):
            problem(
                ("datasets", name, "path"),
                f"{ds['path']} does not exist (no file, no {ds['path']}.dvc, no dvc.lock output); "
                "fix the path or track it with `mlgit track`",
            )
        if ds.get("schema") and not (root / ds["schema"]).exists():
            problem(
                ("datasets", name, "schema"),
                f"{ds['schema']} does not exist; create it with `mlgit schema infer {ds['path']}`",
            )
        elif ds.get("schema") and deep:
            from mlgit.data.schema import schema_problems

            problems.extend(schema_problems(root / ds["schema"]))
    stages = data.get("stages") or list(DEFAULT_STAGES)
    requires = (data.get("promotion") or {}).get("requires") or {}
    for stage, needed in requires.items():
        for s in [stage, *needed]:
            if s not in stages:
                where = ("promotion", "requires", stage)
                problem(where, f"unknown stage {s!r}{did_you_mean(s, stages)} (stages: {stages})")
    cycle = _requirement_cycle(requires)
    if cycle:
        problem(
            ("promotion", "requires", cycle[0]),
            f"{' -> '.join(cycle)} require each other, so no version could ever enter them; "
            "remove one of the requirements",
        )
    datasets = list(data.get("datasets") or {})
    for name, model in (data.get("models") or {}).items():
        ds = model.get("dataset")
        if ds and ds not in datasets:
            problem(
                ("models", name, "dataset"), f"unknown dataset {ds!r}{did_you_mean(ds, datasets)}"
            )
    monitor = data.get("monitor") or {}
    if monitor.get("model") and monitor["model"] not in (data.get("models") or {}):
        problem(("monitor", "model"), f"unknown model {monitor['model']!r}")
    if monitor.get("dataset") and monitor["dataset"] not in datasets:
        problem(("monitor", "dataset"), f"unknown dataset {monitor['dataset']!r}")
    return problems


# storage options that say where requests go or what they carry: from mlgit.yaml (which comes
# with every pull request) they would send the job's credentials to any server
_SENSITIVE = re.compile(
    r"endpoint|url|host|key|secret|token|password|credential|sas|connection|profile|"
    r"client_kwargs|config_kwargs|headers|auth",
    re.I,
)


def _trusted_only(doc: Document) -> list[Problem]:
    """What mlgit.yaml may not say because it comes with every pull request: where a Dask
    scheduler is (mlgit unpickles what a scheduler sends back), storage options that redirect
    requests or carry credentials (the job's credentials would follow them), and data URLs
    other than object stores (file:// leaves the repository; http:// reaches the runner's
    network, such as a cloud metadata endpoint, whose answer would be printed as values)."""
    from mlgit.data.urls import OBJECT_STORES, is_url, url_protocol

    found = []
    engine = doc.data.get("engine")
    if isinstance(engine, dict) and "scheduler" in engine:
        where: tuple[str | int, ...] = ("engine", "scheduler")
        found.append(
            Problem(
                doc.file,
                where,
                doc.line_of(where),
                "a Dask scheduler is not taken from mlgit.yaml: connecting to one runs what it "
                "sends back, and this file comes with every pull request; pass --scheduler or "
                "set MLGIT_DASK_SCHEDULER in the job",
            )
        )
    for name, dataset in (doc.data.get("datasets") or {}).items():
        path = dataset.get("path") if isinstance(dataset, dict) else None
        if isinstance(path, str) and is_url(path) and url_protocol(path) not in OBJECT_STORES:
            where = ("datasets", name, "path")
            found.append(
                Problem(
                    doc.file,
                    where,
                    doc.line_of(where),
                    f"{path}: a dataset in mlgit.yaml is a path in the repository or an object "
                    f"store URL ({', '.join(sorted(OBJECT_STORES))}://); this file comes with "
                    "every pull request, and other URLs reach files and services outside it "
                    "(give those on the command line)",
                )
            )
    for protocol, options in (doc.data.get("storage_options") or {}).items():
        for key in options if isinstance(options, dict) else ():
            if _SENSITIVE.search(str(key)):
                where = ("storage_options", protocol, key)
                found.append(
                    Problem(
                        doc.file,
                        where,
                        doc.line_of(where),
                        "mlgit.yaml comes with every pull request, so its storage options may "
                        "not say where requests go or carry credentials; set this "
                        "in the job's environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, "
                        "GOOGLE_APPLICATION_CREDENTIALS, ...)",
                    )
                )
    return found


def _named_paths(data: dict) -> list[tuple[tuple[str | int, ...], str]]:
    """Every file path mlgit.yaml names, with its place (not data URLs, read where they are)."""
    from mlgit.data.urls import is_url

    found: list[tuple[tuple[str | int, ...], str]] = []
    for name, ds in (data.get("datasets") or {}).items():
        keys = ("path", "schema", "reference")
        found += [(("datasets", name, k), ds[k]) for k in keys if ds.get(k) and not is_url(ds[k])]
    for name, model in (data.get("models") or {}).items():
        found += [(("models", name, k), model[k]) for k in ("path", "metrics") if model.get(k)]
    return found


def _unusable(root: Path, path: str, metrics: bool) -> str | None:
    """Why a named path can never work (a name the file system refuses, a directory where a
    metrics file must be), or None."""
    try:
        is_dir = (root / path).is_dir()
    except OSError as exc:  # ENAMETOOLONG and friends
        return f"not a usable path ({exc.strerror}); shorten it"
    return (
        "is a directory, not a metrics file; name the JSON/YAML file"
        if metrics and is_dir
        else None
    )


def inside(root: Path, path: str) -> bool:
    """Whether `path` (relative to `root`) stays inside `root` once `..` and every symbolic
    link are resolved: repository content may not point mlgit at files elsewhere."""
    base = root.resolve()
    target = (base / path).resolve()
    return target == base or base in target.parents


def _requirement_cycle(requires: dict[str, list[str]]) -> list[str]:
    """Stages that require each other in a loop (["prod", "staging", "prod"]), or []."""

    def walk(stage: str, path: list[str]) -> list[str]:
        if stage in path:
            return [*path[path.index(stage) :], stage]
        for needed in requires.get(stage) or ():
            found = walk(needed, [*path, stage])
            if found:
                return found
        return []

    for stage in requires:
        found = walk(stage, [])
        if found:
            return found
    return []


def _data_exists(root: Path, path: str) -> bool:
    if (root / path).exists() or (root / f"{path}.dvc").exists():
        return True
    from mlgit.repo.dvc import lock_outputs

    return Path(path).as_posix() in lock_outputs(root)


def load(file: Path | None = None) -> Config:
    """The validated config; MlgitError with the first problem if there is any."""
    file = file or find_config()
    doc, problems = check(file, deep=False)
    if problems:
        more = (
            f" (and {len(problems) - 1} more; run `mlgit check-config`)"
            if len(problems) > 1
            else ""
        )
        raise MlgitError(f"{problems[0]}{more}")
    return from_data(file, doc.data, doc.lines)


def from_data(file: Path, data: dict, lines: dict | None = None) -> Config:
    datasets = {
        name: Dataset(name=name, **{k: v for k, v in ds.items()})
        for name, ds in (data.get("datasets") or {}).items()
    }
    models = {
        name: Model(
            name=name,
            path=m.get("path"),
            metrics=m.get("metrics"),
            dataset=m.get("dataset"),
            gates=tuple(Gate(**g) for g in m.get("gates") or []),
            reproduce_tolerance=dict((m.get("reproduce") or {}).get("tolerance") or {}),
        )
        for name, m in (data.get("models") or {}).items()
    }
    requires = (data.get("promotion") or {}).get("requires") or {}
    return Config(
        root=file.parent,
        file=file,
        datasets=datasets,
        models=models,
        stages=tuple(data.get("stages") or DEFAULT_STAGES),
        promotion_requires={k: tuple(v) for k, v in requires.items()},
        drift=data.get("drift") or {},
        monitor=data.get("monitor") or {},
        ci=data.get("ci") or {},
        engine=_engine(data.get("engine")),
        storage_options=data.get("storage_options") or {},
        lines=lines or {},
    )


def _engine(value: str | dict | None) -> dict[str, Any]:
    """`engine: dask` or `engine: {kind: dask, scheduler: ...}` as the mapping."""
    if isinstance(value, str):
        return {"kind": value}
    return dict(value or {})
