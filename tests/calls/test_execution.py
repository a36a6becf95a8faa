"""Executors: building one starts nothing; chunks come back with their index."""

import re

import pytest

from sccop.calls.execution import DaskExecutor, InProcess, make_executor
from sccop.config import ExecutionConfig
from sccop.errors import SccopInputError


def test_in_process_runs_chunks_in_order():
    assert list(InProcess().map(len, [[1], [1, 2]])) == [(0, 1), (1, 2)]
    assert isinstance(make_executor(ExecutionConfig()), InProcess)


def test_a_dask_executor_starts_its_cluster_at_the_first_map_only():
    executor = make_executor(ExecutionConfig(workers=2))
    assert isinstance(executor, DaskExecutor) and executor.client is None and executor.cluster is None
    executor.close()  # nothing started, nothing to close
    slurm = DaskExecutor(ExecutionConfig(cluster="slurm", jobs=3))
    assert slurm.workers == 3 and slurm.cluster is None  # no sbatch is called by building it
    with pytest.raises(SccopInputError, match=r"\[execution\] cluster = 'k8s' is not allowed: it must be one of local, slurm, pbs"):
        ExecutionConfig(cluster="k8s")


def test_a_cluster_without_its_batch_system_is_refused_at_once(monkeypatch, tmp_path):
    from sccop.calls.execution import check_queue
    from sccop.errors import SccopRunError

    check_queue(ExecutionConfig())  # a local cluster asks nothing
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch, no qsub
    with pytest.raises(SccopRunError, match="sbatch is not on PATH: run sccop where SLURM jobs can be submitted"):
        check_queue(ExecutionConfig(cluster="slurm"))
    with pytest.raises(SccopRunError, match="qsub is not on PATH"):
        check_queue(ExecutionConfig(cluster="pbs"))
    # sbatch is there but the controller does not answer: squeue's own complaint is the reason.
    for name, script in (("sbatch", "exit 0"), ("squeue", "echo 'squeue: error: Unable to contact slurm controller' >&2; exit 1")):
        (tmp_path / name).write_text(f"#!/bin/sh\n{script}\n")
        (tmp_path / name).chmod(0o755)
    with pytest.raises(SccopRunError, match=r"squeue failed \(squeue: error: Unable to contact slurm controller\): "
                                            "the SLURM controller is not reachable"):
        check_queue(ExecutionConfig(cluster="slurm"))


def test_job_arguments_give_one_worker_per_job_with_every_setting_in_the_script():
    from dask_jobqueue import SLURMCluster

    from sccop.calls.execution import job_arguments, job_script
    from sccop.errors import SccopRunError

    config = ExecutionConfig(cluster="slurm", cores=8, memory="16GB", walltime="04:00:00", queue="short",
                             account="abc123", prologue=("module load gcc", "source /opt/venv/bin/activate"),
                             python="/opt/venv/bin/python", local_directory="/scratch/me",
                             extra_directives=("--constraint=skylake",))
    arguments = job_arguments(config)
    assert arguments["processes"] == 1 and arguments["cores"] == 8
    with SLURMCluster(**arguments) as cluster:
        script = cluster.job_script()
    for line in ("#SBATCH -p short", "#SBATCH -A abc123", "#SBATCH -n 1", "#SBATCH --cpus-per-task=8",
                 "#SBATCH --mem=15G", "#SBATCH -t 04:00:00", "#SBATCH --constraint=skylake", "module load gcc",
                 "source /opt/venv/bin/activate"):
        assert line in script, line
    assert "/opt/venv/bin/python -m distributed.cli.dask_worker" in script
    assert "--nthreads 8" in script and "--nworkers" not in script  # one worker with the job's 8 cores
    assert "--resources job=1" in script and "--local-directory /scratch/me" in script
    # What `sccop config --job-script` prints is that script, with the address and name left as placeholders.
    printed = job_script(config)
    assert re.sub(r"dask_worker \S+ --name \S+", "", printed) == re.sub(r"dask_worker \S+ --name \S+", "", script)
    assert "dask_worker tcp://SCHEDULER:PORT --name WORKER" in printed
    two = job_script(ExecutionConfig(cluster="slurm", cores=8, processes=2))
    assert "--nthreads 4" in two and "--nworkers 2" in two
    assert DaskExecutor(ExecutionConfig(cluster="slurm", jobs=3, processes=2)).workers == 6
    with pytest.raises(SccopRunError, match="a local cluster submits no job script"):
        job_script(ExecutionConfig())


def _sleep(seconds):
    import time

    time.sleep(seconds)
    return seconds


def test_a_cluster_left_without_workers_stops_the_wait_with_the_reason(monkeypatch):
    from sccop.calls import execution
    from sccop.errors import SccopRunError

    executor = DaskExecutor(ExecutionConfig(workers=2, worker_timeout=1))
    assert list(executor.map(_sleep, [0.0, 0.1])) in ([(0, 0.0), (1, 0.1)], [(1, 0.1), (0, 0.0)])
    # Now every worker is gone (as when the jobs hit their wall time) while a task waits.
    monkeypatch.setattr(execution, "POLL_S", 0.2)
    monkeypatch.setattr(DaskExecutor, "_workers", lambda self: 0)
    try:
        with pytest.raises(SccopRunError, match=r"the cluster has had no worker for 1 s while 1 task\(s\) waited"):
            list(executor.map(_sleep, [30.0]))
    finally:
        executor.close()
    assert executor.client is None and executor.cluster is None
