"""What validation reports: one frozen `CheckResult` per check, gathered in a `DatasetResult`.

Plain data for the reporters (mlgit/report/validation.py) and the validation cache; nothing
here computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERROR, WARN = "error", "warn"  # a check's severity: only a failed "error" check fails the run


@dataclass(frozen=True)
class CheckResult:
    check: str
    column: str | None
    ok: bool
    severity: str
    element_count: int
    unexpected_count: int | None  # None for aggregate checks (mean, row_count, ...)
    unexpected_percent: float | None
    mostly: float | None
    examples: tuple[tuple[int | None, Any], ...]  # (row number from 0, value)
    examples_truncated: bool
    message: str
    observed: Any = None  # the measured value of aggregate checks
    skipped: bool = False  # not evaluated (the scan stopped early with --fail-fast)
    # a dataset of several files: the file of each example, whose row then counts from 0 in it
    example_files: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class DatasetResult:
    dataset: str
    ok: bool  # no error-severity check failed
    results: tuple[CheckResult, ...]
    row_count: int
    source: str = ""
    schema: str | None = None
    cached: bool = False
    stopped_early: bool = False
    unreadable: tuple[str, ...] = ()  # files that could not be read: the counts leave them out
    settled_chunks: int = 0  # column chunks proven by Parquet statistics, their data not read
