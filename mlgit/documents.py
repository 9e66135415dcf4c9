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


MAX_BYTES = 8 << 20  # a YAML/JSON file mlgit reads: mlgit.yaml, a schema, a metrics file
MAX_DEPTH = 64  # nesting levels; mlgit's own files need fewer than 10
MAX_ALIAS_NODES = 10_000  # nodes that aliases may add beyond the document's own ("billion laughs")
MAX_FLOW_DEPTH = 200  # [ and { nesting, checked on the text before the parser recurses into it

_CACHE: dict[tuple[str, int, int, int], Document] = {}  # parse each file once per process


def load_document(file: Path) -> Document:
    """Parse YAML (or JSON, which is YAML) keeping line numbers; MlgitError on unreadable input.

    The content may come from a pull request, so it is bounded before it is trusted: regular
    files only, at most MAX_BYTES, nesting at most MAX_DEPTH, and aliases may not expand the
    document by more than MAX_ALIAS_NODES nodes; a recursive alias is refused."""
    from mlgit.fs import read_limited

    raw, stat = read_limited(file, MAX_BYTES, "a YAML/JSON file")
    key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if key in _CACHE:
        return _CACHE[key]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MlgitError(f"{file}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    doc = _parse(file, text)
    if len(_CACHE) > 256:
        _CACHE.clear()
    _CACHE[key] = doc
    return doc


def load_yaml_text(text: str, label: str) -> Any:
    """YAML text that is not a file mlgit reports places in (a `.dvc` file, dvc.lock, a metrics
    file), under the same bounds as `load_document`."""
    if len(text) > MAX_BYTES:
        raise MlgitError(f"{label}: more than the {MAX_BYTES:,} bytes allowed for a YAML file")
    return _parse(Path(label), text, with_lines=False).data


def _parse(file: Path, text: str, with_lines: bool = True) -> Document:
    import yaml

    _check_flow_depth(file, text)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml's C parser if built
    try:
        node = loader.get_single_node()
        lines: dict[tuple[str | int, ...], int] = {}
        if node is not None:
            _check_shape(file, node)
            if with_lines:
                _collect_lines(node, (), lines, file)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MlgitError(f"{file}{where}: not valid YAML: {problem}; fix the syntax") from None
    finally:
        loader.dispose()
    return Document(file=file, data=data, lines=lines)


def _check_flow_depth(file: Path, text: str) -> None:
    """Refuse `[[[[...` before the parser recurses into it (an upper bound: brackets inside
    strings count too, which only matters for files no one writes by hand)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    if deepest > MAX_FLOW_DEPTH:
        raise MlgitError(
            f"{file}: nested deeper than {MAX_FLOW_DEPTH} levels of [ ] or {{ }}; "
            "mlgit's files need a few: flatten it"
        )


def _check_shape(file: Path, root: yaml.Node) -> None:
    """Depth, recursive aliases and alias expansion, measured on the node graph (each node once)
    before anything walks the tree aliases make of it."""

    expanded: dict[int, int] = {}  # node id -> nodes in its subtree, aliases expanded
    distinct = 0
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    open_nodes: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            line = node.start_mark.line + 1
            raise MlgitError(
                f"{file}:{line}: nested deeper than {MAX_DEPTH} levels; flatten the document"
            )
        children = _children(node)
        if done:
            open_nodes.discard(id(node))
            expanded[id(node)] = 1 + sum(expanded[id(c)] for c in children)
            continue
        if id(node) in expanded:
            continue
        if id(node) in open_nodes:
            line = node.start_mark.line + 1
            raise MlgitError(f"{file}:{line}: a recursive alias (a node inside itself); remove it")
        open_nodes.add(id(node))
        distinct += 1
        stack.append((node, depth, True))
        for child in children:
            if id(child) in open_nodes:
                line = child.start_mark.line + 1
                raise MlgitError(
                    f"{file}:{line}: a recursive alias (a node inside itself); remove it"
                )
            if id(child) not in expanded:
                stack.append((child, depth + 1, False))
    if expanded[id(root)] - distinct > MAX_ALIAS_NODES:
        raise MlgitError(
            f"{file}: its aliases expand it by {expanded[id(root)] - distinct:,} nodes (at most "
            f"{MAX_ALIAS_NODES:,}); write the values out instead of nesting aliases"
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _collect_lines(node: yaml.Node, where: tuple[str | int, ...], lines: dict, file: Path) -> None:
    import yaml

    lines[where] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if not isinstance(key, yaml.ScalarNode):  # `? [a, b]`: no name to report it by
                place = ".".join(str(w) for w in where) or "the top level"
                raise MlgitError(
                    f"{file}:{line}: {place}: a key that is a list or a mapping; "
                    "write a plain name as the key"
                )
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


def not_a_number_problems(doc: Document) -> list[Problem]:
    """Every `.nan` in the document: NaN compares false with everything, so a threshold or a
    bound of NaN would make a gate always fail or a check pass while saying nothing."""
    import math

    found: list[Problem] = []

    def walk(value: Any, where: tuple[str | int, ...]) -> None:
        if isinstance(value, float) and math.isnan(value):
            found.append(
                Problem(doc.file, where, doc.line_of(where), "is .nan, not a number; write one")
            )
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*where, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*where, index))

    walk(doc.data, ())
    return found


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
