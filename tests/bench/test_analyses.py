"""The follow-up analyses of finished bench folders (equal cost, random search's expectation), on planted
databases whose numbers can be worked out by hand, and the scripts that print them."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ase import Atoms
from ase.build import bulk

from sccop.bench.analyses import equal_cost, finished_ids, random_expectation
from sccop.bench.table import BenchRow
from sccop.calls.store import Store
from sccop.testing import put_relaxed

ROOT = Path(__file__).resolve().parents[2]
ROW = BenchRow("mp-30", "Cu", 1, 225, "toy")
BCC, FCC, SC = bulk("Cu", "bcc", a=2.87), bulk("Cu", "fcc", a=3.61), Atoms("Cu", cell=[2.4] * 3, pbc=True)


def plant(folder: Path, method: str, relaxations) -> None:
    """A finished bench pair: its database of (uid, structure, energy, steps) relaxations in call order."""
    db = folder / "rows" / ROW.id / method / ("sccop.db" if method == "sccop" else "random.db")
    db.parent.mkdir(parents=True)
    store = Store(db)
    for calls, (uid, atoms, energy, steps) in enumerate(relaxations, 1):
        put_relaxed(store, uid, atoms, energy, calls=calls, steps=steps, minutes=float(calls))
    with open(folder / "results.jsonl", "a") as fh:
        fh.write(json.dumps({"id": ROW.id, "method": method, "status": "failed"}) + "\n")
        fh.write(json.dumps({"id": ROW.id, "method": method, "status": "ok"}) + "\n")  # the last line counts


@pytest.fixture
def folders(tmp_path):
    sccop, random = tmp_path / "sccop", tmp_path / "random"
    # sccop: bcc then fcc, 11 evaluations each (22 in all); its answer is fcc, the row's group.
    plant(sccop, "sccop", [("relax:a", BCC, -3.0, 10), ("relax:b", FCC, -3.5, 10)])
    # random: bcc (11 evaluations), fcc (21), sc (6): cut at sccop's 22 it has only relaxed bcc.
    plant(random, "random", [("random/0", BCC, -3.0, 10), ("random/1", FCC, -3.5, 20), ("random/2", SC, -2.0, 5)])
    return sccop, random


def test_finished_ids_take_each_pair_s_last_line(folders):
    sccop, random = folders
    assert finished_ids(sccop, "sccop") == {"mp-30"} and finished_ids(sccop, "random") == set()


def test_equal_cost_cuts_random_search_at_sccop_s_evaluations(folders):
    sccop, random = folders
    result = equal_cost([ROW], sccop, [random])
    (row,) = result.rows
    assert row == {"id": "mp-30", "formula": "Cu", "nsites": 1, "spacegroup": 225, "sccop_best": 225,
                   "sccop_evaluations": 22, "random_cut": 229, "random_best": 225, "random_evaluations": 38}
    assert "matches the group (top-1, as relaxed) on 0/1 rows, against sccop's 1/1" in result.summary
    assert "| mp-30 | Cu | 1 | 225 | 225 | 22 | 229 | 225 | 38 |" in result.markdown()


def test_random_expectation_by_hand(folders):
    sccop, random = folders
    result = random_expectation([ROW], [sccop], [random], seed=0, draws=2000)
    (row,) = result.rows
    assert row["run"] == 1.0 and row["sccop"] == [True]
    assert row["at_n"] == pytest.approx(1 - (2 / 3) ** 3)  # fcc drawn at least once in 3 draws
    assert row["half"] == pytest.approx(1 / 3)  # a run of 1: fcc is its answer one time in three
    # Cut at 22 evaluations: fcc (21) fits alone or after sc (6 + 21 > 22: no), and wins when it is drawn
    # before bcc and sc would push it out: orderings starting with fcc, 2 of 6.
    assert row["cut"] == pytest.approx(1 / 3, abs=0.04)
    assert row["calls_to_hit"] == "2.0 / 2" and row["evaluations_to_hit"] == "30 / 22"  # 21 + (11 + 6) / 2 = 29.5
    assert result.calls_ratio == [1.0] and result.evaluations_ratio == pytest.approx([29.5 / 22])
    assert result.expected("n")[0] == pytest.approx(row["at_n"]) and result.random_run == 1
    assert "sccop 1 (sccop sccop); random search's run 1" in result.markdown()


def test_the_scripts_print_the_analyses(folders, tmp_path):
    sccop, random = folders
    table = tmp_path / "table.csv"
    table.write_text("material_id,full_formula,nsites,spacegroup\nmp-30,Cu,1,225\n")
    env = {"PYTHONPATH": str(ROOT / "benchmarks")}
    cost = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_equal_cost.py"), str(table), str(sccop),
                           str(random)], capture_output=True, text=True, check=True, env={**__import__("os").environ, **env})
    assert "| mp-30 | Cu | 1 | 225 | 225 | 22 | 229 | 225 | 38 |" in cost.stdout
    expectation = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_random_expectation.py"), str(table),
                                  "--sccop", str(sccop), "--random", str(random)], capture_output=True, text=True,
                                 check=True, env={**__import__("os").environ, **env})
    assert "Group top-1, as relaxed, 1 rows" in expectation.stdout
