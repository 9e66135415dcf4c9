"""Files mlgit writes: atomic replacement (never a truncated report, schema or tag message),
values converted for JSON, and the per-user cache directory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlgit.errors import MlgitError


def write_atomic(path: Path, content: str) -> None:
    """Replace `path` with `content` in one step: readers see the old file or the new one."""
    path = path.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as tmp:
            tmp.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise MlgitError(f"{path}: cannot write ({exc.strerror}); check the directory") from None


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` (same suffix) that replaces it when the block ends, with
    the mode `file_mode` gives; on any error it is removed and `path` is left as it was."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def file_mode(path: Path) -> int:
    """The permissions a replaced file keeps, or a new file gets from the umask (mkstemp's
    temporary file is 0600: readable by its owner only)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def jsonable(value: Any) -> Any:
    """Values as JSON can hold them: dates as ISO text, decimals and bytes as text."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def cache_dir(kind: str) -> Path:
    """mlgit's cache for `kind` (e.g. "validate"): under $XDG_CACHE_HOME, else ~/.cache."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlgit" / kind
