"""What every command's wiring shares: paths made lazily, `--format`/`-o`, `--push`, and
emitting a report with the exit code its status asks for."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from mlgit.errors import EXIT_CHECK_FAILED

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "EXIT_CHECK_FAILED",
    "Path_",
    "finish",
    "finish_change",
    "output_option",
    "push_option",
    "report_options",
]


class Path_:
    """click's `path_type` that makes a pathlib.Path only when a path is given on the command
    line: `mlgit --help` and the hooks start without importing pathlib."""

    def __new__(cls, value: str) -> Path:  # type: ignore[misc]
        from pathlib import Path

        return Path(value)

    @staticmethod
    def cwd() -> Path:
        from pathlib import Path

        return Path.cwd()


def report_options(
    *formats: str,
    output_help: str = "Write the report to FILE (atomically) instead of stdout.",
    format_help: str = "Report format.",
) -> Callable:
    """`--format` and `-o/--output`, the same on every command that reports."""

    def decorate(func: Callable) -> Callable:
        func = output_option(output_help)(func)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(formats),
            default=formats[0],
            show_default=True,
            help=format_help,
        )(func)

    return decorate


def output_option(help_text: str) -> Callable:
    return click.option(
        "-o", "--output", type=click.Path(dir_okay=False, path_type=Path_), help=help_text
    )


def finish(report: Any, fmt: str, output: Path | None) -> None:
    """Emit the report; exit 1 when it failed."""
    from mlgit.report import FAIL, emit

    emit(report, fmt, output)
    if report.status == FAIL:
        raise SystemExit(EXIT_CHECK_FAILED)


def push_option(func: Callable) -> Callable:
    return click.option(
        "--push",
        "push",
        is_flag=False,
        flag_value="origin",
        default=None,
        metavar="[REMOTE]",
        help="Push the new tags to REMOTE (default origin).",
    )(func)


def finish_change(change: Any, fmt: str, output: Path | None) -> None:
    """Emit a registry change; a failed push is an error (exit 2) that says how to retry."""
    from mlgit.commands.registry import push_failure
    from mlgit.report import emit
    from mlgit.report.registry import change_report

    report, error = change_report(change), push_failure(change)
    if error is None:
        finish(report, fmt, output)
        return
    emit(report, fmt, output)
    raise error
