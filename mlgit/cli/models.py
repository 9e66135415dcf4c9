"""Model commands: evaluate, gate, and the registry (register, promote, rollback, deprecate,
unassign, registry)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mlgit.cli.group import cli
from mlgit.cli.options import (
    Path_,
    finish,
    finish_change,
    push_option,
    report_options,
)

if TYPE_CHECKING:
    from pathlib import Path


# ---------------------------------------------------------------- models: evaluate, gate, registry


@cli.command()
@click.option(
    "--predictions",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path_),
    help="Table of predictions (.csv, .parquet, .jsonl).",
)
@click.option("--label", required=True, help="Column with the true label / target.")
@click.option("--prediction", required=True, help="Column with the model's prediction.")
@click.option("--score", help="Column with the positive-class score (adds roc_auc).")
@click.option(
    "--positive",
    metavar="CLASS",
    help="The positive class of a binary label (default: 1, true or yes; else asked for).",
)
@click.option(
    "--by", multiple=True, help="Slice column (repeatable); adds per-slice metrics and gaps."
)
@click.option(
    "--task", type=click.Choice(["classification", "regression"]), help="Default: from the label."
)
@click.option("--baseline", is_flag=True, help="Also score a dummy model: baseline.* metrics.")
@click.option(
    "--train-labels",
    type=click.Path(dir_okay=False, path_type=Path_),
    help="Training table with the label column (the dummy model is fitted on it).",
)
@report_options(
    "text",
    "json",
    "markdown",
    output_help="Write the metrics file (DVC metrics JSON) here, e.g. metrics.json.",
    format_help="What to print.",
)
def evaluate(
    predictions: Path,
    label: str,
    prediction: str,
    score: str | None,
    positive: str | None,
    by: tuple[str, ...],
    task: str | None,
    baseline: bool,
    train_labels: Path | None,
    output: Path | None,
    fmt: str,
) -> None:
    """Score predictions with scikit-learn, overall and per slice; `-o` writes the DVC
    metrics file that `dvc metrics show` and `mlgit gate` read."""
    from mlgit.commands.evaluate import evaluate
    from mlgit.report import emit

    report = evaluate(
        predictions,
        label,
        prediction,
        score=score,
        positive=positive,
        by=by,
        task=task,
        output=output,
        baseline=baseline,
        train_labels=train_labels,
    )
    emit(report, fmt, None)


@cli.command()
@click.argument("model")
@click.option("--baseline", help="Compare with this stage's version or git revision (all gates).")
@click.option("--rev", help="Gate the metrics as committed at REV (default: the work tree).")
@report_options("text", "json", "markdown")
def gate(model: str, baseline: str | None, rev: str | None, fmt: str, output: Path | None) -> None:
    """Run MODEL's metric gates; exit 1 if one fails."""
    from mlgit.commands.gate import gate

    finish(gate(model, baseline, rev), fmt, output)


@cli.command()
@click.argument("model")
@click.option("--version", "version", help="The version, vMAJOR.MINOR.PATCH.")
@click.option("--bump", type=click.Choice(["major", "minor", "patch"]), help="Next version.")
@click.option("--rev", default="HEAD", show_default=True, help="The commit to register.")
@push_option
@report_options("text", "json", "markdown")
def register(
    model: str,
    version: str | None,
    bump: str | None,
    rev: str,
    push: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Tag a commit as a version of MODEL (MODEL@vX.Y.Z, annotated, with provenance)."""
    from mlgit.commands import registry

    finish_change(registry.register(model, version, bump, rev, push), fmt, output)


@cli.command()
@click.argument("model")
@click.option("--to", "stage", required=True, help="The stage to assign.")
@click.option("--version", "version", help="A registered version (default: HEAD's, or a new one).")
@click.option(
    "--force", is_flag=True, help="Promote even if gates or policy refuse (needs --reason)."
)
@click.option("--reason", help="Why; recorded in the tag.")
@push_option
@report_options("text", "json", "markdown")
def promote(
    model: str,
    stage: str,
    version: str | None,
    force: bool,
    reason: str | None,
    push: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Gates against the version in STAGE, policy, then the tag MODEL#STAGE#N."""
    from mlgit.commands import registry

    change = registry.promote(model, stage, version, force, reason, push)
    finish_change(change, fmt, output)


@cli.command()
@click.argument("model")
@click.option("--stage", required=True, help="The stage to roll back.")
@click.option("--to", "to", help="The version to put back (default: the one before).")
@click.option("--reason", help="Why; recorded in the tag.")
@push_option
@report_options("text", "json", "markdown")
def rollback(
    model: str,
    stage: str,
    to: str | None,
    reason: str | None,
    push: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Assign STAGE's previous (or the given) version again, with new tags."""
    from mlgit.commands import registry

    finish_change(registry.rollback(model, stage, to, reason, push), fmt, output)


@cli.command()
@click.argument("model")
@click.option("--reason", help="Why; recorded in the tag.")
@push_option
@report_options("text", "json", "markdown")
def deprecate(
    model: str, reason: str | None, push: str | None, fmt: str, output: Path | None
) -> None:
    """Retire MODEL (GTO's MODEL@deprecated#N)."""
    from mlgit.commands import registry

    finish_change(registry.deprecate(model, reason, push), fmt, output)


@cli.command()
@click.argument("model")
@click.option("--stage", required=True, help="The stage to empty.")
@click.option("--reason", help="Why; recorded in the tag.")
@push_option
@report_options("text", "json", "markdown")
def unassign(
    model: str, stage: str, reason: str | None, push: str | None, fmt: str, output: Path | None
) -> None:
    """Take MODEL's version out of STAGE (GTO's MODEL#STAGE!#N)."""
    from mlgit.commands import registry

    finish_change(registry.unassign(model, stage, reason, push), fmt, output)


@cli.command("registry")
@click.argument("model", required=False)
@click.option("--history", is_flag=True, help="Also list every registry event (the audit trail).")
@report_options("text", "json", "markdown")
def registry_command(model: str | None, history: bool, fmt: str, output: Path | None) -> None:
    """Models, versions and stages, read from git tags (GTO-compatible)."""
    from mlgit.commands.registry import show
    from mlgit.report import emit

    emit(show(model, history), fmt, output)


@cli.command()
@click.argument("target", metavar="MODEL@vX.Y.Z|MODEL#STAGE")
@click.option("--stage", help="Reproduce the version this stage holds (with a bare MODEL).")
@click.option("--tolerance", type=float, default=1e-6, show_default=True, help="Absolute.")
@report_options("text", "json", "markdown")
def reproduce(
    target: str, stage: str | None, tolerance: float, fmt: str, output: Path | None
) -> None:
    """Rebuild a version (dvc repro in a temporary worktree) and compare its metrics with
    those its tag recorded; the verdict becomes a git note. Exit 1 when not reproduced."""
    from mlgit.commands.reproduce import reproduce

    finish(reproduce(target, stage, tolerance), fmt, output)
