"""YAML and JSON documents mlgit reads (mlgit.yaml, dataset schemas, profiles): parsed with the
line of every key, checked against a bundled JSON Schema, every problem reported with its place.

The toolkit is generic; `config.py` (mlgit.yaml) and `data/schema.py` (dataset schemas) build on
it, so every file gets the same `file:line: key.path: what is wrong` errors and the same
"did you mean" hints.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import yaml  # imported where a YAML file is read: `mlgit drift` outside a project needs none


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
        return [((*where, k), unknown_key(str(k), known)) for k in extra]
    if kind == "type":
        words = {"object": "mapping", "array": "list", "integer": "whole number"}
        names = [value] if isinstance(value, str) else value
        expected = " or ".join(words.get(n, n) for n in names)
        return [(where, f"expected {article(expected)}, got {json_type(error.instance)}")]
    if kind == "enum":
        hint = did_you_mean(str(error.instance), [str(v) for v in value])
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


def unknown_key(key: str, known: list[str]) -> str:
    return f"unknown key{did_you_mean(key, known)}" + (
        f" (allowed: {', '.join(known)})" if not did_you_mean(key, known) and known else ""
    )


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def article(type_name: str) -> str:
    return f"an {type_name}" if type_name[0] in "aeiou" else f"a {type_name}"


def json_type(value: Any) -> str:
    names = {dict: "mapping", list: "list", str: "string", bool: "boolean", type(None): "null"}
    for py_type, name in names.items():
        if isinstance(value, py_type):
            return name
    return "number" if isinstance(value, int | float) else type(value).__name__
