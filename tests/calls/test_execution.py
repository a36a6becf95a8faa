"""Executors: building one starts nothing; chunks come back with their index."""

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
