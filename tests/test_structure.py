"""The package's shape, as DESIGN.md draws it: no import cycles (imports inside functions count),
small modules, layers that only import downwards, git and DVC only through `mlgit/repo/`."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mlgit"
MAX_LINES = 600
MAX_CLI_LINES = 250  # a module of mlgit/cli/ only wires options to commands/


def _module_name(file: Path) -> str:
    parts = file.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(f): f for f in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Lines inside `if TYPE_CHECKING:` blocks: those imports never run."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(name: str) -> list[tuple[str, int]]:
    """(module imported, line) for every import that runs, at any depth of the module."""
    file = MODULES[name]
    tree = ast.parse(file.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", 0) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:  # `from mlgit.data import profile` imports a module
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in MODULES else base, node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    return {
        name: {target for target, _ in _imports(name) if target in MODULES and target != name}
        for name in MODULES
    }


def test_no_import_cycles() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == [], f"import cycles: {cycles}"


def test_modules_stay_small() -> None:
    sizes = {name: len(f.read_text(encoding="utf-8").splitlines()) for name, f in MODULES.items()}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}
    cli = {n: s for n, s in sizes.items() if n.startswith("mlgit.cli")}
    assert {n: s for n, s in cli.items() if s > MAX_CLI_LINES} == {}


def test_layers_import_downwards_only() -> None:
    """data/ and models/ are the core: they never reach up into the CLI, commands or reports."""
    upper = ("mlgit.cli", "mlgit.commands", "mlgit.report")
    wrong = [
        f"{name}:{line} imports {target}"
        for name in MODULES
        if name.startswith(("mlgit.data", "mlgit.models"))
        for target, line in _imports(name)
        if target.startswith(upper)
    ]
    assert wrong == []


def test_git_and_dvc_only_through_repo() -> None:
    wrong = [
        f"{name}:{line} imports {target}"
        for name in MODULES
        if not name.startswith("mlgit.repo")
        for target, line in _imports(name)
        if target.split(".")[0] in ("git", "dvc")
    ]
    assert wrong == []
