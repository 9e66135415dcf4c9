"""DVC, the storage truth: the only module that talks to DVC.

mlgit uses DVC's public surfaces only: the `dvc` CLI (init, add, status --json, fetch),
`dvc.api.DVCFileSystem` to read data at a revision from a remote, and the stable YAML of
`.dvc` files and `dvc.lock`. It never hashes data itself and never rewrites tracked files.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import git


def _dvc_executable() -> str:
    exe = shutil.which("dvc")
    if exe is None:
        raise MlgitError(
            "dvc was not found on PATH; install it with `pip install dvc` "
            "or activate the environment mlgit is installed in"
        )
    return exe


LOCK_WAIT_SECONDS = 120.0  # concurrent CI jobs in one checkout take turns for DVC's lock


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `dvc ARGS` in `root` (no shell); a failure becomes an MlgitError with DVC's reason.
    While another process holds DVC's repository lock, wait and retry (bounded)."""
    import random
    import time

    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        proc = subprocess.run(
            [_dvc_executable(), *args], cwd=root, env=env, capture_output=True, text=True
        )
        locked = proc.returncode != 0 and "Unable to acquire lock" in proc.stderr
        if not locked or time.monotonic() > deadline:
            break
        time.sleep(random.uniform(0.05, 0.5))  # jitter: twenty waiting jobs do not wake together
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        reason = next((ln for ln in lines if ln.startswith("ERROR")), lines[-1] if lines else "")
        raise MlgitError(f"`dvc {' '.join(args)}` failed in {root}: {reason.strip()}")
    return proc


def is_initialized(root: Path) -> bool:
    return (root / ".dvc").is_dir()


def init(root: Path) -> None:
    run(root, "init", "--quiet")


def add(root: Path, path: Path) -> Path:
    """`dvc add` a file or directory; returns the `.dvc` file it wrote."""
    run(root, "add", "--quiet", str(path))
    return path.with_name(path.name + ".dvc")


def status(root: Path) -> dict:
    """`dvc status --json`: {} when workspace and cache agree."""
    out = run(root, "status", "--json").stdout.strip()
    return json.loads(out) if out else {}


def changed_outputs(root: Path, paths: list[str]) -> dict[str, str]:
    """{path: "modified" | "deleted" | ...} for those of `paths` (tracked outputs) whose
    work-tree copy is not what their `.dvc` file or `dvc.lock` records (`dvc status`)."""
    out = run(root, "status", "--json", *paths).stdout.strip()
    changed: dict[str, str] = {}
    for entries in (json.loads(out) if out else {}).values():
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                changed.update(entry.get("changed outs") or {})
    return {path: state for path, state in changed.items() if path in paths}


@dataclass(frozen=True)
class Tracked:
    """Where DVC says a path's data is: its md5 and whether it is a directory."""

    path: str  # relative to the repository root, POSIX
    md5: str  # for directories, the md5 of the `.dir` manifest (without the suffix)
    is_dir: bool
    source: str  # the file that records it: "data/train.parquet.dvc" or "dvc.lock"


def tracked(repo: git.Repo, path: str, rev: str | None = None) -> Tracked | None:
    """The DVC record of `path` (relative to the root) in the work tree or at `rev`."""
    from mlgit.repo.git import read_file_at

    def read(name: str) -> bytes | None:
        if rev is None:
            file = Path(repo.working_dir) / name
            return file.read_bytes() if file.exists() else None
        return read_file_at(repo, rev, name)

    posix = Path(path).as_posix()
    dvc_file = f"{posix}.dvc"
    text = read(dvc_file)
    if text is not None:
        outs = _yaml(text, dvc_file).get("outs") or []
        for out in outs:
            if Path(out.get("path", "")).name == Path(posix).name:
                return _record(posix, out, dvc_file)
    lock = read("dvc.lock")
    if lock is not None:
        for stage in (_yaml(lock, "dvc.lock").get("stages") or {}).values():
            for out in stage.get("outs") or []:
                if Path(out.get("path", "")).as_posix() == posix:
                    return _record(posix, out, "dvc.lock")
    return None


def lock_outputs(root: Path) -> list[str]:
    """The output paths (POSIX, relative to the root) that the work tree's dvc.lock records."""
    lock = root / "dvc.lock"
    if not lock.exists():
        return []
    stages = _yaml(lock.read_bytes(), "dvc.lock").get("stages") or {}
    return [
        Path(out.get("path", "")).as_posix()
        for stage in stages.values()
        if isinstance(stage, dict)
        for out in stage.get("outs") or []
        if isinstance(out, dict)
    ]


def _record(path: str, out: dict, source: str) -> Tracked:
    md5 = str(out.get("md5", ""))
    return Tracked(
        path=path, md5=md5.removesuffix(".dir"), is_dir=md5.endswith(".dir"), source=source
    )


def _yaml(text: bytes, name: str) -> dict:
    from mlgit.documents import load_yaml_text  # here, not at the top: a plain data file needs none

    try:
        data = load_yaml_text(text.decode("utf-8", errors="replace"), name)
    except MlgitError as exc:
        raise MlgitError(f"{exc}; restore {name} with `git checkout`") from None
    return data if isinstance(data, dict) else {}


def cache_dir(root: Path) -> Path:
    """DVC's cache directory (`cache.dir` in .dvc/config[.local], else .dvc/cache)."""
    result = root / ".dvc" / "cache"
    for name in ("config", "config.local"):
        parser = configparser.ConfigParser()
        parser.read(root / ".dvc" / name, encoding="utf-8")
        if parser.has_option("cache", "dir"):
            configured = Path(parser.get("cache", "dir"))
            result = configured if configured.is_absolute() else root / ".dvc" / configured
    return result


def _cache_file(root: Path, md5: str, suffix: str = "") -> Path:
    return cache_dir(root) / "files" / "md5" / md5[:2] / (md5[2:] + suffix)


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: its name inside the dataset and where its bytes are.

    `local` is the path on disk, or, when `fs` is set, the path inside that fsspec file system
    (s3fs, gcsfs, DVC's file system at a revision, ...). Both are picklable, so a Dask worker
    opens the file itself."""

    relpath: str
    local: Path
    fs: Any = None
    length: int | None = None  # bytes, when a listing said so (an object is then opened as is)
    version: str | None = None  # the listing's size, ETag and time: `fingerprint` without a call

    @property
    def where(self) -> str:
        """The file for messages and counters: a path, or a URL."""
        if self.fs is None:
            return str(self.local)
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        return f"{protocol}://{self.local.as_posix()}"

    def __reduce__(self) -> tuple:
        """Pickled for a Dask task. fsspec rebuilds DVC's file system for every unpickling
        (it is not cached), and building one opens the repository, its index and the remote:
        the task gets the one its worker process already built for that revision."""
        if self._in_dvc:
            args = (self.fs.storage_args, tuple(sorted(self.fs.storage_options.items())))
            return _at_revision, (self.relpath, self.local, args)
        return DataFile, (self.relpath, self.local, self.fs, self.length, self.version)

    @property
    def _in_dvc(self) -> bool:
        """Read through DVC's file system (a DVC-tracked file at a revision, in its remote)."""
        return self.fs is not None and type(self.fs).__module__ == "dvc.fs.dvc"

    def open(self, ranges: bool = False) -> BinaryIO:
        """The file for reading. `ranges`: the reader asks for byte ranges (Parquet's footer,
        then each row group's column chunks, coalesced): an object is read range by range,
        without fsspec's read-ahead (which fetched up to 2.5x the file) and, with its length
        known from the listing, without a HEAD request first."""
        if self.fs is None:
            return open(self.local, "rb")
        if not ranges or self._in_dvc:
            return self.fs.open(self.local.as_posix(), "rb")
        extra = {"size": self.length} if self.length is not None else {}
        return self.fs.open(self.local.as_posix(), "rb", cache_type="none", **extra)

    def size(self) -> int:
        if self.fs is None:
            return self.local.stat().st_size
        if self.length is not None:
            return self.length
        with self.open() as f:  # DVC's file system knows no size before it opens the object
            return f.seek(0, 2)

    def fingerprint(self) -> str:
        """What changes when the bytes may have: size, times and inode on disk; size, ETag or
        checksum and modification time in an object store."""
        if self.fs is None:
            stat = self.local.stat()
            return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"
        if self.version is not None:
            return self.version
        return version_of(self.fs.info(self.local.as_posix()))


def version_of(info: dict[str, Any]) -> str:
    """What changes when an object's bytes may have, from its listing or `info`."""
    keys = ("size", "ETag", "etag", "md5", "checksum", "LastModified", "mtime", "generation")
    return ":".join(f"{k}={info[k]}" for k in keys if info.get(k) is not None)


_REVISIONS: dict[tuple, Any] = {}  # this process's DVC file systems, by repository and revision


def _at_revision(relpath: str, local: Path, args: tuple) -> DataFile:  # see DataFile.__reduce__
    if args not in _REVISIONS:
        from dvc.api import DVCFileSystem

        if len(_REVISIONS) >= 4:  # a long-lived worker keeps the last few revisions it read
            _REVISIONS.pop(next(iter(_REVISIONS)))
        storage_args, options = args
        _REVISIONS[args] = DVCFileSystem(*storage_args, **dict(options))
    return DataFile(relpath, local, _REVISIONS[args])


def files_at(repo: git.Repo, path: str, rev: str) -> list[DataFile]:
    """The files of DVC-tracked `path` as they were at git revision `rev`.

    Read from DVC's cache when present (no copy); otherwise fetched through
    `dvc.api.DVCFileSystem` from the configured remote into a temporary directory.
    """
    root = Path(repo.working_dir)
    record = tracked(repo, path, rev)
    if record is None:
        raise MlgitError(
            f"{path} is not tracked by DVC at revision {rev!r} (no {path}.dvc and no dvc.lock "
            "output); pick a revision where it was added with `dvc add` or `mlgit track`"
        )
    files = _files_in_cache(root, record)
    if files is not None:
        return files
    return _fetch(root, record, rev)


def _files_in_cache(root: Path, record: Tracked) -> list[DataFile] | None:
    if not record.is_dir:
        local = _cache_file(root, record.md5)
        return [DataFile(Path(record.path).name, local)] if local.exists() else None
    manifest = _cache_file(root, record.md5, ".dir")
    if not manifest.exists():
        return None
    entries = json.loads(manifest.read_text(encoding="utf-8"))
    files = [DataFile(e["relpath"], _cache_file(root, e["md5"])) for e in entries]
    return files if all(f.local.exists() for f in files) else None


def has_remote(root: Path) -> bool:
    for name in ("config", "config.local"):
        parser = configparser.ConfigParser()
        parser.read(root / ".dvc" / name, encoding="utf-8")
        if any(section.startswith("'remote ") for section in parser.sections()):
            return True
    return False


def _fetch(root: Path, record: Tracked, rev: str) -> list[DataFile]:
    """The files of `record` read in place from the DVC remote, through DVC's file system at
    `rev`: nothing is written to the work tree, DVC's cache or a temporary directory."""
    if not has_remote(root):
        raise MlgitError(
            f"{record.path} at {rev!r} (md5 {record.md5}) is not in the DVC cache and no DVC "
            "remote is configured; run `dvc pull` where the data exists, "
            "or `dvc remote add -d NAME URL`"
        )
    from dvc.api import DVCFileSystem

    try:
        fs = DVCFileSystem(str(root), rev=rev)
        if record.is_dir:
            base = record.path.rstrip("/") + "/"
            names = sorted(fs.find(record.path, detail=False))
            files = [DataFile(n[len(base) :], Path(n), fs) for n in names if n.startswith(base)]
        else:
            files = [DataFile(Path(record.path).name, Path(record.path), fs)]
        for data_file in files[:1]:  # the remote answers now, not halfway through a scan
            with data_file.open() as f:
                f.read(1)
    except Exception as exc:  # DVC raises many types for a missing object; all mean the same
        raise MlgitError(
            f"could not read {record.path} at {rev!r} from the DVC remote ({exc}); "
            "check `dvc remote list` and that the data was pushed with `dvc push`"
        ) from None
    return files


def start_cloud_status(root: Path) -> Callable[[], dict[str, str]]:
    """Start `dvc status --cloud --json` (it takes a while: DVC imports, then asks the remote)
    and return a function that waits for it: {path: "new" | "deleted" | "missing" | ...},
    {} when every output is in the remote. "new": only in the cache (not pushed); "deleted":
    only in the remote (not pulled); "missing": in neither."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.Popen(
        [_dvc_executable(), "status", "--cloud", "--json"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def wait() -> dict[str, str]:
        out, err = proc.communicate()
        if proc.returncode != 0:
            lines = [ln for ln in (err or out).splitlines() if ln.strip()]
            reason = next(
                (ln for ln in lines if ln.startswith("ERROR")), lines[-1] if lines else ""
            )
            raise MlgitError(f"`dvc status --cloud` failed in {root}: {reason.strip()}")
        data = json.loads(out) if out.strip() else {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    return wait


# ---------------------------------------------------------------- reproducing in a work tree
def share_cache(worktree: Path, main: Path) -> None:
    """Point the DVC project in `worktree` at `main`'s cache and remotes (its config.local
    too), so data already here is never downloaded twice."""
    source = main / ".dvc" / "config.local"
    target = worktree / ".dvc" / "config.local"
    if source.is_file():
        target.write_bytes(source.read_bytes())
    run(worktree, "config", "--local", "cache.dir", str(cache_dir(main).resolve()))


def pull_inputs(root: Path, targets: list[str]) -> None:
    """`dvc pull TARGETS` (the `.dvc` files of the input data); what is neither in the cache
    nor in a remote is named in the error."""
    if not targets:
        return
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run(
        [_dvc_executable(), "pull", *targets], cwd=root, env=env, capture_output=True, text=True
    )
    if proc.returncode == 0:
        return
    text = proc.stderr + proc.stdout
    missing = sorted(
        {
            line.split("name:", 1)[1].split(",", 1)[0].strip()
            for line in text.splitlines()
            if "name:" in line and "md5:" in line
        }
    )
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    reason = next((ln for ln in lines if ln.startswith("ERROR")), lines[-1] if lines else "")
    what = ", ".join(missing) if missing else " ".join(targets)
    raise MlgitError(
        f"the data of this version is in no DVC remote and not in the cache: {what} "
        f"({reason}); push it with `dvc push` from a clone that has it, or configure the "
        "remote that holds it (`dvc remote add -d NAME URL`)"
    )


def repro_forced(root: Path) -> subprocess.CompletedProcess[str]:
    """`dvc repro --force` (every stage runs again; nothing restored from the run cache).
    Returned, not raised: a failing pipeline is a verdict, not a usage error."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    return subprocess.run(
        [_dvc_executable(), "repro", "--force", "--no-run-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
