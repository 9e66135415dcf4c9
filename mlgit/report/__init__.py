"""Reporters: every command's result laid out as a `Report`, then written in one format.

A command turns its result objects into a `Report` (see report/validation.py, report/drift.py,
...); each format is one module with `render(report, color) -> str` registered in `FORMATS`.
Adding a format touches one file; reporters never compute, they only lay out.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgit.errors import MlgitError

# Row and report statuses; reporters colour and mark them, junit turns "fail" into <failure>.
OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    status: tuple[str, ...] = ()  # one per row, or empty when rows carry no verdict


@dataclass(frozen=True)
class Report:
    command: str  # the mlgit command, e.g. "validate"
    title: str
    status: str  # OK | WARN | FAIL for the whole run
    summary: str  # one sentence a person reads first
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)  # JSON payload, schema-documented
    images: tuple[tuple[str, str], ...] = ()  # (caption, path relative to the report)


Renderer = Callable[[Report, bool], str]


def formats() -> dict[str, Renderer]:
    from mlgit.report import json, junit, markdown, text

    return {
        "text": text.render,
        "json": json.render,
        "markdown": markdown.render,
        "junit": junit.render,
    }


def emit(report: Report, fmt: str, output: Path | None) -> None:
    """Write the report to `output` (atomically: never a truncated file) or to stdout."""
    renderer = formats().get(fmt)
    if renderer is None:
        raise MlgitError(f"unknown format {fmt!r}; choose one of {', '.join(formats())}")
    if output is None:
        color = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        sys.stdout.write(renderer(report, color))
        sys.stdout.flush()
        return
    write_atomic(output, renderer(report, False))


def write_atomic(path: Path, content: str) -> None:
    """Replace `path` with `content` in one step: readers see the old file or the new one."""
    path = path.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as tmp:
            tmp.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise MlgitError(f"{path}: cannot write ({exc.strerror}); check the directory") from None


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` (same suffix) that replaces it when the block ends, with
    the mode `file_mode` gives; on any error it is removed and `path` is left as it was."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def file_mode(path: Path) -> int:
    """The permissions a replaced file keeps, or a new file gets from the umask (mkstemp's
    temporary file is 0600: readable by its owner only)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
