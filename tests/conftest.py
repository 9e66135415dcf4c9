"""Fixtures for tests that read like the user's day: real git, real DVC, the real CLI.
What tests share besides fixtures lives in tests/support.py."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.support import IDENTITY, Project, Templates, Workdir, setup_model


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test has a git identity, no DVC analytics, and its own HOME and cache."""
    home = tmp_path_factory.mktemp("home")
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    # As in an activated virtual environment: the dvc installed beside mlgit comes first.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory)


@pytest.fixture
def project(tmp_path: Path, templates: Templates) -> Project:
    """`mlgit init` in a fresh directory, a local DVC remote, and a first commit (a copy of a
    repository built once per session)."""
    return templates.project(tmp_path)


@pytest.fixture
def config_dir(tmp_path: Path, templates: Templates) -> Workdir:
    """A directory with the mlgit.yaml `mlgit init` writes and no git or DVC: for tests that
    only parse configuration."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(templates.base() / "mlgit.yaml", root / "mlgit.yaml")
    return Workdir(root=root)


@pytest.fixture
def churn(tmp_path: Path, templates: Templates) -> Project:
    """A trained model (`setup_model`) on a fresh project, built once per session and copied."""
    return templates.derived("churn", setup_model, tmp_path)


# ---------------------------------------------------------------- services on loopback
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> object:
    """A real S3 API (moto in server mode) on 127.0.0.1 and a free port, for the session.
    Its fake credentials and address (AWS_ENDPOINT_URL) are in the environment before any Dask
    worker starts, so workers reach it as the client does."""
    from moto.server import ThreadedMotoServer

    os.environ.update(S3_CREDENTIALS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # where the job's environment points S3 clients (mlgit.yaml may not: it comes with PRs)
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """A fresh bucket on the loopback S3 server: (bucket name, storage options for s3fs)."""
    import hashlib
    import re

    import s3fs

    for key, value in {**S3_CREDENTIALS, "AWS_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(key, value)
    # readable, and unique: parametrized tests share the first 40 characters of their name
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40].strip("-") + f"-{digest}"
    options = {"endpoint_url": s3_endpoint, "key": "testing", "secret": "testing"}
    fs = s3fs.S3FileSystem(**options)
    fs.mkdir(name)
    fs.invalidate_cache()
    return name, options


@pytest.fixture(scope="session")
def dask_cluster(s3_endpoint: str) -> object:
    """A real `dask.distributed.LocalCluster`: 2 worker processes on loopback (started after
    the S3 server, so its workers have its credentials)."""
    from dask.distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
    )
    yield cluster
    from mlgit.data.engine import close_clients

    close_clients()  # mlgit's own client to it, before the cluster goes
    cluster.close()
