"""Custom checks: a user's function `FILE.py:NAME` from the repository, one boolean per row."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.data.checks.base import Check, Spec
from mlgit.data.checks.conform import visible
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import pyarrow as pa


def custom(spec: Spec) -> Check:
    import numpy as np
    import pyarrow as pa

    function = _load_function(spec)

    def passes(batch: pa.RecordBatch) -> pa.Array:
        columns = visible(batch)
        try:
            mask = function(columns)
        except Exception as exc:  # the user's code: name it, do not report a bug in mlgit
            raise MlgitError(
                f"{spec.where}: {spec.value} raised {type(exc).__name__}: {exc}; "
                "fix the function (it gets a pyarrow.RecordBatch, returns a boolean mask)"
            ) from None
        if isinstance(mask, pa.ChunkedArray):
            mask = mask.combine_chunks()
        if not isinstance(mask, pa.Array):
            try:
                plain = np.asarray(mask, dtype=bool) if mask is not None else None
            except (TypeError, ValueError):
                plain = None
            if plain is None or plain.ndim != 1:
                raise MlgitError(
                    f"{spec.where}: {spec.value} returned {type(mask).__name__} "
                    f"for {batch.num_rows} rows; return one boolean per row"
                )
            mask = pa.array(plain)
        if len(mask) != batch.num_rows or not pa.types.is_boolean(mask.type):
            raise MlgitError(
                f"{spec.where}: {spec.value} returned {len(mask)} values of type {mask.type} "
                f"for {batch.num_rows} rows; return one boolean per row"
            )
        return mask

    return spec.row_check(passes, name=f"custom:{spec.value.split(':')[-1]}")


MAX_SOURCE_BYTES = 1 << 20  # a custom check is a few functions, not a data file


def function_file(root: Path, reference: str, where: str) -> Path:
    """The file of `FILE.py:NAME`, resolved and refused before a byte is read: it must stay in
    the repository after resolving links (a committed link may point at /dev/zero or a FIFO)
    and be a regular file."""
    relpath = reference.rsplit(":", 1)[0]
    base = root.resolve()
    file = (base / relpath).resolve()
    if file != base and base not in file.parents:
        raise MlgitError(
            f"{where}: function: {relpath} is outside the repository {root}; "
            "custom checks are loaded from the repository only"
        )
    if not file.exists():
        raise MlgitError(f"{where}: function: {relpath} does not exist in {root}")
    if not file.is_file():
        raise MlgitError(f"{where}: function: {relpath} is not a regular file; name a .py file")
    return file


def source_of(file: Path, relpath: str, where: str) -> bytes:
    """The bytes of a custom check's file, at most MAX_SOURCE_BYTES, regular files only."""
    from mlgit.fs import read_limited

    try:
        return read_limited(file, MAX_SOURCE_BYTES, "a custom check's Python file")[0]
    except MlgitError as exc:
        raise MlgitError(f"{where}: function: {relpath}: {exc}") from None


def _load_function(spec: Spec) -> Callable[[pa.RecordBatch], Any]:
    """FILE.py:NAME from the repository (never from the data), as pre-commit's local hooks."""
    relpath, name = spec.value.rsplit(":", 1)
    root = spec.root or Path.cwd()
    file = function_file(root, spec.value, spec.where)
    return _import_function(file, file.stat().st_mtime_ns, name, relpath, spec.where)


@functools.lru_cache(maxsize=64)
def _import_function(
    file: Path, mtime_ns: int, name: str, relpath: str, where: str
) -> Callable[[pa.RecordBatch], Any]:
    """The module is run once per run, not once per row group (each builds its own checks)."""
    import types

    source = source_of(file, relpath, where)
    module = types.ModuleType(f"mlgit_custom_{abs(hash(str(file)))}")
    module.__file__ = str(file)
    try:
        exec(compile(source, str(file), "exec"), module.__dict__)
    except Exception as exc:
        raise MlgitError(
            f"{where}: function: importing {relpath} failed: {type(exc).__name__}: {exc}"
        ) from None
    function = getattr(module, name, None)
    if not callable(function):
        raise MlgitError(f"{where}: function: {relpath} defines no function {name!r}")
    return function
