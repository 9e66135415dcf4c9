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
    "engine_options",
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


def engine_options(func: Callable) -> Callable:
    """`--engine`, `--scheduler` and `--no-statistics`, passed on as one `engine` choice
    (mlgit.data.engine.Choice; what is not given comes from MLGIT_DASK_SCHEDULER or the
    `engine:` of mlgit.yaml)."""
    import functools

    @functools.wraps(func)
    def wrapper(
        *args: Any, kind: str | None, scheduler: str | None, no_statistics: bool, **kwargs: Any
    ) -> Any:
        from mlgit.data.engine import Choice

        choice = Choice(kind, scheduler, False if no_statistics else None)
        return func(*args, engine=choice, **kwargs)

    for option in reversed(
        (
            click.option(
                "--engine",
                "kind",
                type=click.Choice(["local", "dask"]),
                default=None,
                help="Where to scan: this machine (default) or a Dask cluster "
                '(pip install "mlgit[dask]"); mlgit.yaml `engine:` sets a default.',
            ),
            click.option(
                "--scheduler",
                metavar="ADDRESS",
                default=None,
                help="The Dask scheduler to run on (also MLGIT_DASK_SCHEDULER); "
                "without it --engine dask starts a local cluster for the run.",
            ),
            click.option(
                "--no-statistics",
                is_flag=True,
                help="Read every column chunk, even those Parquet statistics prove to pass.",
            ),
        )
    ):
        wrapper = option(wrapper)
    return wrapper


def output_option(help_text: str) -> Callable:
    return click.option(
        "-o", "--output", type=click.Path(dir_okay=False, path_type=Path_), help=help_text
    )


def finish(report: Any, fmt: str, output: Path | None) -> None:
    """Emit the report; exit 1 when it failed, 2 when the run could not finish (the report
    then shows what it could check, and the error says what is missing)."""
    from mlgit.errors import MlgitError
    from mlgit.report import FAIL, emit

    emit(report, fmt, output)
    if report.error:
        raise MlgitError(report.error)
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
