"""mlgit.yaml: load, validate against the bundled JSON Schema, report every error with its place.

`load_document` and `validate_document` also serve the other YAML/JSON files mlgit reads
(dataset schemas), so every file gets the same `file:line: key.path: what is wrong` errors.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import yaml  # imported where a YAML file is read: `mlgit drift` outside a project needs none

CONFIG_FILE = "mlgit.yaml"
DEFAULT_STAGES = ("staging", "prod")


# ---------------------------------------------------------------- documents with positions
@dataclass(frozen=True)
class Document:
    """A parsed YAML/JSON file and the line of every key in it (1-based)."""

    file: Path
    data: Any
    lines: dict[tuple[str | int, ...], int]

    def line_of(self, where: tuple[str | int, ...]) -> int | None:
        """The line of `where`, or of its nearest parent that has one."""
        for end in range(len(where), -1, -1):
            if where[:end] in self.lines:
                return self.lines[where[:end]]
        return None


def load_document(file: Path) -> Document:
    """Parse YAML (or JSON, which is YAML) keeping line numbers; MlgitError on unreadable input."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MlgitError(f"{file}: file not found") from None
    except UnicodeDecodeError as exc:
        raise MlgitError(f"{file}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise MlgitError(f"{file}: cannot read ({exc.strerror})") from None
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise MlgitError(f"{file}{where}: not valid YAML: {problem}; fix the syntax") from None
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _collect_lines(node, (), lines, file)
    return Document(file=file, data=data, lines=lines)


def _collect_lines(node: yaml.Node, where: tuple[str | int, ...], lines: dict, file: Path) -> None:
    import yaml

    lines[where] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value in seen:  # YAML forbids it; PyYAML would silently keep the last one
                place = ".".join(str(w) for w in (*where, key.value))
                raise MlgitError(
                    f"{file}:{line}: {place}: duplicate key (first on line "
                    f"{seen[key.value]}); keep one and merge what they hold"
                )
            seen[key.value] = line
            child = (*where, key.value)
            _collect_lines(value, child, lines, file)
            lines[child] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*where, index), lines, file)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, with where it is."""

    file: Path
    where: tuple[str | int, ...]
    line: int | None
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else str(self.file)
        key = ".".join(str(p) for p in self.where)
        return f"{place}: {key + ': ' if key else ''}{self.message}"


@cache
def bundled_schema(name: str) -> dict:
    """A JSON Schema shipped in mlgit/schemas/."""
    text = resources.files("mlgit.schemas").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def validate_document(doc: Document, schema_name: str) -> list[Problem]:
    """Every error of `doc` against the bundled schema, in file order."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(bundled_schema(schema_name))
    problems = []
    for error in validator.iter_errors(doc.data):
        for where, message in _describe(error):
            problems.append(Problem(doc.file, where, doc.line_of(where), message))
    problems.sort(key=lambda p: (p.line or 0, p.message))
    return problems


def _describe(error: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """jsonschema's error as (place, one clear sentence) pairs."""
    where = tuple(error.absolute_path)
    kind, value, schema = error.validator, error.validator_value, error.schema
    if kind == "required":
        missing = [k for k in value if isinstance(error.instance, dict) and k not in error.instance]
        return [((*where, k), "required") for k in missing] or [(where, error.message)]
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted((schema.get("properties") or {}).keys())
        extra = [k for k in error.instance if k not in known]
        return [((*where, k), _unknown_key(str(k), known)) for k in extra]
    if kind == "type":
        words = {"object": "mapping", "array": "list", "integer": "whole number"}
        names = [value] if isinstance(value, str) else value
        expected = " or ".join(words.get(n, n) for n in names)
        return [(where, f"expected {_article(expected)}, got {_json_type(error.instance)}")]
    if kind == "enum":
        hint = _did_you_mean(str(error.instance), [str(v) for v in value])
        return [(where, f"{error.instance!r} is not one of {', '.join(map(str, value))}{hint}")]
    if kind == "const":
        return [(where, f"must be {value!r}, got {error.instance!r}")]
    if kind == "anyOf" and all(set(s) == {"required"} for s in value):
        options = ", ".join(s["required"][0] for s in value)
        return [(where, f"needs one of: {options}")]
    if kind == "pattern" and where and where[-1] in ("propertyNames",):
        return [(where, f"invalid name {error.instance!r}")]
    if error.path == error.relative_path and kind == "pattern":
        return [(where, f"{error.instance!r} does not match {value}")]
    return [(where, error.message)]


def _unknown_key(key: str, known: list[str]) -> str:
    return f"unknown key{_did_you_mean(key, known)}" + (
        f" (allowed: {', '.join(known)})" if not _did_you_mean(key, known) and known else ""
    )


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _article(type_name: str) -> str:
    return f"an {type_name}" if type_name[0] in "aeiou" else f"a {type_name}"


def _json_type(value: Any) -> str:
    names = {dict: "mapping", list: "list", str: "string", bool: "boolean", type(None): "null"}
    for py_type, name in names.items():
        if isinstance(value, py_type):
            return name
    return "number" if isinstance(value, int | float) else type(value).__name__


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

    def dataset(self, name: str) -> Dataset:
        if name not in self.datasets:
            known = list(self.datasets)
            raise MlgitError(
                f"{self.file}: no dataset named {name!r}{_did_you_mean(name, known)} "
                f"(datasets: {', '.join(known) or 'none; add one with `mlgit track PATH`'})"
            )
        return self.datasets[name]

    def model(self, name: str) -> Model:
        if name not in self.models:
            known = list(self.models)
            raise MlgitError(
                f"{self.file}: no model named {name!r}{_did_you_mean(name, known)} "
                f"(models: {', '.join(known) or 'none; add one under `models:`'})"
            )
        return self.models[name]


def find_config(start: Path | None = None) -> Path:
    """mlgit.yaml at the top of the git work tree containing `start` (or in `start`)."""
    from mlgit.repo.git import find_root

    here = (start or Path.cwd()).resolve()
    root = find_root(here) or here
    file = root / CONFIG_FILE
    if not file.exists():
        raise MlgitError(f"no {CONFIG_FILE} in {root}; run `mlgit init` to create one")
    return file


def check(file: Path) -> tuple[Document, list[Problem]]:
    """Every problem in the config file: schema errors, then references to missing files.
    A dataset schema file (`fields:`, no `version:`) is checked as one, so `mlgit check-config
    schemas/train.schema.yaml` works as the schema's header says."""
    doc = load_document(file)
    if isinstance(doc.data, dict) and "fields" in doc.data and "version" not in doc.data:
        from mlgit.data.schema import schema_problems

        return doc, schema_problems(file)
    if not isinstance(doc.data, dict):
        got = _json_type(doc.data)
        return doc, [Problem(file, (), 1, f"expected a mapping with `version: 1`, got {got}")]
    problems = validate_document(doc, "config.schema.json")
    if not problems:
        problems = _check_references(doc)
    return doc, problems


def _check_references(doc: Document) -> list[Problem]:
    """What the schema cannot know: files on disk and names pointing at each other."""
    root = doc.file.parent
    data = doc.data
    problems = []

    def problem(where: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(doc.file, where, doc.line_of(where), message))

    for name, ds in (data.get("datasets") or {}).items():
        if not _data_exists(root, ds["path"]):
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
        elif ds.get("schema"):
            from mlgit.data.schema import schema_problems

            problems.extend(schema_problems(root / ds["schema"]))
    stages = data.get("stages") or list(DEFAULT_STAGES)
    requires = (data.get("promotion") or {}).get("requires") or {}
    for stage, needed in requires.items():
        for s in [stage, *needed]:
            if s not in stages:
                where = ("promotion", "requires", stage)
                problem(where, f"unknown stage {s!r}{_did_you_mean(s, stages)} (stages: {stages})")
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
                ("models", name, "dataset"), f"unknown dataset {ds!r}{_did_you_mean(ds, datasets)}"
            )
    monitor = data.get("monitor") or {}
    if monitor.get("model") and monitor["model"] not in (data.get("models") or {}):
        problem(("monitor", "model"), f"unknown model {monitor['model']!r}")
    if monitor.get("dataset") and monitor["dataset"] not in datasets:
        problem(("monitor", "dataset"), f"unknown dataset {monitor['dataset']!r}")
    return problems


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
    lock = root / "dvc.lock"
    if not lock.exists():
        return False
    import yaml

    stages = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("stages") or {}
    return any(
        Path(out.get("path", "")).as_posix() == Path(path).as_posix()
        for stage in stages.values()
        for out in stage.get("outs") or []
    )


def load(file: Path | None = None) -> Config:
    """The validated config; MlgitError with the first problem if there is any."""
    file = file or find_config()
    doc, problems = check(file)
    if problems:
        more = (
            f" (and {len(problems) - 1} more; run `mlgit check-config`)"
            if len(problems) > 1
            else ""
        )
        raise MlgitError(f"{problems[0]}{more}")
    return from_data(file, doc.data)


def from_data(file: Path, data: dict) -> Config:
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
    )
