"""`mlgit check-large-files` (the `mlgit-no-large-data` pre-commit hook): data belongs in DVC.

A file staged in git above a size limit, or with a data or model extension, is refused with the
command that tracks it with DVC instead. The hook runs on every commit, so this module imports
nothing heavy: a stat per file, no reading.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from mlgit.errors import MlgitError

DEFAULT_MAX_SIZE = "5MB"

# Files that mlgit validates (tables) or that training writes (models, arrays): DVC tracks them.
DATA_EXTENSIONS = frozenset(
    {
        # tables
        "parquet", "pq", "csv", "tsv", "jsonl", "ndjson", "feather", "arrow", "ipc", "orc",
        "avro", "xls", "xlsx",
        # arrays and tensors
        "npy", "npz", "h5", "hdf5", "hdf", "tfrecord", "tfrecords", "safetensors",
        # models and pickles
        "pkl", "pickle", "joblib", "onnx", "pt", "pth", "ckpt", "keras", "tflite", "gguf",
    }
)  # fmt: skip
# `train.csv.gz` is a CSV all the same.
COMPRESSION_EXTENSIONS = frozenset({"gz", "bz2", "xz", "zst", "lz4", "zip"})

# Binary units, as pre-commit's check-added-large-files counts its --maxkb.
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Refusal:
    """One staged file that should be tracked by DVC, and why."""

    path: str
    size: int
    reason: str

    @property
    def fix(self) -> str:
        quoted = shell_quote(self.path)
        # `dvc add` refuses a file git already tracks, so it leaves the index first.
        return f"git rm --cached -q -- {quoted} && mlgit track {quoted}"


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shell_quote(path: str) -> str:
    """`path` quoted for bash on one line: a name with a newline or another control character
    (which would break or forge the lines printed) is written as `$'...'` with escapes."""
    if not _UNSAFE.search(path):
        return shlex.quote(path)
    escaped = path.replace("\\", "\\\\").replace("'", "\\'")
    return "$'" + _UNSAFE.sub(_escape, escaped) + "'"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def parse_size(text: str) -> int:
    """Bytes from `500KB`, `5MB`, `1.5G`, `5MiB` or a plain number of bytes."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise MlgitError(
            f"--max-size {text!r}: not a size; write a number with an optional unit, "
            "e.g. 500KB, 5MB or 1GB"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def human_size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"


def data_extension(path: str) -> str | None:
    """The data or model extension of `path` (behind a compression suffix), if it has one."""
    parts = os.path.basename(path).lower().split(".")[1:]
    if parts and parts[-1] in COMPRESSION_EXTENSIONS:
        parts = parts[:-1]
    if parts and parts[-1] in DATA_EXTENSIONS:
        return parts[-1]
    return None


def check(paths: Iterable[str], max_size: int) -> list[Refusal]:
    """The files among `paths` that git should not hold, in the order given."""
    refusals = []
    for path in paths:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue  # a deletion is staged: nothing is added
        if not stat.S_ISREG(info.st_mode):
            continue  # a symlink (e.g. a DVC cache link) is stored as its tiny target path
        extension = data_extension(path)
        if extension is not None:
            reason = f"a .{extension} file is data or a model"
        elif info.st_size > max_size:
            reason = f"{human_size(info.st_size)}, above the {human_size(max_size)} limit"
        else:
            continue
        refusals.append(Refusal(path=path, size=info.st_size, reason=reason))
    return refusals


def message(refusal: Refusal) -> str:
    shown = _UNSAFE.sub(_escape, refusal.path)
    return f"{shown}: {refusal.reason}; track it with DVC instead:\n    {refusal.fix}"
