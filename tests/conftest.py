"""Fixtures shared by the tests: seeded generators, small EMT configs of a search and of a bench, and a
writer of CSPBench-format tables."""

import csv
import subprocess
import sys
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from sccop.config import AnnealConfig, BackendConfig, RunConfig, SearchConfig, TrainConfig

warnings.filterwarnings("ignore", module="pymatgen")
warnings.filterwarnings("ignore", module="pyxtal")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def _small_config(**search) -> RunConfig:
    return RunConfig(
        composition="CuAu",
        atoms="2-4",
        seed=1,
        backend=BackendConfig(name="emt"),
        train=TrainConfig(members=2, epochs=40, patience=10),
        anneal=AnnealConfig(steps=10, restarts=2),
        search=SearchConfig(**{
            "rounds": 2, "samples": 30, "initial_labels": 10, "iterations": 1, "per_iteration": 4, "starts": 4,
            "relax_top": 2, "seed_samples": 3, "chunk": 3, **search,
        }),
    )


@pytest.fixture
def small_config():
    """small_config(**search): a CuAu search of 2-4 atoms with EMT, small enough for a test; keyword
    arguments replace settings of its [search] section."""
    return _small_config


@pytest.fixture
def bench_config():
    """The base config of a toy bench: EMT, one short round per row."""
    return RunConfig(
        seed=1,
        backend=BackendConfig(name="emt"),
        train=TrainConfig(members=2, epochs=30, patience=10),
        anneal=AnnealConfig(steps=10, restarts=2),
        search=SearchConfig(rounds=1, samples=20, initial_labels=8, iterations=1, per_iteration=3, starts=3,
                            relax_top=2, seed_samples=2, chunk=3),
    )


def _write_table(path, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["material_id", "full_formula", "nsites", "spacegroup", "category", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def write_table():
    """write_table(path, rows): a CSPBench-format CSV (material_id, full_formula, nsites, spacegroup,
    category, note) of dict rows."""
    return _write_table


@pytest.fixture
def held_by_another_process():
    """held_by_another_process(folder, what): a context in which a second Python process holds the
    folder's lock (sccop.calls.rundir.exclusive) as `what`; yields that process (its pid), kills it after."""

    @contextmanager
    def hold(folder, what: str):
        holder = subprocess.Popen([sys.executable, "-c", (
            "import time; from sccop.calls.rundir import exclusive\n"
            f"with exclusive({str(folder)!r}, {what!r}):\n    print('held', flush=True); time.sleep(60)")],
            stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            yield holder
        finally:
            holder.kill()
            holder.wait()

    return hold
