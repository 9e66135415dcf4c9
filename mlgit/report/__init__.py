"""Reporters: every command's result laid out as a `Report`, then written in one format.

A command turns its result objects into a `Report` (see report/validation.py, report/drift.py,
...); each format is one module with `render(report, color) -> str` registered in `FORMATS`.
Adding a format touches one file; reporters never compute, they only lay out.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from mlgit.errors import MlgitError
from mlgit.fs import write_atomic
from mlgit.report.tables import Report, Table
from mlgit.status import FAIL, OK, SKIP, WARN

__all__ = ["FAIL", "OK", "SKIP", "WARN", "Report", "Table", "emit", "formats", "write_atomic"]


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
