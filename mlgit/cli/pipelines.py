"""Pull requests and pipelines: report, ci (generate and the helpers the pipelines call), and
the check-large-files hook."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mlgit.cli.group import cli
from mlgit.cli.options import (
    EXIT_CHECK_FAILED,
    finish,
    report_options,
)

if TYPE_CHECKING:
    from pathlib import Path


# ---------------------------------------------------------------- report: a pull request's summary
@cli.command("report")
@click.option(
    "--base",
    metavar="REV",
    help="Compare with this revision (default: the merge-base with the default branch).",
)
@report_options(
    "markdown",
    "text",
    "json",
    format_help="Format (markdown, for a pull-request comment or a CI job summary).",
)
def report_command(base: str | None, fmt: str, output: Path | None) -> None:
    """A pull request's summary: changed datasets, their drift, metrics, gates.

    Against BASE: the datasets the change touched, validated; their drift against the base's
    data; every model's metrics at the base and now; the models' gates. Exit 1 when a check
    or a gate failed; drift only warns (new data is expected to move).
    """
    from mlgit.commands.report import report

    finish(report(base), fmt, output)


# ---------------------------------------------------------------- ci: generated pipelines
@cli.group("ci")
def ci_group() -> None:
    """CI/CT/CD pipelines for GitHub Actions and GitLab CI, generated from mlgit.yaml."""


@ci_group.command("generate")
@click.option(
    "--provider",
    "provider",
    type=click.Choice(["github", "gitlab", "all"]),
    help="Which pipelines (default: ci.providers in mlgit.yaml).",
)
@click.option("--check", is_flag=True, help="Exit 1 with a diff when a file is missing or stale.")
@click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing.")
@click.option("--force", is_flag=True, help="Overwrite files mlgit did not generate or that were "
              "edited by hand.")  # fmt: skip
def ci_generate(provider: str | None, check: bool, dry_run: bool, force: bool) -> None:
    """Write .github/workflows/mlgit-*.yml and/or .gitlab-ci.yml from mlgit.yaml."""
    from mlgit.ci.render import PROVIDERS
    from mlgit.commands.ci import generate

    chosen = tuple(PROVIDERS) if provider == "all" else (provider,) if provider else ()
    result = generate(chosen, check=check, dry_run=dry_run, force=force)
    for f in result.files:
        if result.mode == "dry-run":
            click.echo(f"--- would write {f.path}\n{f.text}", nl=False)
        elif f.diff:
            click.echo(f.diff, nl=False)
        click.echo(f"{f.state:<10} {f.path}", err=result.mode == "dry-run")
    if result.stale:
        click.echo("stale: run `mlgit ci generate` and commit the files", err=True)
        raise SystemExit(EXIT_CHECK_FAILED)


@ci_group.command("changed-data", hidden=True)
@click.argument("base")
def ci_changed_data(base: str) -> None:
    """Print the paths of datasets changed since BASE (for the pipelines' `dvc pull`)."""
    from mlgit.commands.ci import changed_data

    for path in changed_data(base):
        click.echo(path)


@ci_group.command("check-tag", hidden=True)
@click.argument("tag")
@click.option("--allow-unverified", is_flag=True, help="Accept a tag without mlgit provenance.")
def ci_check_tag(tag: str, allow_unverified: bool) -> None:
    """Before deploying TAG: exit 1 unless it still holds its stage and passed its gates;
    prints model=, version=, stage=, commit= lines for the pipeline."""
    from mlgit.ci.tagcheck import check_tag
    from mlgit.errors import MlgitError
    from mlgit.repo.git import find_root

    root = find_root()
    if root is None:
        raise MlgitError("not inside a git repository; run check-tag in the checkout")
    verdict = check_tag(root, tag, allow_unverified)
    for reason in verdict.refused:
        click.echo(f"refused: {reason}", err=True)
    if verdict.refused:
        raise SystemExit(EXIT_CHECK_FAILED)
    click.echo(verdict.outputs(), nl=False)


# ---------------------------------------------------------------- check-large-files
@cli.command("check-large-files")
@click.option(
    "--max-size",
    default="5MB",
    show_default=True,
    help="Refuse files larger than this (500KB, 5MB, 1GB; binary units).",
)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
def check_large_files(max_size: str, files: tuple[str, ...]) -> None:
    """Refuse data, model and large files staged in git; print the `mlgit track` to run instead.

    The `mlgit-no-large-data` pre-commit hook: refused are files above --max-size and files
    with a data or model extension (parquet, csv, pkl, onnx, pt, h5, ...), which DVC should
    track. Exit 1 when a file is refused.
    """
    from mlgit.commands import no_large_data

    refusals = no_large_data.check(files, no_large_data.parse_size(max_size))
    for refusal in refusals:
        click.echo(no_large_data.message(refusal), err=True)
    if refusals:
        raise SystemExit(EXIT_CHECK_FAILED)
