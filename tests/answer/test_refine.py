"""Final refinement: symmetrise and re-relax, duplicates merged, re-ranking with a second backend."""

import csv
from dataclasses import replace

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT

from sccop.answer.outputs import write_outputs
from sccop.answer.ranking import choose_version, ranked
from sccop.answer.refine import refine
from sccop.calls.store import Store
from sccop.config import BackendConfig, RefineConfig, RelaxConfig, RunConfig
from sccop.relaxation import relax
from sccop.testing import DoubleWellCalculator, put_relaxed


def test_choose_version_rule():
    # (uid, energy, point-group order); relaxed structure at 0.0 eV/atom with order 2
    versions = [("a", 0.001, 48), ("b", -0.004, 8), ("c", 0.010, 48)]
    assert choose_version(0.0, 2, versions, 0.002) == "a"  # highest symmetry within the tolerance
    assert choose_version(0.0, 2, versions, 0.0005) == "b"  # 'a' is now too high
    assert choose_version(0.0, 2, [("c", 0.010, 48)], 0.002) is None  # energy would rise
    assert choose_version(0.0, 8, [("d", 0.0005, 8)], 0.002) is None  # no gain in symmetry or energy
    assert choose_version(0.0, 8, [("d", -0.003, 8)], 0.002) == "d"  # same symmetry, lower energy
    assert choose_version(0.0, 8, [("e", -0.1, 4)], 0.002) is None  # never lower the symmetry
    # P6_3/mmc (194) and P6/mmm (191) have the same point-group order (24): a relaxation in one is never
    # reported in the other, even at a lower energy; a version in its own group still may be.
    assert choose_version(0.0, 24, [("f", -0.001, 24, 191)], 0.002, raw_group=194) is None
    assert choose_version(0.0, 24, [("f", -0.001, 24, 191), ("g", -0.0005, 24, 194)], 0.002, raw_group=194) == "g"
    assert choose_version(0.0, 12, [("h", 0.001, 24, 191)], 0.002, raw_group=194) == "h"  # higher order: yes


def test_distorted_rocksalt_comes_back_as_fm3m(tmp_path):
    """CHGNet: a rattled, strained 8-atom rocksalt cell relaxes to a P1 structure close to rocksalt; the
    refinement returns it as Fm-3m and keeps the relaxed P1 row beside it."""
    from ase.build import bulk as build

    from sccop.symmetry.analysis import spacegroup

    atoms = build("NaCl", "rocksalt", a=5.69, cubic=True)
    rng = np.random.default_rng(3)
    atoms.positions += rng.normal(0, 0.08, atoms.positions.shape)
    atoms.set_cell(atoms.cell[:] @ (np.eye(3) + rng.normal(0, 0.02, (3, 3))), scale_atoms=True)
    backend = BackendConfig(name="chgnet")
    result = relax(atoms, backend, RelaxConfig(fmax=0.05))
    assert result.ok and spacegroup(result.atoms, 0.01) != 225  # the relaxation alone stays distorted
    store = Store(tmp_path / "run.db")
    put_relaxed(store, "relax:a", result.atoms, result.energy_per_atom, round=0, calls=1)
    config = RunConfig(composition="NaCl", backend=backend)
    final = refine(store, config)
    assert len(final) == 1
    best = final[0]
    assert best.spacegroup == 225 and best.symmetrized and best.uid.startswith("refine:relax:a@")
    assert best.raw_spacegroup != 225 and best.source == "relax:a"
    assert best.energy <= best.raw_energy + config.refine.energy_tolerance
    refined_rows = store.rows(stage="refine")
    assert refined_rows and all(r.parent == "relax:a" and r.refine_call == 1 for r in refined_rows)
    assert not store.rows(stage="refine", backend_call=1)  # refinement is not a search call
    n = len(store)
    refine(store, config)  # a second pass makes no new call
    assert len(store) == n


def test_low_symmetry_minimum_is_not_forced_up(tmp_path):
    """A double well: the off-centre P4mm structure is the minimum; at 0.2-0.5 A it symmetrises to the
    centred Pm-3m one, which re-relaxes 10 meV/atom higher, so the P4mm structure stays the answer."""
    atoms = Atoms("CuAu", cell=np.eye(3) * 3.0, scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5 + 0.15 / 3.0]], pbc=True)
    relax_config = RelaxConfig(fmax=1e-4, relax_cell=False, steps=2000)
    calc = DoubleWellCalculator(k=12.5, d0=0.2)
    result = relax(atoms, BackendConfig(name="emt"), relax_config, calculator=calc)
    assert result.ok and result.energy == pytest.approx(0.0, abs=1e-6)
    store = Store(tmp_path / "run.db")
    put_relaxed(store, "relax:a", result.atoms, result.energy_per_atom)
    config = RunConfig(composition="CuAu", relax=relax_config, backend=BackendConfig(name="emt"))
    final = refine(store, config, calculator=calc)
    versions = {r.get("target_spacegroup"): r for r in store.rows(stage="refine")}
    assert 221 in versions  # the centred structure was built and re-relaxed ...
    assert versions[221].energy_per_atom == pytest.approx(12.5 * 0.2**4 / 2, rel=1e-6)  # ... 10 meV/atom up
    assert final[0].spacegroup == 99 and not final[0].symmetrized and final[0].uid == "relax:a"
    # With a generous tolerance the same rows give the centred structure (no new call).
    loose = replace(config, refine=RefineConfig(energy_tolerance=0.02))
    n = len(store)
    assert ranked(store, loose)[0].spacegroup == 221 and len(store) == n


def test_duplicates_merged_and_rerank_reorders_a_planted_pair(tmp_path):
    """The first backend (planted energies) puts bcc Cu below fcc; EMT, as the re-ranking backend,
    puts fcc first. Copies of bcc are merged into one candidate."""
    store = Store(tmp_path / "run.db")
    fcc, bcc = bulk("Cu", "fcc", a=3.61), bulk("Cu", "bcc", a=2.87)
    put_relaxed(store, "relax:bcc", bcc, -1.0, round=0, calls=3)
    put_relaxed(store, "relax:bcc-again", bulk("Cu", "bcc", a=2.87, cubic=True), -0.999, round=1, calls=7)
    put_relaxed(store, "relax:fcc", fcc, -0.9, round=1, calls=9)
    config = RunConfig(composition="Cu", backend=BackendConfig(name="emt"),
                       refine=RefineConfig(symmetrize=False, rerank="emt"))
    plain = ranked(store, replace(config, refine=RefineConfig(symmetrize=False)))
    assert [c.uid for c in plain] == ["relax:bcc", "relax:fcc"] and plain[0].copies == 2
    final = refine(store, config, rerank_calculator=EMT())
    assert [c.source for c in final] == ["relax:fcc", "relax:bcc"]
    assert [c.rank_primary for c in final] == [2, 1] and [c.rank for c in final] == [1, 2]
    assert final[0].rerank_energy < final[1].rerank_energy
    assert {r.parent for r in store.rows(stage="rerank")} == {"relax:fcc", "relax:bcc"}
    summary = write_outputs(store, tmp_path, config, final)
    with open(tmp_path / "summary.csv") as fh:
        lines = list(csv.DictReader(fh))
    assert [line["primary_rank"] for line in lines] == ["2", "1"]
    assert lines[0]["rerank_backend"] == "emt" and float(lines[0]["rerank_above_best"]) == 0.0
    assert float(lines[1]["rerank_above_best"]) > 0 and float(lines[0]["above_best"]) == pytest.approx(0.1)
    assert lines[1]["copies"] == "2" and summary[0]["spacegroup"] == 225
    assert sorted(p.name for p in (tmp_path / "best").iterdir())[0].startswith("01_Cu_225")


def test_failed_rerank_is_recorded_and_a_missing_reranker_is_one_clear_error(tmp_path, monkeypatch):
    from sccop.errors import SccopInputError
    from sccop.testing import RaisingCalculator

    store = Store(tmp_path / "run.db")
    put_relaxed(store, "relax:bcc", bulk("Cu", "bcc", a=2.87), -1.0)
    put_relaxed(store, "relax:fcc", bulk("Cu", "fcc", a=3.61), -0.9)
    config = RunConfig(composition="Cu", backend=BackendConfig(name="emt"),
                       refine=RefineConfig(symmetrize=False, rerank="emt"))
    final = refine(store, config, rerank_calculator=RaisingCalculator())
    assert [c.source for c in final] == ["relax:bcc", "relax:fcc"]  # the first backend's order stands
    assert all(c.rerank_energy is None and "boom" in c.rerank_reason for c in final)
    write_outputs(store, tmp_path, config, final)
    with open(tmp_path / "summary.csv") as fh:
        assert all("boom" in line["rerank_reason"] for line in csv.DictReader(fh))
    monkeypatch.delenv("ASE_VASP_COMMAND", raising=False)
    monkeypatch.delenv("VASP_COMMAND", raising=False)
    vasp = replace(config, refine=RefineConfig(symmetrize=False, rerank="vasp"))
    with pytest.raises(SccopInputError, match="re-ranking backend vasp is unavailable"):
        refine(store, vasp)
    assert not store.rows(stage="rerank", backend="vasp")  # no failed row per candidate


def test_ties_go_to_the_higher_symmetry(tmp_path):
    """A tetragonal Cu 0.5 meV/atom below fcc is a tie at the default tolerance (2 meV/atom): fcc is
    ranked first. A structure further away keeps its place; a tighter tolerance or prefer_symmetry off
    ranks by energy alone."""
    store = Store(tmp_path / "run.db")
    bct = bulk("Cu", "bcc", a=2.87, cubic=True)
    bct.set_cell(bct.cell * [1.0, 1.0, 1.1], scale_atoms=True)
    put_relaxed(store, "relax:bct", bct, -1.0, round=0, calls=3)
    put_relaxed(store, "relax:fcc", bulk("Cu", "fcc", a=3.61), -0.9995, round=0, calls=4)
    put_relaxed(store, "relax:sc", bulk("Cu", "sc", a=2.4), -0.95, round=0, calls=5)
    config = RunConfig(composition="Cu", backend=BackendConfig(name="emt"))
    final = ranked(store, config)
    assert [c.uid for c in final] == ["relax:fcc", "relax:bct", "relax:sc"]
    assert [c.spacegroup for c in final] == [225, 139, 221] and [c.rank for c in final] == [1, 2, 3]
    by_energy = ["relax:bct", "relax:fcc", "relax:sc"]
    assert [c.uid for c in ranked(store, replace(config, refine=RefineConfig(prefer_symmetry=False)))] == by_energy
    assert [c.uid for c in ranked(store, replace(config, refine=RefineConfig(energy_tolerance=1e-4)))] == by_energy


def test_a_tie_between_polytypes_goes_by_energy(tmp_path):
    """hcp Cu 1 meV/atom below fcc is no distortion of fcc (P6_3/mmc is not a subgroup of Fm-3m): the tie
    does not promote fcc, and the lower hcp stays first (the prototype bench's Mg). A tetragonal cell below
    fcc still gives way to it (I4/mmm is a subgroup of Fm-3m)."""
    from sccop.symmetry.analysis import may_be_distorted

    store = Store(tmp_path / "run.db")
    put_relaxed(store, "relax:hcp", bulk("Cu", "hcp", a=2.55, c=4.16), -1.0, round=0, calls=3)
    put_relaxed(store, "relax:fcc", bulk("Cu", "fcc", a=3.61), -0.999, round=0, calls=4)
    config = RunConfig(composition="Cu", backend=BackendConfig(name="emt"))
    assert [(c.uid, c.spacegroup) for c in ranked(store, config)] == [("relax:hcp", 194), ("relax:fcc", 225)]
    assert not may_be_distorted(194, 225) and not may_be_distorted(186, 216)  # hcp/fcc, wurtzite/zinc blende
    assert may_be_distorted(139, 225) and may_be_distorted(166, 225) and may_be_distorted(225, 225)


def test_a_duplicate_group_is_represented_by_its_most_symmetric_tie(tmp_path):
    """A slightly tetragonal fcc Cu 0.1 meV/atom below a cubic relaxation of the same structure is one
    candidate (StructureMatcher), and it is reported as the cubic one."""
    store = Store(tmp_path / "run.db")
    strained = bulk("Cu", "fcc", a=3.61, cubic=True)
    strained.set_cell(strained.cell * [1.0, 1.0, 1.02], scale_atoms=True)
    put_relaxed(store, "relax:strained", strained, -1.0, round=0, calls=3)
    put_relaxed(store, "relax:cubic", bulk("Cu", "fcc", a=3.61), -0.9999, round=0, calls=4)
    config = RunConfig(composition="Cu", backend=BackendConfig(name="emt"),
                       refine=RefineConfig(tolerances=(0.01,)))
    (only,) = ranked(store, config)
    assert only.uid == "relax:cubic" and only.spacegroup == 225 and only.copies == 2
    (plain,) = ranked(store, replace(config, refine=replace(config.refine, prefer_symmetry=False)))
    assert plain.uid == "relax:strained"
