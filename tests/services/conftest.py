"""Real services for the `services` tests, started by the tests themselves (as root, as .ci/run runs
them): a one-node SLURM (munge, slurmctld, slurmd from Debian's slurm-wlm) and a PostgreSQL server
(Debian's postgresql), each in a temporary folder, stopped afterwards."""

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

SLURM_CONF = """ClusterName=sccoptest
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={d}/jobcomp.txt
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmctldPort=16817
SlurmdPort=16818
NodeName={host} CPUs={cpus} RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def _need(program: str) -> str:
    found = shutil.which(program) or next(iter(glob.glob(f"/usr/lib/postgresql/*/bin/{program}")), None)
    if found is None:
        pytest.fail(f"{program} is not installed; .ci/run installs slurm-wlm, munge and postgresql")
    return found


def _wait(predicate, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} did not come up within {seconds:g} s")


class Slurm:
    def __init__(self, folder: Path):
        self.folder = folder
        self.conf = folder / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.controller = None

    def start_controller(self) -> None:
        self.controller = subprocess.Popen([_need("slurmctld"), "-D", "-c", "-f", str(self.conf)], env=self.env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: self.run("sinfo", "--noheader").returncode == 0, 60, "the SLURM controller")

    def stop_controller(self) -> None:
        self.controller.send_signal(signal.SIGTERM)
        self.controller.wait(30)

    def run(self, *args):
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """A one-node SLURM: its SLURM_CONF in os.environ while the tests run (sbatch and squeue read it)."""
    folder = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool", "logs"):
        (folder / sub).mkdir()
    for path in ("/run/munge", "/var/log/munge", "/var/lib/munge", "/etc/munge"):
        os.makedirs(path, exist_ok=True)
        shutil.chown(path, "munge", "munge")
    if not Path("/etc/munge/munge.key").exists():
        subprocess.run([_need("mungekey"), "--create"], check=True)
    shutil.chown("/etc/munge/munge.key", "munge", "munge")
    os.chmod("/etc/munge/munge.key", 0o400)
    if subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode != 0:
        subprocess.run(["runuser", "-u", "munge", "--", _need("munged")], check=True)
    host = socket.gethostname()
    cluster = Slurm(folder)
    cluster.conf.write_text(SLURM_CONF.format(host=host, d=folder, cpus=os.cpu_count() or 1))
    os.environ["SLURM_CONF"] = str(cluster.conf)
    node = None
    try:  # whatever fails, nothing is left running
        cluster.start_controller()
        node = subprocess.Popen([_need("slurmd"), "-D", "-f", str(cluster.conf)], env=cluster.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: cluster.run("sinfo", "--noheader", "-o", "%T").stdout.strip() == "idle", 120, "the SLURM node")
        yield cluster
    finally:
        for process in (node, cluster.controller):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
        os.environ.pop("SLURM_CONF", None)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server on localhost:55432 with an empty database `runs`; yields its URL."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="sccop-postgres-"))  # outside pytest's root-only folder: the server's
    data, sockets = folder / "data", folder / "sockets"             # own user must reach it
    data.mkdir()
    sockets.mkdir()
    for path in (folder, data, sockets):
        shutil.chown(path, "postgres", "postgres")
    user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*user, _need("initdb"), "-D", str(data), "-A", "trust", "-U", "sccop"], check=True,
                   capture_output=True)
    subprocess.run([*user, _need("pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                    f"-p 55432 -k {sockets} -c listen_addresses=localhost", "start"], check=True, capture_output=True)
    try:
        subprocess.run([_need("createdb"), "-h", "localhost", "-p", "55432", "-U", "sccop", "runs"], check=True)
        yield "postgresql://sccop@localhost:55432/runs"
    finally:
        subprocess.run([*user, _need("pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
