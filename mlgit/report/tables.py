"""What every command's report is made of: titled tables of rows, each row with a status, a
headline status and summary, notes, images, and the JSON payload. Layouts (report/<command>.py)
build them; formats (text, json, markdown, junit) render them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    error: str | None = None  # the run could not finish (an unreadable file): exit 2 after it
