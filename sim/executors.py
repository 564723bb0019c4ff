"""Executors: where replications run. Serial, local processes, or a Dask cluster.

Every executor runs the same pure job function on the same jobs, so the replications table is
identical whichever one is used; only the order in which results arrive differs (the result
store sorts them). Executors yield results as they finish so they can be saved at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)
J = TypeVar("J")
R = TypeVar("R")


class ExecutorError(Exception):
    """An executor could not run the jobs (a dead worker, an unreachable cluster)."""


class ClusterUnreachable(ExecutorError):
    """The Dask scheduler named on the command line does not answer (bad input)."""


class Executor(Protocol):
    name: str

    def imap_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs jobs one after another in this process (debugging, tiny experiments)."""

    name = "serial"
    workers = 1
    shares_filesystem = True

    def imap_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]:
        for job in jobs:
            yield fn(job)

    def close(self) -> None:
        pass


def _mp_context() -> multiprocessing.context.BaseContext:
    # fork starts workers in milliseconds (spawn re-imports numpy/pandas/scipy in each, ~2 s);
    # the start method is chosen per pool and never changed globally.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; only the parent should react (save and stop).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessExecutor:
    """Local worker processes (default: one per core)."""

    name = "processes"
    shares_filesystem = True

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=_mp_context(), initializer=_ignore_sigint
        )

    def imap_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]:
        # Keep a bounded number of jobs in flight, so an interrupted run has little to cancel.
        pending: set[Future[R]] = set()
        job_iter = iter(jobs)
        limit = 2 * self.workers
        try:
            while True:
                while len(pending) < limit:
                    job = next(job_iter, None)
                    if job is None:
                        break
                    pending.add(self._pool.submit(fn, job))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        except BrokenProcessPool as exc:
            raise ExecutorError(
                "a worker process died before its replication finished; finished "
                "replications are saved, rerun with --resume to complete the experiment"
            ) from exc
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """A Dask cluster through ``distributed``: ``"local"`` starts a LocalCluster of processes,
    anything else is a scheduler address such as ``tcp://host:8786``."""

    name = "dask"
    shares_filesystem = False

    def __init__(
        self, address: str, workers: int | None = None, connect_timeout_s: float = 5.0
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - depends on the install
            raise ExecutorError(
                "--dask needs the optional dependency 'distributed': "
                "pip install 'delivery-twin[dask]'"
            ) from None
        self._cluster: Any = None
        try:
            if address == "local":
                n = workers or os.cpu_count() or 1
                self._cluster = LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
                )
                self._client = Client(self._cluster, timeout=connect_timeout_s)
            else:
                self._client = Client(address, timeout=connect_timeout_s)
        except (OSError, TimeoutError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise ClusterUnreachable(
                f"cannot reach the Dask scheduler at {address!r} within "
                f"{connect_timeout_s:.0f} s: {exc}"
            ) from None
        self.workers = len(self._client.scheduler_info().get("workers", {})) or 1
        # Workers of a LocalCluster write to our disk; a remote cluster ships orders back.
        self.shares_filesystem = address == "local"

    def imap_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]:
        from distributed import as_completed

        futures = [self._client.submit(fn, job, pure=False) for job in jobs]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(workers: int | None = None, dask: str | None = None) -> Executor:
    """Serial for one worker, local processes by default, Dask when an address is given."""
    if dask:
        return DaskExecutor(dask, workers)
    if workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers)
