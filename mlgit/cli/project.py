"""Project commands: init, check-config, track, the demo, and doctor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mlgit.cli.group import cli
from mlgit.cli.options import (
    EXIT_CHECK_FAILED,
    Path_,
    finish,
    report_options,
)

if TYPE_CHECKING:
    from pathlib import Path


# ---------------------------------------------------------------- project
@cli.command()
@click.option("--force", is_flag=True, help="Overwrite mlgit.yaml and .pre-commit-config.yaml.")
@click.option(
    "--ci",
    "providers",
    metavar="PROVIDERS",
    help="Also generate the CI/CT/CD pipelines: github, gitlab or github,gitlab "
    "(recorded as ci.providers; default github, no pipelines written).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the mlgit.yaml init would write (and what it adopts) and write nothing.",
)
def init(force: bool, providers: str | None, dry_run: bool) -> None:
    """Make this directory an mlgit project: git, DVC, mlgit.yaml, pre-commit config.

    In an existing DVC/GTO repository, mlgit.yaml adopts its models, datasets and stages."""
    from mlgit.commands.init import describe, init, parse_providers

    chosen = parse_providers(providers) if providers is not None else ()
    result = init(Path_.cwd(), force, chosen, dry_run)
    if dry_run:
        click.echo(result.config, nl=False)  # the file alone on stdout: `> mlgit.yaml` works
        click.echo(describe(result, force), err=True)
    else:
        click.echo(describe(result, force))


@cli.command("check-config")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path_))
def check_config(file: Path | None) -> None:
    """Validate mlgit.yaml (and the files it names), reporting every error with its place."""
    from mlgit.commands.check_config import check_config
    from mlgit.errors import MlgitError
    from mlgit.escape import printable

    file, problems = check_config(file)
    if problems:
        for problem in problems:
            click.echo(f"mlgit: error: {printable(str(problem), newlines=False)}", err=True)
        raise MlgitError(f"{file}: {len(problems)} error(s); fix them and run check-config again")
    click.echo(f"{file}: ok")


@cli.command()
@click.argument("path", type=click.Path(path_type=Path_))
@click.option("--name", help="Dataset name in mlgit.yaml (default: from the file name).")
def track(path: Path, name: str | None) -> None:
    """`dvc add` a file or directory and register it as a dataset in mlgit.yaml."""
    from mlgit.commands.track import describe, track

    click.echo(describe(track(path, name)))


# ---------------------------------------------------------------- demo
@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path_))
def demo(directory: Path | None) -> None:
    """Run the bundled churn example end to end in a fresh repository (default: a temp dir)."""
    from mlgit.commands.demo import run

    if not run(directory, click.echo):
        raise SystemExit(EXIT_CHECK_FAILED)


@cli.command()
@click.option(
    "--history",
    type=click.IntRange(1),
    default=50,
    show_default=True,
    help="Look for large data in the trees of the last N commits.",
)
@click.option(
    "--min-level",
    type=click.IntRange(0, 2),
    default=None,
    help="Exit 1 when the project is below this maturity level (0, 1 or 2).",
)
@report_options("text", "json", "markdown")
def doctor(history: int, min_level: int | None, fmt: str, output: Path | None) -> None:
    """Score the project against MLOps maturity levels 0-2: each item, why, and its fix."""
    from mlgit.commands.doctor import doctor

    finish(doctor(history, min_level), fmt, output)
