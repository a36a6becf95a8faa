"""Where backend calls run: in this process (default), on a local Dask cluster (`workers`), or on a
dask-jobqueue SLURM/PBS cluster (`cluster`).

The main process stays the only writer: it submits chunks of calls and writes each chunk's results as
they come back. A task whose worker dies is resubmitted (`retries`), on another worker when there is
one; if it still fails, the ledger records every structure of the chunk as failed with the reason, and
the run goes on. Building an executor starts nothing: a Dask cluster starts at the first `map`.

On SLURM and PBS each job runs `processes` Dask workers (one by default) with the job's `cores` shared
among them; a worker takes one task at a time (a Dask resource), so a task has the job's cores for
its backend (torch threads, `mpirun -np N pw.x`). The queue is asked first (`squeue`, `qstat`): a
machine without the scheduler, or a controller that does not answer, stops the run at once with the
reason. Workers that never arrive within `worker_timeout`, or a cluster left with no worker that long
while tasks wait, stop it too (SccopRunError, one line); calls already stored stay stored.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

from sccop.config import ExecutionConfig
from sccop.errors import SccopRunError

log = logging.getLogger(__name__)

QUEUE_COMMANDS = {"slurm": ("sbatch", ["squeue", "--noheader", "--me"]), "pbs": ("qsub", ["qstat"])}
POLL_S = 5.0  # how often a waiting map checks that the cluster still has workers


class InProcess:
    """Runs each chunk here, one after another."""

    workers = 1

    def map(self, fn: Callable, chunks: list) -> Iterator[tuple[int, object]]:
        for k, chunk in enumerate(chunks):
            yield k, fn(chunk)

    def close(self) -> None:
        pass


def check_queue(config: ExecutionConfig) -> None:
    """SccopRunError when the batch system of `config.cluster` is missing here or its controller does not
    answer (nothing to check for a local cluster)."""
    if config.cluster not in QUEUE_COMMANDS:
        return
    submit, ask = QUEUE_COMMANDS[config.cluster]
    if shutil.which(submit) is None:
        raise SccopRunError(f"{submit} is not on PATH: run sccop where {config.cluster.upper()} jobs can be submitted "
                            "(a login node), or use --execution local")
    try:
        proc = subprocess.run(ask, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SccopRunError(f"{ask[0]} did not answer ({exc}): the {config.cluster.upper()} controller is not "
                            "reachable") from None
    if proc.returncode != 0:
        reason = (proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}").splitlines()[0]
        raise SccopRunError(f"{ask[0]} failed ({reason}): the {config.cluster.upper()} controller is not reachable")


def job_arguments(config: ExecutionConfig) -> dict:
    """The dask-jobqueue cluster arguments of `config` (SLURMCluster or PBSCluster)."""
    kwargs = {
        "cores": config.cores, "processes": config.processes, "memory": config.memory, "walltime": config.walltime,
        "job_extra_directives": list(config.extra_directives), "job_script_prologue": list(config.prologue),
        "python": config.python or sys.executable,
        # One task at a time per worker, whatever its threads: the task's backend gets the job's cores.
        "worker_extra_args": ["--resources", "job=1"],
    }
    for key in ("queue", "account", "interface", "local_directory", "log_directory"):
        if getattr(config, key):
            kwargs[key] = getattr(config, key)
    return kwargs


def job_script(config: ExecutionConfig) -> str:
    """The batch script each job of `config` (slurm or pbs) is submitted with; submits nothing."""
    import dask_jobqueue

    if config.cluster not in QUEUE_COMMANDS:
        raise SccopRunError(f"a {config.cluster} cluster submits no job script: set [execution] cluster = "
                            "'slurm' or 'pbs' (--execution slurm)")
    cls = dask_jobqueue.SLURMCluster if config.cluster == "slurm" else dask_jobqueue.PBSCluster
    # The scheduler's address and the worker's name are filled in when the cluster submits the job.
    job = cls.job_cls(scheduler="tcp://SCHEDULER:PORT", name="WORKER", **job_arguments(config))
    return job.job_script()


CLUSTER_LOGGERS = ("tornado.application", "asyncio", "distributed.deploy", "dask_jobqueue")


class _ClusterLog(logging.Handler):
    """Takes the records of the cluster's own loggers while a batch cluster lives (they log a failed
    submission as a page of traceback), keeps the lines in which the submission command complained, and
    passes each record on as one line of sccop's log (the console and DIR/sccop.log)."""

    def __init__(self, command: str):
        super().__init__(logging.DEBUG)
        self.command = command
        self.lines: list[str] = []
        self.loggers = [logging.getLogger(name) for name in CLUSTER_LOGGERS]
        self.propagate = [logger.propagate for logger in self.loggers]

    def attach(self) -> None:
        for logger in self.loggers:
            logger.addHandler(self)
            logger.propagate = False

    def detach(self) -> None:
        for logger, propagate in zip(self.loggers, self.propagate):
            logger.removeHandler(self)
            logger.propagate = propagate

    def emit(self, record) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + str(record.exc_info[1])
        said = [line.strip() for line in text.splitlines() if line.strip().startswith(f"{self.command}:")]
        new = [line for line in said if line not in self.lines]
        self.lines += new
        if new:
            log.warning("%s", "; ".join(new))
        elif not said and record.levelno >= logging.WARNING:
            first = (text.strip().splitlines() or [""])[0]
            log.log(record.levelno, "%s: %s", record.name, first[:300])


class DaskExecutor:
    """Chunks as Dask tasks; (index, result or exception) pairs in the order they finish."""

    def __init__(self, config: ExecutionConfig):
        self.config = config
        self.retries = config.retries
        self.workers = max(1, config.workers if config.cluster == "local" else config.jobs * config.processes)
        self.cluster = self.client = None
        self.resources = None
        self.cluster_log: _ClusterLog | None = None

    def _start(self):
        from distributed import Client, LocalCluster

        config = self.config
        if config.cluster not in QUEUE_COMMANDS:
            self.cluster = LocalCluster(n_workers=config.workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
            return self.client
        import dask_jobqueue

        check_queue(config)
        submit = QUEUE_COMMANDS[config.cluster][0]
        self.cluster_log = _ClusterLog(submit)
        self.cluster_log.attach()
        try:
            cls = dask_jobqueue.SLURMCluster if config.cluster == "slurm" else dask_jobqueue.PBSCluster
            self.cluster = cls(**job_arguments(config))
            self.cluster.scale(jobs=config.jobs)
            self.resources = {"job": 1}
            self.client = Client(self.cluster)
            self.client.wait_for_workers(1, timeout=config.worker_timeout)
        except (TimeoutError, OSError) as exc:
            said = list(self.cluster_log.lines)
            self.close()
            why = f"{submit} said: {said[0]}" if said else (
                f"see their queue and the job logs in {config.log_directory or 'the submitting folder'}; "
                f"{type(exc).__name__}")
            raise SccopRunError(f"no Dask worker joined within {config.worker_timeout:g} s: the {config.cluster.upper()} "
                                f"jobs did not start or could not reach this process ({why})") from None
        return self.client

    def _workers(self) -> int:
        try:
            return len(self.client.scheduler_info().get("workers", {}))
        except Exception:  # noqa: BLE001 - a scheduler that cannot answer has no worker for us
            return 0

    def map(self, fn: Callable, chunks: list) -> Iterator[tuple[int, object]]:
        from distributed import wait

        client = self.client or self._start()
        futures = {client.submit(fn, chunk, retries=self.retries, pure=False, resources=self.resources): k
                   for k, chunk in enumerate(chunks)}
        pending = set(futures)
        alone_since = None
        while pending:
            try:
                done, pending = wait(pending, timeout=POLL_S, return_when="FIRST_COMPLETED")
            except TimeoutError:  # nothing finished within POLL_S: see below whether any worker is left
                done = set()
            for future in done:
                k = futures[future]
                try:
                    yield k, future.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker after every retry: recorded, not raised
                    log.warning("task %d failed after %d retries: %s", k, self.retries, exc)
                    yield k, exc
            if done or not pending:
                alone_since = None
                continue
            if self._workers() > 0:
                alone_since = None
            elif alone_since is None:
                alone_since = time.monotonic()
            elif time.monotonic() - alone_since > self.config.worker_timeout:
                client.cancel(list(pending))
                raise SccopRunError(f"the cluster has had no worker for {self.config.worker_timeout:g} s while "
                                    f"{len(pending)} task(s) waited: its jobs ended or were killed; the calls stored "
                                    "so far stay stored, and the same command resumes")

    def close(self) -> None:
        """Close the client and the cluster (cancelling its jobs); never raises, never waits long."""
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        for part in (client, cluster):
            if part is not None:
                try:
                    part.close(timeout=30)
                except Exception as exc:  # noqa: BLE001 - a cluster that never fully started closes badly
                    log.info("closing the Dask %s: %s", type(part).__name__, exc)
        if self.cluster_log is not None:
            self.cluster_log.detach()
            self.cluster_log = None


def make_executor(config: ExecutionConfig):
    """InProcess for one local worker, else a DaskExecutor (started at its first use)."""
    if config.cluster == "local" and config.workers <= 1:
        return InProcess()
    return DaskExecutor(config)


__all__ = ["InProcess", "DaskExecutor", "make_executor", "check_queue", "job_arguments", "job_script"]
