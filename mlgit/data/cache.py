"""The validation results cache: a dataset's results are reused while neither its data, its
schema, a custom check's code nor mlgit's version changed.

Keys: a data fingerprint (file stats in the work tree, the DVC md5 at a revision), the schema's
digest, the number of examples kept, and the bytes of every custom check's file. Entries are JSON
files written atomically in `fs.cache_dir("validate")`; an unreadable entry is a miss.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from mlgit import __version__
from mlgit.data.checks import CheckResult, DatasetResult
from mlgit.data.schema import schema_hash
from mlgit.errors import MlgitError
from mlgit.fs import cache_dir, jsonable, prune, write_atomic

if TYPE_CHECKING:
    from mlgit.data.io import Source
    from mlgit.data.schema import TableSchema

CACHE_VERSION = 2  # 2: examples of a directory dataset name their file
MAX_BYTES = 256 << 20  # the least recently used results go first beyond this


def stat_key(source: Source) -> str:
    """Size, mtime, ctime and inode of every file: a file edited after `dvc add` gets a new
    key, even when `cp -p` or `touch -r` put its old mtime back (no one can set the ctime).
    An object in a store: its URL, size, ETag and modification time."""
    parts = [source.format]
    for data_file in source.files:
        where = data_file.where if data_file.fs is not None else ""  # a URL: its bucket too
        parts.append(f"{data_file.relpath}:{where}{data_file.fingerprint()}")
    return "stat:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def key(schema: TableSchema, data_key: str, sample: int, root: Path) -> str:
    parts = [str(CACHE_VERSION), __version__, data_key, schema_hash(schema), str(sample)]
    from mlgit.data.checks.custom import function_file, source_of

    for expectation in schema.expectations:  # a custom check's code is part of the rules
        if expectation.expect == "custom":
            reference = str(expectation.get("function"))
            where = f"expectations: custom {reference}"
            try:  # resolved and bounded before reading; the validator then says what is wrong
                source = source_of(function_file(root, reference, where), reference, where)
            except MlgitError:
                source = b"-"
            parts.append(hashlib.sha256(source).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def read(entry: str) -> DatasetResult | None:
    file = cache_dir("validate") / f"{entry}.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        checks = tuple(
            CheckResult(
                **{
                    **c,
                    "examples": tuple(tuple(e) for e in c["examples"]),
                    "example_files": tuple(c.get("example_files", ())),
                }
            )
            for c in data.pop("results")
        )
        return DatasetResult(**data, results=checks)
    except (OSError, ValueError, TypeError, KeyError):
        return None  # no entry, or one from another version: validate again


def write(entry: str, result: DatasetResult) -> None:
    data = jsonable(dataclasses.asdict(result))
    with contextlib.suppress(MlgitError):  # a read-only cache only costs speed
        write_atomic(cache_dir("validate") / f"{entry}.json", json.dumps(data))
        prune(cache_dir("validate"), MAX_BYTES)
