"""Runs in one real PostgreSQL database: each run's rows kept apart by its run id, search, report and
resume through the server, and a run killed with SIGKILL that resumes with nothing lost or recomputed."""

import os
import signal
import subprocess
import sys
import time

import pytest
import tomli_w

from sccop.calls.store import Store, open_store
from sccop.config import StoreConfig, to_dict
from sccop.loop.driver import Search

pytestmark = pytest.mark.services


def rows_of(url, run):
    return sorted((r.uid, r.get("calls"), r.get("energy_per_atom")) for r in Store(url, run=run).rows())


def test_two_runs_share_one_database_and_a_killed_one_resumes(tmp_path, postgres, small_config):
    from dataclasses import replace

    config = replace(small_config(rounds=2), store=StoreConfig(url=postgres))
    reference = Search(replace(config, store=StoreConfig(url=postgres, run="reference")), tmp_path / "reference",
                       progress=False).run()
    other = Search(replace(config, seed=7), tmp_path / "other", progress=False).run()
    # A third run, killed with SIGKILL while it works, then resumed from the same command.
    (tmp_path / "run.toml").write_text(tomli_w.dumps(to_dict(config)))
    command = [sys.executable, "-m", "sccop", "search", "--config", str(tmp_path / "run.toml"), "--out",
               str(tmp_path / "killed"), "--quiet"]
    run = str((tmp_path / "killed").resolve())
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 300
    while time.monotonic() < end and Store(postgres, run=run).count(backend_call=1) < 12:
        time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = rows_of(postgres, run)
    assert before and Store(postgres, run=run).count(backend_call=1) < reference.calls  # killed mid-run
    assert subprocess.run(command, capture_output=True, text=True, timeout=600).returncode == 0
    after = rows_of(postgres, run)
    assert set(before) <= set(after)  # nothing lost: every row from before the kill, unchanged
    calls = [c for _, c, _ in after if c is not None]
    assert sorted(calls) == list(range(1, len(calls) + 1))  # each call made once: none recomputed
    # The resumed run is the run that was never killed, and the runs kept apart.
    assert [(u, c, e) for u, c, e in after] == rows_of(postgres, "reference")
    assert Store(postgres, run="reference").count(backend_call=1) == reference.calls
    assert rows_of(postgres, str((tmp_path / "other").resolve())) != after and other.calls > 0
    # The report and the answer go through the server as well.
    from sccop.cli.main import main

    assert main(["report", str(tmp_path / "killed")]) == 0
    assert not (tmp_path / "killed" / "sccop.db").exists()
    store = open_store(tmp_path / "killed", config)
    assert store.run == run and len(store) == len(after)
