"""Data read where it lives: fsspec URLs (`s3://`, `gs://`, `az://`, `file://`, ...) for dataset
paths, `--data` and `--reference`, on both engines.

The files are listed here (metadata only) and opened by whoever reads them, on this machine or
on a Dask worker: a `DataFile` carries its fsspec file system, which pickles as its options.
Credentials come from the usual environment (AWS_*, GOOGLE_APPLICATION_CREDENTIALS, ...);
other options from `storage_options:` in mlgit.yaml, keyed by protocol.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    from mlgit.data.engine import Engine
    from mlgit.data.io import Source
    from mlgit.repo.dvc import DataFile

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# the package that gives fsspec a protocol, for the error when it is missing
PACKAGES = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "hdfs": "pyarrow",
    "http": "aiohttp",
    "https": "aiohttp",
}
EXTRAS = {"s3fs": "s3", "gcsfs": "gcs", "adlfs": "azure"}  # mlgit's extra that brings it
# the URLs a dataset of mlgit.yaml may have (see config._trusted_only): object stores, whose
# endpoint and credentials come from the job's environment
OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"})


def is_url(text: str | Path) -> bool:
    return isinstance(text, str) and bool(_URL.match(text))


def url_protocol(url: str) -> str:
    return url.split("://", 1)[0].lower()


def open_url(
    url: str,
    fmt: str | None,
    storage_options: dict[str, dict[str, Any]] | None = None,
    engine: Engine | None = None,
) -> Source:
    """The file or directory (a partitioned dataset) at `url`."""
    import fsspec

    from mlgit.data.io import files_source, hidden

    protocol = url_protocol(url)
    options = (storage_options or {}).get(protocol) or {}
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError:
        package = PACKAGES.get(protocol, f"the fsspec package for {protocol}://")
        if package in EXTRAS:
            package = f'{package} (pip install "mlgit[{EXTRAS[package]}]")'
            raise MlgitError(f"{url}: reading {protocol}:// needs {package}") from None
        raise MlgitError(
            f"{url}: reading {protocol}:// needs {package}: pip install {package}"
        ) from None
    except ValueError as exc:
        raise MlgitError(
            f"{url}: {exc}; use a URL fsspec knows (s3://, gs://, az://, file://)"
        ) from None
    local = protocol in ("file", "local")
    try:
        if fs.isdir(path):
            base = path.rstrip("/") + "/"
            found = fs.find(path, detail=True)
            files = [
                _data_file(rel, name, fs, local, info)
                for name, info in sorted(found.items())
                if (rel := name[len(base) :] if name.startswith(base) else name.rsplit("/", 1)[-1])
                and not hidden(Path(rel))
            ]
        elif fs.isfile(path):
            name = path.rstrip("/")
            info = fs.info(name)
            files = [_data_file(name.rsplit("/", 1)[-1], name, fs, local, info)]
        else:
            raise MlgitError(f"{url}: no such file or directory; check the URL")
    except MlgitError:
        raise
    except Exception as exc:  # botocore, gcsfs, ... each raise their own
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MlgitError(
            f"{url}: cannot list ({reason}); check the URL, the credentials in the environment "
            f"and storage_options.{protocol} in mlgit.yaml"
        ) from None
    if not files:
        raise MlgitError(f"{url}: the directory holds no data files")
    source = files_source(url, files, fmt)
    if engine is not None:
        import dataclasses

        source = dataclasses.replace(source, engine=engine)
    return source


def _data_file(relpath: str, name: str, fs, local: bool, info: dict) -> DataFile:
    """A file on local disk is read natively, like any path; others through their fs, with
    the length and version the listing gave (so opening and fingerprinting ask nothing more)."""
    from mlgit.repo.dvc import DataFile, version_of

    if local:
        return DataFile(relpath, Path(name))
    size = info.get("size")
    length = size if isinstance(size, int) else None
    return DataFile(relpath, Path(name), fs, length, version_of(info))
