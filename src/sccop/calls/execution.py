"""Where backend calls run: in this process (default), on a local Dask cluster (`workers`), or on a
dask-jobqueue SLURM/PBS cluster (`cluster`).

The main process stays the only writer: it submits chunks of calls and writes each chunk's results as
they come back. A task whose worker dies is resubmitted (`retries`); if it still fails, the ledger
records every structure of the chunk as failed with the reason, and the run goes on. Building an
executor starts nothing: a Dask cluster starts at the first `map`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from sccop.config import ExecutionConfig

log = logging.getLogger(__name__)


class InProcess:
    """Runs each chunk here, one after another."""

    workers = 1

    def map(self, fn: Callable, chunks: list) -> Iterator[tuple[int, object]]:
        for k, chunk in enumerate(chunks):
            yield k, fn(chunk)

    def close(self) -> None:
        pass


class DaskExecutor:
    """Chunks as Dask tasks; (index, result or exception) pairs in the order they finish."""

    def __init__(self, config: ExecutionConfig):
        self.config = config
        self.retries = config.retries
        self.workers = max(1, config.workers if config.cluster == "local" else config.jobs)
        self.cluster = self.client = None

    def _start(self):
        from distributed import Client, LocalCluster

        config = self.config
        if config.cluster in ("slurm", "pbs"):
            import dask_jobqueue

            cls = dask_jobqueue.SLURMCluster if config.cluster == "slurm" else dask_jobqueue.PBSCluster
            kwargs = {"cores": config.cores, "memory": config.memory, "walltime": config.walltime,
                      "job_extra_directives": list(config.extra_directives)}
            if config.queue:
                kwargs["queue"] = config.queue
            self.cluster = cls(**kwargs)
            self.cluster.scale(jobs=config.jobs)
        else:
            self.cluster = LocalCluster(n_workers=config.workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
        self.client = Client(self.cluster)
        return self.client

    def map(self, fn: Callable, chunks: list) -> Iterator[tuple[int, object]]:
        from distributed import as_completed

        client = self.client or self._start()
        futures = {client.submit(fn, chunk, retries=self.retries, pure=False): k for k, chunk in enumerate(chunks)}
        for future in as_completed(futures):
            k = futures[future]
            try:
                yield k, future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker after every retry: recorded, not raised
                log.warning("task %d failed after %d retries: %s", k, self.retries, exc)
                yield k, exc

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.cluster.close()
            self.client = self.cluster = None


def make_executor(config: ExecutionConfig):
    """InProcess for one local worker, else a DaskExecutor (started at its first use)."""
    if config.cluster == "local" and config.workers <= 1:
        return InProcess()
    return DaskExecutor(config)


__all__ = ["InProcess", "DaskExecutor", "make_executor"]
