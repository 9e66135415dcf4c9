"""The `mlgit` command line: options in, one call to the module that does the work, a report out.

Heavy modules (dvc, pyarrow, pandas, sklearn, matplotlib, GitPython) are imported inside the
commands so that `mlgit --help` and the pre-commit hooks start fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mlgit import __version__
from mlgit.errors import EXIT_CHECK_FAILED, error_handler


class _Group(click.Group):
    """Runs every command inside the one error handler (MlgitError -> exit 2)."""

    def invoke(self, ctx: click.Context) -> Any:
        with error_handler(debug=ctx.params.get("debug", False)):
            return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order of the user's day, not alphabetical


def report_options(*formats: str) -> Callable:
    """`--format` and `-o/--output`, the same on every command that reports."""

    def decorate(func: Callable) -> Callable:
        func = click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the report to FILE (atomically) instead of stdout.",
        )(func)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(formats),
            default=formats[0],
            show_default=True,
            help="Report format.",
        )(func)

    return decorate


def finish(report: Any, fmt: str, output: Path | None) -> None:
    """Emit the report; exit 1 when it failed."""
    from mlgit.report import FAIL, emit

    emit(report, fmt, output)
    if report.status == FAIL:
        raise SystemExit(EXIT_CHECK_FAILED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlgit")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """mlgit: datasets and models in git + DVC, checked on every change.

    Exit codes: 0 all checks pass, 1 a check failed, 2 usage, config or input error.
    """


# ---------------------------------------------------------------- project
@cli.command()
@click.option("--force", is_flag=True, help="Overwrite mlgit.yaml and .pre-commit-config.yaml.")
@click.option(
    "--ci",
    "providers",
    default="github",
    show_default=True,
    metavar="PROVIDERS",
    help="CI providers for the generated pipelines: github, gitlab or github,gitlab.",
)
def init(force: bool, providers: str) -> None:
    """Make this directory an mlgit project: git, DVC, mlgit.yaml, pre-commit config."""
    from mlgit.errors import MlgitError
    from mlgit.init import init as run_init

    chosen = tuple(p.strip() for p in providers.split(",") if p.strip())
    bad = [p for p in chosen if p not in ("github", "gitlab")]
    if bad or not chosen:
        raise MlgitError(f"--ci {providers!r}: choose github, gitlab or github,gitlab")
    result = run_init(Path.cwd(), force, chosen)
    for item in result.created:
        click.echo(f"created  {item}")
    for item in result.kept:
        click.echo(
            f"kept     {item} (already there{'' if force else '; --force overwrites files'})"
        )
    if not result.created:
        click.echo("nothing to do: this is already an mlgit project")
    click.echo(
        "\nnext:\n  mlgit track data/train.parquet   # version a dataset with DVC\n"
        "  mlgit validate                   # check every dataset against its schema\n"
        "  pre-commit install               # run mlgit's hooks on every commit"
    )


@cli.command("check-config")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def check_config(file: Path | None) -> None:
    """Validate mlgit.yaml (and the files it names), reporting every error with its place."""
    from mlgit import config
    from mlgit.errors import MlgitError

    file = file or config.find_config()
    _, problems = config.check(file)
    if problems:
        for problem in problems:
            click.echo(f"mlgit: error: {problem}", err=True)
        raise MlgitError(f"{file}: {len(problems)} error(s); fix them and run check-config again")
    click.echo(f"{file}: ok")


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", help="Dataset name in mlgit.yaml (default: from the file name).")
def track(path: Path, name: str | None) -> None:
    """`dvc add` a file or directory and register it as a dataset in mlgit.yaml."""
    from mlgit.track import track as run_track

    result = run_track(path, name)
    click.echo(f"tracked  {result.path} as dataset {result.name!r} ({result.dvc_file})")
    if result.schema:
        click.echo(f"schema   {result.schema} (inferred; review and commit it)")
    click.echo(f"staged   {', '.join(result.staged)}")
    click.echo("next:    git commit -m 'Track dataset' && dvc push")


# ---------------------------------------------------------------- data: schema, validate


# ---------------------------------------------------------------- drift: profile, drift, monitor


# ---------------------------------------------------------------- models: evaluate, gate, registry


def main() -> None:
    cli(prog_name="mlgit")
