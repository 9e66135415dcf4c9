"""Data commands: schema infer, validate, profile, drift, monitor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mlgit.cli.group import cli
from mlgit.cli.options import (
    Path_,
    engine_options,
    finish,
    output_option,
    report_options,
)

if TYPE_CHECKING:
    from pathlib import Path

    from mlgit.data.engine import Choice


# ---------------------------------------------------------------- data: schema, validate
@cli.group()
def schema() -> None:
    """Dataset schemas: Frictionless Table Schema fields plus expectations."""


@schema.command("infer")
@click.argument("path", type=click.Path(path_type=Path_))
@output_option("Write the schema to FILE (atomically) instead of stdout.")
@click.option(
    "--enum-limit",
    type=click.IntRange(0),
    default=20,
    show_default=True,
    help="Strings with at most this many distinct values get an `enum`.",
)
def schema_infer(path: Path, output: Path | None, enum_limit: int) -> None:
    """Infer a schema from the data in PATH (a file or a directory of files)."""
    from mlgit.commands.schema import infer
    from mlgit.fs import write_atomic

    text = infer(path, enum_limit)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
        click.echo(f"wrote    {output} (review the rules, then commit it)", err=True)


@cli.command()
@click.argument("targets", nargs=-1, metavar="[NAME|PATH]...")
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(dir_okay=False, path_type=Path_),
    help="Check against this schema file instead of the one in mlgit.yaml.",
)
@click.option("--rev", help="Validate the data as tracked at this git revision (read via DVC).")
@click.option(
    "--changed",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[BASE]",
    help="Only datasets whose DVC hash or schema differs from BASE "
    "(default: the merge-base with the default branch).",
)
@click.option(
    "--sample",
    type=click.IntRange(0),
    default=20,
    show_default=True,
    help="Failing examples to keep per check.",
)
@click.option("--fail-fast", is_flag=True, help="Stop reading at the first failing batch.")
@click.option("--no-cache", is_flag=True, help="Re-read the data even if results are cached.")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Text format: list every check, not only those that failed or warned.",
)
@engine_options
@report_options("text", "json", "markdown", "junit")
def validate(
    targets: tuple[str, ...],
    schema_file: Path | None,
    rev: str | None,
    changed: str | None,
    sample: int,
    fail_fast: bool,
    no_cache: bool,
    verbose: bool,
    fmt: str,
    output: Path | None,
    engine: Choice,
) -> None:
    """Check datasets against their schemas and expectations (default: every dataset).

    NAME|PATH may be a URL (s3://bucket/prefix/, gs://..., file://...) read where it lives."""
    from mlgit.commands.validate import validate

    report = validate(
        targets,
        schema_file=schema_file,
        rev=rev,
        changed=changed,
        sample=sample,
        fail_fast=fail_fast,
        use_cache=not no_cache,
        compact=fmt == "markdown",
        problems_only=fmt == "text" and not verbose,
        engine=engine,
    )
    finish(report, fmt, output)


# ---------------------------------------------------------------- drift: profile, drift, monitor
@cli.command()
@click.argument("target", metavar="NAME|PATH")
@click.option("--rev", help="Profile the DVC-tracked data as it was at this git revision.")
@report_options(
    "text",
    "json",
    "markdown",
    output_help="Profile file to write (default: the dataset's `reference:` in mlgit.yaml).",
    format_help="Format of the summary printed (json prints the profile itself).",
)
@engine_options
def profile(target: str, rev: str | None, output: Path | None, fmt: str, engine: Choice) -> None:
    """Write a mergeable reference profile of a dataset (for `mlgit drift`)."""
    from mlgit.commands.profile import profile
    from mlgit.report import emit

    emit(profile(target, rev, output, engine), fmt, None)


@cli.command()
@click.argument("name", metavar="NAME")
@click.option("--data", metavar="PATH|URL", help="Current data: a file, a directory or a URL.")
@click.option("--rev", help="Current data: the dataset at this git revision.")
@click.option(
    "--reference",
    "reference_file",
    metavar="PATH|URL",
    help="Reference profile (default: the dataset's `reference:` in mlgit.yaml), or reference "
    "data (a Parquet/CSV/JSONL file, directory or URL), profiled on the fly.",
)
@click.option("--base-rev", help="Reference: profile the dataset as it was at this revision.")
@click.option(
    "--plots",
    "plots_dir",
    type=click.Path(file_okay=False, path_type=Path_),
    help="Write PNG plots (summary + one per drifted column) into DIR.",
)
@engine_options
@report_options("text", "json", "markdown")
def drift(
    name: str,
    data: str | None,
    rev: str | None,
    reference_file: str | None,
    base_rev: str | None,
    plots_dir: Path | None,
    fmt: str,
    output: Path | None,
    engine: Choice,
) -> None:
    """Compare current data with the reference profile: per-column and dataset drift.

    Numeric columns: PSI on the reference's decile bins, Wasserstein distance / reference std,
    KS statistic. Categorical: PSI, Jensen-Shannon distance, chi-square p-value. Empty bins
    (new categories, values beyond the reference range) are smoothed: every bin share gets
    1e-4 added before PSI and chi-square, so no score divides by zero. Identifier-like columns
    (ids, emails: nearly all values distinct) and those in `drift.exclude` are skipped.
    Exit 1 when the share of drifted columns reaches `drift.share` in mlgit.yaml.
    """
    from mlgit.commands.drift import drift

    report = drift(
        name,
        data=data,
        rev=rev,
        reference_file=reference_file,
        base_rev=base_rev,
        plots_dir=plots_dir,
        output=output,
        engine=engine,
    )
    finish(report, fmt, output)


@cli.command()
@click.option("--data", metavar="PATH|URL", help="A production data sample (file, directory, URL).")
@click.option(
    "--metrics",
    "metrics_file",
    type=click.Path(dir_okay=False, path_type=Path_),
    help="Production metrics (JSON/YAML) to check against the model's gates.",
)
@click.option("--model", "model_name", help="The model (default: monitor.model or the only one).")
@report_options("text", "json", "markdown")
def monitor(
    data: str | None,
    metrics_file: Path | None,
    model_name: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Schema + drift of production data, production metrics vs gates -> an action.

    Prints {"action": "none|retrain|rollback|alert", "reasons": [...]}; exit 1 unless none.
    """
    from mlgit.commands.monitor import monitor

    finish(monitor(model_name, data, metrics_file), fmt, output)
