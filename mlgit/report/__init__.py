"""Reporters: every command's result laid out as a `Report`, then written in one format.

A command turns its result objects into a `Report` (see report/validation.py, report/drift.py,
...); each format is one module with `render(report, color) -> str` registered in `FORMATS`.
Adding a format touches one file; reporters never compute, they only lay out.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgit.errors import MlgitError
from mlgit.fs import write_atomic
from mlgit.status import FAIL, OK, SKIP, WARN

__all__ = ["FAIL", "OK", "SKIP", "WARN", "Report", "Table", "emit", "formats", "write_atomic"]


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
