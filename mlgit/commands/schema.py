"""`mlgit schema infer PATH`: a dataset schema (Table Schema + expectations) from the data."""

from __future__ import annotations

from pathlib import Path


def infer(path: Path, enum_limit: int) -> str:
    """The inferred schema of the data at `path`, as the YAML text to review and commit."""
    from mlgit.data.infer import infer_schema
    from mlgit.data.io import open_source
    from mlgit.data.schema import dump_schema

    return dump_schema(infer_schema(open_source(path), enum_limit), source=str(path))
