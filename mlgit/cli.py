"""The `mlgit` command line: options in, one call to the module that does the work, a report out.

Heavy modules (dvc, pyarrow, pandas, sklearn, matplotlib, GitPython) are imported inside the
commands so that `mlgit --help` and the pre-commit hooks start fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from mlgit import __version__
from mlgit.errors import EXIT_CHECK_FAILED, error_handler

if TYPE_CHECKING:
    from pathlib import Path


class _Path:
    """click's `path_type` that makes a pathlib.Path only when a path is given on the command
    line: `mlgit --help` and the hooks start without importing pathlib."""

    def __new__(cls, value: str) -> Path:  # type: ignore[misc]
        from pathlib import Path

        return Path(value)

    @staticmethod
    def cwd() -> Path:
        from pathlib import Path

        return Path.cwd()


class _Group(click.Group):
    """Runs every command inside the one error handler (MlgitError -> exit 2)."""

    def invoke(self, ctx: click.Context) -> Any:
        with error_handler(debug=ctx.params.get("debug", False)):
            return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order of the user's day, not alphabetical

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click cuts each summary at ~45 characters; a whole first sentence (wrapped) says more
        rows = [(name, self.commands[name].get_short_help_str(limit=120)) for name in self.commands]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


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
        "-o", "--output", type=click.Path(dir_okay=False, path_type=_Path), help=help_text
    )


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
    metavar="PROVIDERS",
    help="Also generate the CI/CT/CD pipelines: github, gitlab or github,gitlab "
    "(recorded as ci.providers; default github, no pipelines written).",
)
def init(force: bool, providers: str | None) -> None:
    """Make this directory an mlgit project: git, DVC, mlgit.yaml, pre-commit config."""
    from mlgit.commands.init import describe, init, parse_providers

    chosen = parse_providers(providers) if providers is not None else ()
    click.echo(describe(init(_Path.cwd(), force, chosen), force))


@cli.command("check-config")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=_Path))
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
@click.argument("path", type=click.Path(path_type=_Path))
@click.option("--name", help="Dataset name in mlgit.yaml (default: from the file name).")
def track(path: Path, name: str | None) -> None:
    """`dvc add` a file or directory and register it as a dataset in mlgit.yaml."""
    from mlgit.commands.track import describe, track

    click.echo(describe(track(path, name)))


# ---------------------------------------------------------------- data: schema, validate
@cli.group()
def schema() -> None:
    """Dataset schemas: Frictionless Table Schema fields plus expectations."""


@schema.command("infer")
@click.argument("path", type=click.Path(path_type=_Path))
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
    type=click.Path(dir_okay=False, path_type=_Path),
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
) -> None:
    """Check datasets against their schemas and expectations (default: every dataset)."""
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
def profile(target: str, rev: str | None, output: Path | None, fmt: str) -> None:
    """Write a mergeable reference profile of a dataset (for `mlgit drift`)."""
    from mlgit.commands.profile import profile
    from mlgit.report import emit

    emit(profile(target, rev, output), fmt, None)


@cli.command()
@click.argument("name", metavar="NAME")
@click.option("--data", type=click.Path(path_type=_Path), help="Current data: a file or directory.")
@click.option("--rev", help="Current data: the dataset at this git revision.")
@click.option(
    "--reference",
    "reference_file",
    type=click.Path(path_type=_Path),
    help="Reference profile (default: the dataset's `reference:` in mlgit.yaml), or reference "
    "data (a Parquet/CSV/JSONL file or directory), profiled on the fly.",
)
@click.option("--base-rev", help="Reference: profile the dataset as it was at this revision.")
@click.option(
    "--plots",
    "plots_dir",
    type=click.Path(file_okay=False, path_type=_Path),
    help="Write PNG plots (summary + one per drifted column) into DIR.",
)
@report_options("text", "json", "markdown")
def drift(
    name: str,
    data: Path | None,
    rev: str | None,
    reference_file: Path | None,
    base_rev: str | None,
    plots_dir: Path | None,
    fmt: str,
    output: Path | None,
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
    )
    finish(report, fmt, output)


@cli.command()
@click.option("--data", type=click.Path(path_type=_Path), help="A production data sample.")
@click.option(
    "--metrics",
    "metrics_file",
    type=click.Path(dir_okay=False, path_type=_Path),
    help="Production metrics (JSON/YAML) to check against the model's gates.",
)
@click.option("--model", "model_name", help="The model (default: monitor.model or the only one).")
@report_options("text", "json", "markdown")
def monitor(
    data: Path | None,
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


# ---------------------------------------------------------------- models: evaluate, gate, registry


def _push_option(func: Callable) -> Callable:
    return click.option(
        "--push",
        "push",
        is_flag=False,
        flag_value="origin",
        default=None,
        metavar="[REMOTE]",
        help="Push the new tags to REMOTE (default origin).",
    )(func)


def _finish_change(change: Any, fmt: str, output: Path | None) -> None:
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


@cli.command()
@click.option(
    "--predictions",
    required=True,
    type=click.Path(dir_okay=False, path_type=_Path),
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
@_push_option
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

    _finish_change(registry.register(model, version, bump, rev, push), fmt, output)


@cli.command()
@click.argument("model")
@click.option("--to", "stage", required=True, help="The stage to assign.")
@click.option("--version", "version", help="A registered version (default: HEAD's, or a new one).")
@click.option(
    "--force", is_flag=True, help="Promote even if gates or policy refuse (needs --reason)."
)
@click.option("--reason", help="Why; recorded in the tag.")
@_push_option
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
    _finish_change(change, fmt, output)


@cli.command()
@click.argument("model")
@click.option("--stage", required=True, help="The stage to roll back.")
@click.option("--to", "to", help="The version to put back (default: the one before).")
@click.option("--reason", help="Why; recorded in the tag.")
@_push_option
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

    _finish_change(registry.rollback(model, stage, to, reason, push), fmt, output)


@cli.command()
@click.argument("model")
@click.option("--reason", help="Why; recorded in the tag.")
@_push_option
@report_options("text", "json", "markdown")
def deprecate(
    model: str, reason: str | None, push: str | None, fmt: str, output: Path | None
) -> None:
    """Retire MODEL (GTO's MODEL@deprecated#N)."""
    from mlgit.commands import registry

    _finish_change(registry.deprecate(model, reason, push), fmt, output)


@cli.command()
@click.argument("model")
@click.option("--stage", required=True, help="The stage to empty.")
@click.option("--reason", help="Why; recorded in the tag.")
@_push_option
@report_options("text", "json", "markdown")
def unassign(
    model: str, stage: str, reason: str | None, push: str | None, fmt: str, output: Path | None
) -> None:
    """Take MODEL's version out of STAGE (GTO's MODEL#STAGE!#N)."""
    from mlgit.commands import registry

    _finish_change(registry.unassign(model, stage, reason, push), fmt, output)


@cli.command("registry")
@click.argument("model", required=False)
@click.option("--history", is_flag=True, help="Also list every registry event (the audit trail).")
@report_options("text", "json", "markdown")
def registry_command(model: str | None, history: bool, fmt: str, output: Path | None) -> None:
    """Models, versions and stages, read from git tags (GTO-compatible)."""
    from mlgit.commands.registry import show
    from mlgit.report import emit

    emit(show(model, history), fmt, output)


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


# ---------------------------------------------------------------- demo
@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=_Path))
def demo(directory: Path | None) -> None:
    """Run the bundled churn example end to end in a fresh repository (default: a temp dir)."""
    from mlgit.commands.demo import run

    if not run(directory, click.echo):
        raise SystemExit(EXIT_CHECK_FAILED)


def main() -> None:
    cli(prog_name="mlgit")
