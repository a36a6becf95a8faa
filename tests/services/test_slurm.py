"""Backend calls through a real one-node SLURM (dask-jobqueue): the same answer as in this process, the
jobs seen to run, and a run that cannot hang when the jobs cannot start or the controller is gone."""

import subprocess
import sys
import time
from dataclasses import replace

import pytest
import tomli_w

from sccop.config import ExecutionConfig, to_dict
from sccop.loop.driver import Search

pytestmark = pytest.mark.services


def on_slurm(config, slurm, **options):
    return replace(config, execution=ExecutionConfig(**{
        "cluster": "slurm", "jobs": 1, "cores": 1, "memory": "1GB", "walltime": "00:20:00",
        "log_directory": str(slurm.folder / "logs"), "worker_timeout": 120, **options}))


def jobs(slurm) -> int:
    """Jobs in SLURM's completion log."""
    path = slurm.folder / "jobcomp.txt"
    return path.read_text().count("JobId=") if path.exists() else 0


def test_a_search_through_slurm_jobs_equals_the_in_process_run(tmp_path, slurm, small_config):
    config = small_config(rounds=1)
    here = Search(config, tmp_path / "here", progress=False).run()
    jobs_before = jobs(slurm)
    there = Search(on_slurm(config, slurm), tmp_path / "slurm", progress=False).run()
    assert there.calls == here.calls and there.best_energy == pytest.approx(here.best_energy, abs=1e-9)
    assert (tmp_path / "slurm" / "summary.csv").read_text() == (tmp_path / "here" / "summary.csv").read_text()
    # The jobs ran: each left its worker's log in the log folder, and SLURM's completion log lists them once
    # the cluster, closed with the search, has cancelled them.
    logs = [p for p in (slurm.folder / "logs").iterdir() if p.name.startswith("dask-worker") and p.suffix == ".err"]
    assert any("Start worker at" in p.read_text() for p in logs)
    end = time.monotonic() + 60
    while time.monotonic() < end and jobs(slurm) <= jobs_before:
        time.sleep(1)
    assert jobs(slurm) > jobs_before and "Name=dask-worker" in (slurm.folder / "jobcomp.txt").read_text()


def test_a_job_that_cannot_start_stops_the_run_with_the_reason(tmp_path, slurm, small_config):
    config = on_slurm(small_config(rounds=1), slurm, memory="100GB", worker_timeout=20)  # more than the node has
    settings = to_dict(config)
    (tmp_path / "run.toml").write_text(tomli_w.dumps(settings))
    proc = subprocess.run([sys.executable, "-m", "sccop", "search", "--config", str(tmp_path / "run.toml"), "--out",
                           str(tmp_path / "run"), "--quiet"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("sccop: error: no Dask worker joined within 20 s") and "sbatch said: sbatch: error:" in lines[-1]
    # Before it, at most the warning that named sbatch's complaint when it came: no traceback of Dask's.
    assert "Traceback" not in proc.stderr and len(lines) <= 2 and all("sbatch: error" in line for line in lines)


def test_a_stopped_controller_stops_the_run_at_once(tmp_path, slurm, small_config):
    settings = to_dict(on_slurm(small_config(rounds=1), slurm))
    (tmp_path / "run.toml").write_text(tomli_w.dumps(settings))
    slurm.stop_controller()
    try:
        proc = subprocess.run([sys.executable, "-m", "sccop", "search", "--config", str(tmp_path / "run.toml"), "--out",
                               str(tmp_path / "run"), "--quiet"], capture_output=True, text=True, timeout=300)
    finally:
        slurm.start_controller()
    assert proc.returncode == 1, proc.stderr
    assert "the SLURM controller is not reachable" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()  # refused before anything was written
