"""`mlgit check-config [FILE]`: mlgit.yaml (or a dataset schema) and the files it names, every
problem with its place."""

from __future__ import annotations

from pathlib import Path

from mlgit.documents import Problem


def check_config(file: Path | None) -> tuple[Path, list[Problem]]:
    """(the file checked, its problems); an unreadable file is an MlgitError."""
    from mlgit.config import check, find_config

    file = file or find_config()
    _, problems = check(file)
    return file, problems
