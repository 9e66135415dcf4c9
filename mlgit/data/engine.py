"""Where a scan runs: on this machine (threads over row groups), or on a Dask cluster.

Both engines run the same kernel (`units.run_unit`) on the same units and merge the states in
the same tree (`units.fold`). On Dask every unit is a task that opens its file on the worker and
returns only the accumulator's small state; merges are tasks too, so no data and no row-level
result passes through this process, which gets the one merged state at the end.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgit.data import units as units_mod
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    from mlgit.config import Config
    from mlgit.data.units import Part, Reading, Unit

KINDS = ("local", "dask")
SCHEDULER_ENV = "MLGIT_DASK_SCHEDULER"


@dataclass(frozen=True)
class Engine:
    kind: str = "local"  # "local" | "dask"
    scheduler: str | None = None  # a Dask scheduler's address; None: a LocalCluster per run
    statistics: bool = True  # settle checks from Parquet row-group statistics where they prove
    workers: int | None = None  # LocalCluster workers (None: one per core)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise MlgitError(f"--engine {self.kind!r}: unknown engine; use local or dask")


LOCAL = Engine()


def chosen(choice: Choice | None, cfg: Config | None) -> Engine:
    """The engine for a command: its command-line `choice` (None: nothing said), then
    MLGIT_DASK_SCHEDULER, then `cfg`'s `engine:` (see Choice.resolve)."""
    return (choice or Choice()).resolve(cfg.engine if cfg else None)


@dataclass(frozen=True)
class Choice:
    """What the command line asked for (--engine, --scheduler, --no-statistics); None: not
    said, so the environment and mlgit.yaml's `engine:` decide."""

    kind: str | None = None
    scheduler: str | None = None
    statistics: bool | None = None

    def resolve(self, configured: dict[str, Any] | None = None) -> Engine:
        """The engine: the command line, then MLGIT_DASK_SCHEDULER, then mlgit.yaml's kind
        (never its scheduler address: see config._trusted_only). A scheduler address alone
        means Dask."""
        configured = configured or {}
        scheduler = self.scheduler or os.environ.get(SCHEDULER_ENV)
        kind = self.kind or configured.get("kind") or ("dask" if scheduler else "local")
        statistics = self.statistics
        if statistics is None:
            statistics = configured.get("statistics", True)
        workers = configured.get("workers")
        if kind == "dask":
            require_dask()  # before any data is read
        return Engine(kind, scheduler if kind == "dask" else None, bool(statistics), workers)


def run(
    engine: Engine,
    units: list[Unit],
    new_accumulator: Callable[[], Any],
    reading: Reading,
    progress: Callable[[int], None] | None = None,
    threads: int = 1,
) -> Part | None:
    """The merged Part of every unit (None when there are no units)."""
    if engine.kind == "dask":
        return _on_dask(engine, units, new_accumulator, reading, progress)
    return _here(units, new_accumulator, reading, progress, threads)


def _here(units, new_accumulator, reading, progress, threads) -> Part | None:
    if threads > 1 and len(units) < threads:  # fewer units than threads: pyarrow's own decode
        import dataclasses  # the columns of a row group in parallel (one file of one group)

        reading = dataclasses.replace(reading, use_threads=True)
    if threads <= 1 or len(units) <= 1:
        return units_mod.fold(
            (units_mod.run_unit(u, new_accumulator, reading, progress) for u in units),
            units_mod.merge,
        )
    from concurrent.futures import ThreadPoolExecutor

    def counted(parts):
        for unit, part in zip(units, parts, strict=True):
            if progress:
                progress(unit.rows if unit.rows is not None else part.rows)
            yield part

    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = pool.map(lambda u: units_mod.run_unit(u, new_accumulator, reading), units)
        return units_mod.fold(counted(parts), units_mod.merge)


# ---------------------------------------------------------------- Dask
def require_dask() -> None:
    """Dask is an optional extra: without it, `--engine dask` says how to get it."""
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise MlgitError(
            '--engine dask needs Dask: pip install "mlgit[dask]" (dask[distributed])'
        ) from None


_CLIENTS: dict[str | None, tuple[Any, Any]] = {}  # scheduler -> (client, our LocalCluster)


def client(engine: Engine) -> Any:
    """A Dask client for `engine`: connected to its scheduler, or to a LocalCluster started
    once per process (both closed when the process ends)."""
    if engine.scheduler in _CLIENTS:
        return _CLIENTS[engine.scheduler][0]
    require_dask()
    from dask.distributed import Client, LocalCluster

    cluster = None
    if engine.scheduler:
        try:
            new = Client(engine.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise MlgitError(
                f"--scheduler {engine.scheduler}: cannot reach the Dask scheduler ({exc}); "
                f"check the address (tcp://HOST:8786) or unset {SCHEDULER_ENV}"
            ) from None
    else:
        cluster = LocalCluster(
            n_workers=engine.workers or min(os.cpu_count() or 1, 8),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: never clash with a dashboard already running
            host="127.0.0.1",
        )
        new = Client(cluster)
    if not _CLIENTS:
        import atexit

        atexit.register(close_clients)
    _CLIENTS[engine.scheduler] = (new, cluster)
    return new


def close_clients() -> None:
    """Disconnect from every scheduler and stop the LocalClusters this process started."""
    while _CLIENTS:
        _, (connected, cluster) = _CLIENTS.popitem()
        connected.close()
        if cluster is not None:
            cluster.close()


def _on_dask(engine, units, new_accumulator, reading, progress) -> Part | None:
    if not units:
        return None
    dask = client(engine)
    from dask.distributed import as_completed

    blocks = blocks_of(units, len(dask.scheduler_info().get("workers") or {}) or 1)
    futures = dask.map(
        run_block, blocks, new_accumulator=new_accumulator, reading=reading, pure=False
    )
    total = units_mod.fold(futures, lambda a, b: dask.submit(units_mod.merge, a, b, pure=False))
    rows = {  # a text file's rows are known once it is read: a tiny task fetches the count
        f.key: dask.submit(_rows, f, pure=False)
        if progress and any(u.rows is None for u in block)
        else sum(u.rows or 0 for u in block)
        for f, block in zip(futures, blocks, strict=True)
    }
    assert total is not None
    try:
        for future in as_completed(futures):
            if future.status == "error":
                future.result()  # raises the task's exception here (TypeChanged, a check's)
            if progress:
                count = rows[future.key]
                progress(count.result() if hasattr(count, "result") else count)
        return total.result()
    except BaseException:  # Ctrl-C, a failed task: nothing keeps running on the cluster
        dask.cancel([*futures, total, *(r for r in rows.values() if hasattr(r, "result"))])
        raise


TASK_ROWS = 1 << 20  # a task of ~1M rows keeps the scheduler's ~1-4 ms per task under ~5%


def blocks_of(units: list[Unit], workers: int) -> list[list[Unit]]:
    """Units grouped into tasks: aligned blocks of 2**k neighbours, each folded on its worker.
    An aligned block is exactly a node of `units.fold`'s tree, so the merged result is the
    same operations in the same order as one task per unit. k grows while blocks stay under
    TASK_ROWS rows and there are at least 4 blocks per worker (text files: one per task)."""
    size = 1
    if all(u.rows is not None for u in units):
        largest = max(u.rows or 0 for u in units)
        while largest * size * 2 <= TASK_ROWS and len(units) / (size * 2) >= 4 * workers:
            size *= 2
    return [units[i : i + size] for i in range(0, len(units), size)]


def run_block(
    block: list[Unit], new_accumulator: Callable[[], Any], reading: Reading
) -> Part | None:
    """One task: the units of an aligned block, folded as `units.fold` folds them."""
    return units_mod.fold(
        (units_mod.run_unit(u, new_accumulator, reading) for u in block), units_mod.merge
    )


def _rows(part: Part) -> int:
    return part.rows
