"""`mlgit init`: make a directory an mlgit project (git, DVC, mlgit.yaml, pre-commit config)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgit.commands.init_config import config_text
from mlgit.config import CONFIG_FILE
from mlgit.errors import MlgitError
from mlgit.fs import write_atomic

if TYPE_CHECKING:
    from mlgit.commands.adopt import Adoption

PRE_COMMIT_FILE = ".pre-commit-config.yaml"


@dataclass(frozen=True)
class InitResult:
    root: Path
    created: tuple[str, ...]  # what this run made: "git repository", "mlgit.yaml", ...
    kept: tuple[str, ...]  # what was there already and left alone
    adoption: Adoption | None = None  # what mlgit.yaml took from the repository's DVC/GTO files
    config: str = ""  # the mlgit.yaml text written (or, with dry_run, that would be)
    dry_run: bool = False


PRE_COMMIT_TEXT = """\
# pre-commit hooks from mlgit. Install them once with `pre-commit install`.
# They run the mlgit installed in your environment (language: system).
repos:
  - repo: local
    hooks:
      - id: mlgit-check-config
        name: mlgit check-config
        entry: mlgit check-config
        language: system
        files: ^(mlgit\\.yaml|schemas/.*\\.(ya?ml|json))$
        pass_filenames: false
      - id: mlgit-validate
        name: mlgit validate (datasets changed since HEAD)
        entry: mlgit validate --changed HEAD
        language: system
        files: (\\.dvc|(^|/)dvc\\.lock|^mlgit\\.yaml|^schemas/.*\\.(ya?ml|json))$
        pass_filenames: false
      - id: mlgit-no-large-data
        name: mlgit no large data (track data and models with DVC)
        entry: mlgit check-large-files
        language: system
        types: [file]
        stages: [pre-commit, pre-merge-commit, pre-push, manual]
      - id: mlgit-ci-check
        name: mlgit ci generate --check (generated pipelines up to date)
        entry: mlgit ci generate --check
        language: system
        files: ^mlgit\\.yaml$
        pass_filenames: false
"""


PROVIDERS = ("github", "gitlab")


def parse_providers(text: str) -> tuple[str, ...]:
    """`--ci github,gitlab` as a tuple; an unknown or empty list is an MlgitError."""
    from mlgit.documents import did_you_mean

    chosen = tuple(p.strip().lower() for p in text.split(",") if p.strip())
    if chosen == ("all",):
        return PROVIDERS
    wrong = [p for p in chosen if p not in PROVIDERS]
    if not chosen or wrong:
        hint = did_you_mean(wrong[0], list(PROVIDERS)) if wrong else ""
        raise MlgitError(f"--ci {text!r}: choose github, gitlab, github,gitlab or all{hint}")
    return tuple(dict.fromkeys(chosen))


def describe(result: InitResult, force: bool) -> str:
    """What init did (or, dry, would do), what it adopted and what is left, and the next
    commands, as printed."""
    verb = "would write" if result.dry_run else "created "
    lines = [f"{verb} {item}" for item in result.created]
    keep = "" if force else "; --force overwrites files"
    lines += [f"kept     {item} (already there{keep})" for item in result.kept]
    if not result.created:
        lines.append("nothing to do: this is already an mlgit project")
    if result.adoption is not None:
        lines += adoption_lines(result.adoption)
    if result.dry_run:
        lines.append("dry run: nothing was written")
        return "\n".join(lines)
    lines.append(
        "\nnext:\n  mlgit track data/train.parquet   # version a dataset with DVC\n"
        "  mlgit validate                   # check every dataset against its schema\n"
        "  pre-commit install               # run mlgit's hooks on every commit"
    )
    return "\n".join(lines)


def adoption_lines(adoption: Adoption) -> list[str]:
    """`adopted` (what mlgit.yaml took over), `left` (what the user still has to do),
    `skipped` and `problem` (what could not be taken), one line each."""
    from mlgit.escape import printable

    lines = [f"problem  {p}" for p in adoption.problems]
    for model in adoption.models:
        parts = ([f"path {model.path}"] if model.path else []) + [
            f"metrics {m}" for m in model.metrics[:1]
        ]
        where = f" ({', '.join(parts)})" if parts else ""
        lines.append(f"adopted  model {model.name} from {model.source}{where}")
    for ds in adoption.datasets:
        lines.append(f"adopted  dataset {ds.name} from {ds.source} ({ds.path})")
    if adoption.stages:
        lines.append(f"adopted  stages {', '.join(adoption.stages)} from {adoption.stages_source}")
    for model in adoption.models:
        lines.append(f"left     model {model.name}: no gates (mlgit gate refuses it): add gates")
        if not model.metrics:
            lines.append(f"left     model {model.name}: no metrics file declared: set metrics")
    for ds in adoption.datasets:
        schema = f"schemas/{ds.name}.schema.yaml"
        infer = f"`mlgit schema infer {ds.path} -o {schema}`"
        if ds.in_workspace:
            lines.append(f"left     dataset {ds.name}: no schema: run {infer}, set schema:")
        else:
            lines.append(
                f"left     dataset {ds.name}: its data is not in the workspace: run "
                f"`dvc pull {ds.path}` then {infer}, set schema: {schema}"
            )
    if adoption.stages_guessed:
        lines.append(
            f"left     stages: the order {', '.join(adoption.stages)} is a guess from the tags: "
            "check stages: in mlgit.yaml (first to last)"
        )
    lines += [f"skipped  {s}" for s in adoption.skipped]
    return [printable(line, newlines=False) for line in lines]


def init(
    directory: Path, force: bool, providers: tuple[str, ...] = (), dry_run: bool = False
) -> InitResult:
    """git, DVC, mlgit.yaml and the pre-commit config; with `providers`, also their pipelines
    (`mlgit ci generate`). What exists is kept unless `force`. A new mlgit.yaml adopts what the
    repository's DVC and GTO files declare. `dry_run` reads only: the result holds the text."""
    from mlgit.commands.adopt import survey
    from mlgit.repo import dvc, git

    directory = directory.resolve()
    if not directory.is_dir():
        raise MlgitError(f"{directory}: not a directory; create it or run mlgit init elsewhere")
    if dry_run:
        top = git.find_root(directory) or directory
        proposal = survey(top)
        names = (CONFIG_FILE, PRE_COMMIT_FILE)
        new = tuple(n for n in names if force or not (top / n).exists())
        old = tuple(n for n in names if n not in new)
        text = config_text(providers or ("github",), proposal)
        return InitResult(top, new, old, proposal, text, dry_run=True)
    if not os.access(directory, os.W_OK):
        raise MlgitError(f"{directory}: not writable; run mlgit init in a directory you can write")
    created: list[str] = []
    kept: list[str] = []
    root = git.find_root(directory)
    if root is None:
        git._git_module()  # fail before touching anything when git is missing
        dvc._dvc_executable()
        git.init(directory)
        root = directory
        created.append("git repository")
    else:
        kept.append("git repository")
    if dvc.is_initialized(root):
        kept.append("DVC")
    else:
        dvc.init(root)
        created.append("DVC")
    adoption: Adoption | None = None
    text = ""
    if force or not (root / CONFIG_FILE).exists():
        adoption = survey(root)
        text = config_text(providers or ("github",), adoption)
    files = {CONFIG_FILE: text, PRE_COMMIT_FILE: PRE_COMMIT_TEXT}
    written = []
    for name, content in files.items():
        path = root / name
        if path.exists() and not force:
            kept.append(name)
            continue
        write_atomic(path, content)
        written.append(path)
        created.append(name)
    if providers:
        written += _pipelines(root, providers, force, created, kept)
    if written:
        git.stage(git.open_repo(root), written)
    return InitResult(root, tuple(created), tuple(kept), adoption, text)


def _pipelines(
    root: Path, providers: tuple[str, ...], force: bool, created: list[str], kept: list[str]
) -> list[Path]:
    """The pipelines of mlgit.yaml; a file someone wrote by hand is kept (and said so)."""
    from mlgit.commands.ci import generate

    try:
        result = generate(providers, force=force, config_file=root / CONFIG_FILE)
    except MlgitError as exc:
        kept.append(f"pipelines: {exc}")
        return []
    written = [f for f in result.files if f.state == "written"]
    created += [f.path for f in written]
    kept += [f.path for f in result.files if f.state == "unchanged"]
    return [root / f.path for f in written]
