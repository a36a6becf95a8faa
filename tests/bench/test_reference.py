"""The reference relaxed by the row's backend and whether a method reached it (sccop.bench.reference):
planted relaxations against planted references with EMT, and a bench on a toy row."""

from dataclasses import replace

import numpy as np
import pytest
from ase.build import bulk, fcc111
from ase.io import write

from sccop.bench import BenchSettings, read_table, run_bench
from sccop.bench.reference import REACHED_MEV, as_layer, reach_scores, relax_reference
from sccop.calls.store import Store
from sccop.config import BackendConfig, RunConfig, SamplerConfig
from sccop.errors import SccopInputError
from sccop.testing import put_relaxed


def planted(tmp_path, energies):
    """A store whose relaxations (calls 1, 2, ...) have these energies per atom; each took 9 steps."""
    store = Store(tmp_path / "run.db")
    for k, e in enumerate(energies, 1):
        put_relaxed(store, f"relax:{k}", bulk("Cu", "fcc", a=3.6 + 0.01 * k), e, calls=k, steps=9)
    return store


def test_reached_gap_costs_and_each_miss_cause(tmp_path):
    store = planted(tmp_path, [-3.0, -3.5, -3.9981, -3.6])
    reference = -4.0
    # Reached at the third call, within the tolerance, on the reference's own structure: no miss.
    hit = reach_scores(store, -3.9981, reference, matched=True)
    assert hit == {"reached": True, "gap_mev": pytest.approx(1.9), "calls_to_reached": 3,
                   "evaluations_to_reached": 30, "minutes_to_reached": None}
    # The same energy on another structure: the backend cannot tell them apart.
    assert reach_scores(store, -3.9981, reference, matched=False)["miss_cause"] == "tie"
    # Best above the reference by more than the tolerance: the search's miss, never reached.
    miss = reach_scores(store, -3.9981, -4.1, matched=False)
    assert miss["miss_cause"] == "search" and not miss["reached"] and "calls_to_reached" not in miss
    assert miss["gap_mev"] == pytest.approx(101.9)
    # Best below the reference on another structure: the backend's miss (it prefers something else).
    low = reach_scores(store, -3.9981, -3.9, matched=False)
    assert low["miss_cause"] == "backend" and low["reached"] and low["calls_to_reached"] == 3
    # Unknown energies give nothing to report.
    assert reach_scores(store, None, reference, True) == {} and reach_scores(store, -1.0, None, True) == {}
    assert REACHED_MEV == 5.0


def test_reference_relaxed_once_by_the_rows_backend(tmp_path):
    path = tmp_path / "Cu.cif"
    write(path, bulk("Cu", "fcc", a=3.5))  # squeezed: the relaxation moves it to EMT's lattice constant
    config = RunConfig(composition="Cu", backend=BackendConfig(name="emt"))
    first = relax_reference(path, "Cu", config, tmp_path / "ref")
    store = Store(tmp_path / "ref" / "reference.db")
    assert first["reference_spacegroup"] == 225 and len(store) == 1
    (row,) = store.rows(stage="reference")
    assert row.refine_call == 1 and row.get("backend_call") is None and row.steps > 0
    assert first["reference_energy_per_atom"] == pytest.approx(row.energy_per_atom, abs=1e-6)
    assert relax_reference(path, "Cu", config, tmp_path / "ref") == first and len(store) == 1


def test_a_layer_reference_is_recentred_and_padded_to_the_searchs_cell(tmp_path):
    layer = fcc111("Cu", size=(1, 1, 2), vacuum=3.0)
    layer.positions[:, 2] += 20.0  # anywhere along c
    config = RunConfig(composition="Cu", sampler=SamplerConfig(dim=2, vacuum=12.0, thickness=3.0))
    out = as_layer(layer, 15.0)
    assert list(out.pbc) == [True, True, False] and out.cell[2, 2] == pytest.approx(15.0)
    z = out.positions[:, 2]
    assert 0.5 * (z.min() + z.max()) == pytest.approx(7.5)
    assert np.allclose(np.diff(np.sort(z)), np.diff(np.sort(layer.positions[:, 2])))
    path = tmp_path / "Cu2.cif"
    write(path, layer)
    result = relax_reference(path, "Cu", replace(config, backend=BackendConfig(name="emt")), tmp_path / "ref")
    relaxed = Store(tmp_path / "ref" / "reference.db").get("reference:Cu2.cif").toatoms()
    assert list(relaxed.pbc) == [True, True, False] and relaxed.cell[2, 2] == pytest.approx(15.0)  # vacuum kept
    assert 1 <= result["reference_spacegroup"] <= 80  # a layer group
    tilted = layer.copy()
    tilted.cell[0, 2] = 1.0
    with pytest.raises(SccopInputError, match="xy plane"):
        as_layer(tilted, 15.0)


def test_bench_reports_reaching_the_reference(tmp_path, bench_config, write_table):
    table_path = tmp_path / "toy.csv"
    write_table(table_path, [
        {"material_id": "fcc", "full_formula": "Cu", "nsites": 1, "spacegroup": 225, "category": "a", "note": ""},
        {"material_id": "bcc", "full_formula": "Cu", "nsites": 1, "spacegroup": 229, "category": "a", "note": ""},
    ])
    cifs = tmp_path / "cifs"
    cifs.mkdir()
    write(cifs / "fcc.cif", bulk("Cu", "fcc", a=3.61))
    write(cifs / "bcc.cif", bulk("Cu", "bcc", a=2.87))  # above fcc for EMT: a search that finds fcc beats it
    config = replace(bench_config, seed=3)  # seed 3 ends on fcc (see test_harness)
    out = tmp_path / "bench"
    results = run_bench(read_table(table_path), config, BenchSettings(budget_calls=10, cif_dir=str(cifs), methods=("sccop",)),
                        out, progress=False)
    fcc, bcc = results[("fcc", "sccop")], results[("bcc", "sccop")]
    assert fcc["reached"] and fcc["structure_match"] and "miss_cause" not in fcc and fcc["calls_to_reached"] <= 10
    assert abs(fcc["gap_mev"]) <= REACHED_MEV and fcc["reference_spacegroup"] == 225
    assert bcc["reached"] and not bcc["structure_match"] and bcc["miss_cause"] == "backend" and bcc["gap_mev"] < 0
    assert "refined_reached" in fcc
    summary = (out / "summary.md").read_text()
    assert "## Reaching the backend's minimum at the reference" in summary and "| 1-4 | 2 | 2/2 |" in summary
    assert (out / "rows" / "fcc" / "reference-sccop" / "reference.db").exists()
