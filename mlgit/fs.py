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
from mlgit.locations import cache_root


def read_limited(path: Path, limit: int, what: str) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most `limit` bytes, and its stat; MlgitError for
    anything else. A FIFO, a device or a directory (perhaps behind a committed symlink) is
    refused before a byte is read, so it can neither hang mlgit nor fill its memory."""
    import stat as stat_module

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens without waiting
    except FileNotFoundError:
        raise MlgitError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise MlgitError(f"{path}: is a directory, not {what}; name the file") from None
    except OSError as exc:
        raise MlgitError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat_module.S_ISREG(info.st_mode):
            kind = "a directory" if stat_module.S_ISDIR(info.st_mode) else "not a regular file"
            raise MlgitError(f"{path}: {kind}, not {what}; name a regular file")
        if info.st_size > limit:
            raise MlgitError(
                f"{path}: {info.st_size:,} bytes, more than the {limit:,} allowed for {what}"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise MlgitError(f"{path}: cannot read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew after the stat
        raise MlgitError(f"{path}: more than the {limit:,} bytes allowed for {what}")
    return data, info


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
    _remove_orphans(path)
    prefix = f".{path.name}.{os.getpid()}."  # the writer's pid: its leftovers can be told apart
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _remove_orphans(path: Path) -> None:
    """Temporary files a killed writer left beside `path` (its pid no longer runs)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            head, _, rest = entry.name.partition(f".{path.name}.")
            pid = rest.split(".", 1)[0]
            if head or not pid.isdigit() or int(pid) == os.getpid() or _running(int(pid)):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    """mlgit's cache for `kind` (e.g. "validate")."""
    return cache_root() / kind


def prune(directory: Path, keep_bytes: int) -> None:
    """Delete the least recently used files of `directory` until it holds at most `keep_bytes`
    (entries are whole files written atomically, so a reader never sees half of one)."""
    try:
        entries = [(e.stat().st_atime, e.stat().st_size, e) for e in os.scandir(directory)]
    except OSError:
        return
    total = sum(size for _, size, _ in entries)
    for _, size, entry in sorted(entries, key=lambda item: item[0]):
        if total <= keep_bytes:
            break
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            total -= size
