"""Where mlgit keeps per-user files: the cache (validation results) and the log of the last
internal error. $MLGIT_CACHE_DIR wins, then $XDG_CACHE_HOME/mlgit, then ~/.cache/mlgit."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    if os.environ.get("MLGIT_CACHE_DIR"):
        return Path(os.environ["MLGIT_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlgit"


def log_path() -> Path:
    return cache_root() / "mlgit.log"
