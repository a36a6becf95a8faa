"""Where backend calls run: in this process (default), on a local Dask cluster (`workers`), or on a
dask-jobqueue SLURM/PBS cluster (`cluster`).

The main process stays the only writer: it submits chunks of calls and writes each chunk's results as
they come back. A task whose worker dies is resubmitted (`retries`); if it still fails, every
structure of the chunk is recorded as failed with the reason, and the run goes on.
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
        from distributed import Client, LocalCluster

        self.retries = config.retries
        if config.cluster in ("slurm", "pbs"):
            import dask_jobqueue

            cls = dask_jobqueue.SLURMCluster if config.cluster == "slurm" else dask_jobqueue.PBSCluster
            kwargs = {"cores": config.cores, "memory": config.memory, "walltime": config.walltime,
                      "job_extra_directives": list(config.extra_directives)}
            if config.queue:
                kwargs["queue"] = config.queue
            self.cluster = cls(**kwargs)
            self.cluster.scale(jobs=config.jobs)
        elif config.cluster == "local":
            self.cluster = LocalCluster(n_workers=config.workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
        else:
            from sccop.errors import SccopInputError

            raise SccopInputError(f"unknown execution cluster {config.cluster!r} (known: local, slurm, pbs)")
        self.client = Client(self.cluster)
        self.workers = max(1, config.workers if config.cluster == "local" else config.jobs)

    def map(self, fn: Callable, chunks: list) -> Iterator[tuple[int, object]]:
        from distributed import as_completed

        futures = {self.client.submit(fn, chunk, retries=self.retries, pure=False): k for k, chunk in enumerate(chunks)}
        for future in as_completed(futures):
            k = futures[future]
            try:
                yield k, future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker after every retry: recorded, not raised
                log.warning("task %d failed after %d retries: %s", k, self.retries, exc)
                yield k, exc

    def close(self) -> None:
        self.client.close()
        self.cluster.close()


def make_executor(config: ExecutionConfig):
    if config.cluster == "local" and config.workers <= 1:
        return InProcess()
    return DaskExecutor(config)
