"""Relaxation and single points: EMT end to end, and every failure path recorded with its reason."""

import re
import shutil

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from sccop.backends import Backend, parse_backend
from sccop.config import BackendConfig, RelaxConfig
from sccop.errors import SccopInputError
from sccop.relaxation import relax, relax_many, single_points
from sccop.testing import (
    CollapsingCalculator,
    ExpandingCalculator,
    NaNCalculator,
    RaisingCalculator,
    SleepingCalculator,
    SpringCalculator,
)

EMT = BackendConfig(name="emt")


def rattled_copper():
    atoms = bulk("Cu", "fcc", a=3.75) * (2, 2, 2)
    atoms.rattle(0.08, seed=3)
    return atoms


def test_registry_names_backends():
    assert parse_backend("CHGNet") is Backend.CHGNET
    assert Backend.ESPRESSO.is_dft and Backend.SEVENNET.is_ml and not Backend.EMT.is_ml
    with pytest.raises(SccopInputError, match="unknown backend 'foo'"):
        parse_backend("foo")


def test_emt_relaxation_end_to_end():
    atoms = rattled_copper()
    start = single_points([atoms], EMT)[0]
    result = relax(atoms, EMT, RelaxConfig(fmax=0.01))
    assert result.ok and result.converged and result.steps > 0
    assert result.energy < start.energy
    assert np.abs(result.atoms.get_forces()).max() < 0.01
    # EMT copper: the fcc lattice constant relaxes to about 3.59 A (primitive cell of the 2x2x2 supercell)
    assert result.atoms.get_volume() / len(atoms) == pytest.approx(3.59**3 / 4, rel=0.03)
    assert np.allclose(atoms.positions, rattled_copper().positions), "the input must not be modified"


def test_pressure_shrinks_the_cell_and_reports_enthalpy():
    atoms = bulk("Cu", "fcc", a=3.6)
    free = relax(atoms, EMT, RelaxConfig(fmax=0.005))
    squeezed = relax(atoms, EMT, RelaxConfig(fmax=0.005, pressure=20.0))
    assert squeezed.atoms.get_volume() < free.atoms.get_volume()
    assert "enthalpy" in squeezed.info and "enthalpy" not in free.info


def test_fix_symmetry_keeps_the_group():
    import spglib

    atoms = bulk("Cu", "fcc", a=3.7, cubic=True)
    result = relax(atoms, EMT, RelaxConfig(fix_symmetry=True, fmax=0.01, optimizer="bfgs"))
    cell = (result.atoms.cell[:], result.atoms.get_scaled_positions(), result.atoms.numbers)
    assert result.ok and spglib.get_symmetry_dataset(cell, symprec=1e-4).number == 225


@pytest.mark.parametrize(
    "calculator, config, words",
    [
        (NaNCalculator(), RelaxConfig(), "non-finite energy"),
        (RaisingCalculator(), RelaxConfig(), "calculator error: RuntimeError: boom"),
        (CollapsingCalculator(), RelaxConfig(relax_cell=False), "atoms collapsed"),
        (ExpandingCalculator(), RelaxConfig(steps=2000), "cell exploded"),
    ],
)
def test_failures_are_recorded(calculator, config, words):
    result = relax(rattled_copper(), EMT, config, calculator=calculator)
    assert result.status == "failed" and words in result.reason


def test_a_bond_far_below_the_covalent_radii_fails_the_relaxation():
    # Two Cu atoms drawn to 1.0 A: above min_distance (0.5 A), but 0.38 of their covalent radii sum.
    atoms = Atoms("Cu2", positions=[[4, 4, 4], [6.2, 4, 4]], cell=[10, 10, 10], pbc=True)
    config = RelaxConfig(relax_cell=False, fmax=0.01)
    result = relax(atoms, EMT, config, calculator=SpringCalculator(d0=1.0))
    assert result.status == "failed" and result.converged
    assert re.search(r"atoms collapsed: Cu-Cu (0.99|1.00)\d A is 0.38 of their covalent radii \(< 0.6\)", result.reason)
    off = relax(atoms, EMT, RelaxConfig(relax_cell=False, fmax=0.01, min_bond_ratio=0), calculator=SpringCalculator(d0=1.0))
    assert off.ok and off.atoms.get_distance(0, 1) == pytest.approx(1.0, abs=0.01)
    fine = relax(atoms, EMT, config, calculator=SpringCalculator(d0=2.4))  # 0.91 of the radii: a real bond
    assert fine.ok
    with pytest.raises(SccopInputError, match=r"\[relax\] min_bond_ratio = .* is not allowed: it must be a number from 0 to 0.99"):
        RelaxConfig(min_bond_ratio=1.5)


def test_timeout_never_hangs():
    backend = BackendConfig(name="emt", timeout_s=0.5)
    result = relax(rattled_copper(), backend, calculator=SleepingCalculator(seconds=20))
    assert result.status == "failed" and "timeout" in result.reason
    (point,) = single_points([rattled_copper()], backend, calculator=SleepingCalculator(seconds=20))
    assert point.status == "failed" and "timeout" in point.reason


def test_overlapping_structure_is_refused_before_the_call():
    atoms = bulk("Cu", "fcc", a=3.6) * (2, 1, 1)
    atoms.positions[1] = atoms.positions[0] + [0.2, 0, 0]
    (result,) = single_points([atoms], EMT)
    assert result.status == "failed" and "overlapping atoms" in result.reason
    assert relax(atoms, EMT).status == "failed"


def test_one_failure_does_not_stop_the_others():
    good, bad = rattled_copper(), rattled_copper()
    bad.positions[1] = bad.positions[0]
    results = relax_many([good, bad, good], EMT, RelaxConfig(fmax=0.02))
    assert [r.status for r in results] == ["ok", "failed", "ok"]


def test_missing_pw_x_is_a_recorded_failure():
    backend = BackendConfig(name="espresso", espresso_command="no-such-pw.x -nk 1")
    (result,) = single_points([bulk("Si")], backend)
    assert result.status == "failed" and "binary 'no-such-pw.x' not found" in result.reason


def test_missing_pseudopotential_is_a_recorded_failure(tmp_path):
    if shutil.which("pw.x") is None:
        pytest.skip("pw.x is not installed")
    backend = BackendConfig(name="espresso", pseudo_dir=str(tmp_path))
    (result,) = single_points([bulk("Si")], backend)
    assert result.status == "failed" and "no pseudopotential for Si" in result.reason


def test_relax_cli_with_emt(tmp_path):
    from ase.io import write

    from sccop.cli.main import main
    from sccop.io import read_structures

    bad = rattled_copper()
    bad.positions[1] = bad.positions[0]
    write(tmp_path / "in.extxyz", [rattled_copper(), bad])
    out = tmp_path / "out.extxyz"
    assert main(["relax", str(tmp_path / "in.extxyz"), "--backend", "emt", "--out", str(out), "--quiet"]) == 0
    first, second = read_structures(out)
    assert first.info["status"] == "ok" and first.info["converged"] and first.info["energy"] < 0.5
    assert second.info["status"] == "failed" and "overlapping" in second.info["reason"]


def test_batches_respect_structure_and_atom_limits():
    from ase import Atoms

    from sccop.backends.ml import chunks

    sizes = [4, 4, 4, 10, 2, 2, 2, 2, 2]
    groups = list(chunks([Atoms("H" * n) for n in sizes], 3, 10))
    assert [[len(a) for a in g] for g in groups] == [[4, 4], [4], [10], [2, 2, 2], [2, 2]]


def test_missing_vasp_and_gpaw_are_recorded_failures(monkeypatch):
    import importlib.util

    monkeypatch.delenv("ASE_VASP_COMMAND", raising=False)
    monkeypatch.delenv("VASP_COMMAND", raising=False)
    (vasp,) = single_points([bulk("Si")], BackendConfig(name="vasp"))
    assert vasp.status == "failed" and "no VASP command" in vasp.reason
    (vasp,) = single_points([bulk("Si")], BackendConfig(name="vasp", vasp_command="no-such-vasp_std"))
    assert vasp.status == "failed" and "binary 'no-such-vasp_std' not found" in vasp.reason
    if importlib.util.find_spec("gpaw") is None:
        (gpaw,) = single_points([bulk("Si")], BackendConfig(name="gpaw"))
        assert gpaw.status == "failed" and "gpaw is not installed" in gpaw.reason


def test_one_stuck_structure_does_not_time_out_the_others():
    class SleepsOnHeavyCells(SleepingCalculator):
        def compute(self, atoms):
            if len(atoms) > 4:
                return super().compute(atoms)
            from ase.calculators.emt import EMT

            atoms = atoms.copy()
            atoms.calc = EMT()
            return {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces(), "stress": atoms.get_stress()}

    backend = BackendConfig(name="emt", timeout_s=2.0)
    small, large = bulk("Cu", "fcc", a=3.7), rattled_copper()
    points = single_points([small, large, small], backend, calculator=SleepsOnHeavyCells(seconds=20))
    assert [p.status for p in points] == ["ok", "failed", "ok"]
    relaxed = relax_many([small, large], backend, RelaxConfig(fmax=0.02), calculator=SleepsOnHeavyCells(seconds=20))
    assert relaxed[0].ok and "timeout" in relaxed[1].reason


def test_rattle_lets_a_symmetric_saddle_relax_away_and_is_reproducible():
    import spglib

    lj = BackendConfig(name="lj")
    simple_cubic = bulk("Ar", "sc", a=2.25) * (2, 2, 2)  # a saddle of the LJ stand-in: forces vanish by symmetry
    group = lambda a: spglib.get_symmetry_dataset((a.cell, a.positions, a.numbers), symprec=0.1).number  # noqa: E731
    still = relax(simple_cubic, lj, RelaxConfig(steps=2000))
    assert still.ok and group(still.atoms) == 221
    rattled = relax(simple_cubic, lj, RelaxConfig(steps=2000, rattle=0.05))
    assert rattled.ok and group(rattled.atoms) != 221
    assert rattled.energy_per_atom < still.energy_per_atom - 0.1  # it found a close packing
    # The displacements depend on the structure only: the same start relaxes to the same end.
    again = relax_many([bulk("Cu", "fcc", a=3.6), simple_cubic], lj, RelaxConfig(steps=2000, rattle=0.05))[1]
    assert again.energy == rattled.energy and np.allclose(again.atoms.positions, rattled.atoms.positions)
    # FixSymmetry relaxations are never rattled; a negative rattle is refused.
    fixed = relax(simple_cubic, lj, RelaxConfig(steps=2000, rattle=0.05, fix_symmetry=True))
    assert group(fixed.atoms) == 221
    with pytest.raises(SccopInputError, match=r"\[relax\] rattle = -0.1 is not allowed: it must be a number from 0 to 1"):
        relax(simple_cubic, lj, RelaxConfig(rattle=-0.1))


@pytest.mark.parametrize("optimizer", ["bfgs", "fire"])
def test_optimizer_steps_run_on_one_blas_thread_and_the_backend_keeps_its_threads(monkeypatch, optimizer):
    """[relax] blas_threads limits the optimizer's and filter's own algebra, not the backend's calls, and the
    machine's setting is back once the relaxation ends; 0 leaves it alone."""
    from ase.calculators.emt import EMT as EMTCalculator
    from ase.optimize import BFGS, FIRE
    from threadpoolctl import ThreadpoolController, threadpool_limits

    def blas_threads():
        return {lib.num_threads for lib in ThreadpoolController().select(user_api="blas").lib_controllers}

    seen = {"step": set(), "calculate": set()}
    cls = {"bfgs": BFGS, "fire": FIRE}[optimizer]
    step = cls.step

    def recording_step(self, *args, **kwargs):
        seen["step"] |= blas_threads()
        return step(self, *args, **kwargs)

    class RecordingEMT(EMTCalculator):
        def calculate(self, *args, **kwargs):
            seen["calculate"] |= blas_threads()
            super().calculate(*args, **kwargs)

    monkeypatch.setattr(cls, "step", recording_step)
    with threadpool_limits(2, user_api="blas"):
        if blas_threads() != {2}:
            pytest.skip("this machine's BLAS does not take two threads")
        result = relax(rattled_copper(), EMT, RelaxConfig(fmax=0.01, optimizer=optimizer), calculator=RecordingEMT())
        assert result.ok and result.steps > 0
        assert seen == {"step": {1}, "calculate": {2}}
        assert blas_threads() == {2}
        seen["step"].clear()
        relax(rattled_copper(), EMT, RelaxConfig(fmax=0.01, blas_threads=0, optimizer=optimizer), calculator=RecordingEMT())
        assert seen["step"] == {2}


def test_a_resumed_run_may_change_blas_threads_and_a_folder_from_before_it_reads_as_the_default():
    from dataclasses import replace

    from sccop.config import RunConfig, config_changes, to_dict

    old = to_dict(RunConfig(composition="Cu"))
    del old["relax"]["blas_threads"]  # a folder written before the setting existed
    assert config_changes(old, to_dict(RunConfig(composition="Cu"))) == []
    new = RunConfig(composition="Cu")
    new = replace(new, relax=replace(new.relax, blas_threads=0))
    assert config_changes(old, to_dict(new)) == []
    changed = replace(new, relax=replace(new.relax, fmax=0.02))
    assert any("fmax" in line for line in config_changes(old, to_dict(changed)))


def test_a_relaxation_keeps_evenly_spaced_structures_of_its_path_with_their_energies():
    from sccop.relaxation import path_frames

    start = bulk("Cu", "fcc", a=3.9, cubic=True)
    start.rattle(0.1, seed=3)
    (plain,) = relax_many([start], BackendConfig(name="emt"), RelaxConfig(fmax=0.01))
    (kept,) = relax_many([start], BackendConfig(name="emt"), RelaxConfig(fmax=0.01), frames=4)
    assert "frames" not in plain.info and plain.steps == kept.steps > 4  # keeping frames changes nothing else
    assert kept.energy == plain.energy
    frames = kept.info["frames"]
    assert len(frames) == 4
    last = frames[-1]
    assert last["energy"] == pytest.approx(kept.energy)  # the relaxed structure closes the path
    assert np.allclose(last["positions"], kept.atoms.positions) and np.allclose(last["cell"], kept.atoms.cell[:])
    # Each frame's energy is the backend's energy of that frame's structure, and none is the start.
    structures = [Atoms(start.numbers, cell=f["cell"], positions=f["positions"], pbc=True) for f in frames]
    for frame, result in zip(frames, single_points(structures, BackendConfig(name="emt"))):
        assert frame["energy"] == pytest.approx(result.energy, abs=1e-10)
    assert not np.allclose(frames[0]["positions"], start.positions)
    # Indices: evenly spaced over the steps after the start, the last one included; short paths give what they have.
    path = [(float(k), np.eye(3), np.zeros((1, 3))) for k in range(11)]
    assert [f["energy"] for f in path_frames(path, 4)] == [1.0, 4.0, 7.0, 10.0]
    assert [f["energy"] for f in path_frames(path[:3], 5)] == [1.0, 2.0]
    assert path_frames(path[:1], 3) == [] and path_frames(path, 0) == []


def scripted_evaluator(energies_per_atom, forces=0.3):
    """An evaluator in place of an ML potential's: the given energies per atom, call after call (the last one
    repeats), with forces on the first atom until the last energy."""
    calls = []

    def evaluate(structures, keys):
        out = []
        for atoms in structures:
            k = min(len(calls), len(energies_per_atom) - 1)
            calls.append(k)
            f = np.zeros((len(atoms), 3))
            if k < len(energies_per_atom) - 1:
                f[0, 0] = forces
            out.append({"energy": energies_per_atom[k] * len(atoms), "forces": f, "stress": np.zeros(6)})
        return out

    return evaluate


def silicon():
    return bulk("Si", "diamond", a=5.43)


@pytest.mark.parametrize("name", ["chgnet", "sevennet"])
def test_an_ml_potentials_energy_hole_fails_the_call(monkeypatch, name):
    from sccop.backends.element_energies import element_reference_per_atom

    ref = element_reference_per_atom([14])
    assert -8 < ref < -4  # CHGNet's AtomRef of Si
    backend = BackendConfig(name=name, batch_size=1)
    config = RelaxConfig(relax_cell=False)
    # Fine at first, then 1,000 eV/atom below: the relaxation ends at that step, the energy kept for the record.
    monkeypatch.setattr("sccop.backends.make_evaluator", lambda *a, **k: scripted_evaluator([ref, ref - 1000.0]))
    result = relax(silicon(), backend, config)
    assert result.status == "failed" and "below the element reference" in result.reason and "hole" in result.reason
    assert result.steps == 1 and result.energy_per_atom == pytest.approx(ref - 1000.0)
    # A single point in the hole, one far above, one plausible (2.5 eV/atom below: kept).
    for shift, ok in ((-1000.0, False), (+100.0, False), (-2.5, True), (+20.0, True)):
        monkeypatch.setattr("sccop.backends.make_evaluator", lambda *a, s=shift, **k: scripted_evaluator([ref + s]))
        [point] = single_points([silicon()], backend, config)
        assert point.ok == ok, (shift, point.reason)
        assert point.energy_per_atom == pytest.approx(ref + shift)
    # Ending a relaxation far above fails it; a start far above that relaxes down does not.
    monkeypatch.setattr("sccop.backends.make_evaluator", lambda *a, **k: scripted_evaluator([ref + 100.0]))
    assert "above the element reference" in relax(silicon(), backend, config).reason
    monkeypatch.setattr("sccop.backends.make_evaluator", lambda *a, **k: scripted_evaluator([ref + 100.0, ref]))
    assert relax(silicon(), backend, config).ok
    # The guard off.
    off = RelaxConfig(relax_cell=False, max_energy_below_reference=0, max_energy_above_reference=0)
    monkeypatch.setattr("sccop.backends.make_evaluator", lambda *a, **k: scripted_evaluator([ref, ref - 1000.0]))
    assert relax(silicon(), backend, off).ok


@pytest.mark.parametrize("name", ["emt", "espresso"])
def test_the_energy_guard_leaves_other_backends_alone(monkeypatch, name):
    # DFT total energies (Quantum ESPRESSO's are hundreds of eV/atom below zero) and EMT's are on other scales.
    monkeypatch.setattr("sccop.backends.make_evaluator", lambda *a, **k: scripted_evaluator([-3000.0]))
    assert relax(silicon(), BackendConfig(name=name), RelaxConfig(relax_cell=False)).ok
    [point] = single_points([silicon()], BackendConfig(name=name))
    assert point.ok
    # A calculator given in place of the ML potential is not guarded either.
    monkeypatch.setattr("sccop.backends.make_evaluator", lambda *a, **k: scripted_evaluator([-3000.0]))
    assert relax(silicon(), BackendConfig(name="chgnet"), RelaxConfig(relax_cell=False), calculator=SpringCalculator(d0=2.4)).ok


def test_the_energy_guard_applies_only_on_the_pbe_scale(monkeypatch):
    from sccop.backends.element_energies import on_table_scale

    pbe = [BackendConfig(name="chgnet"), BackendConfig(name="sevennet"), BackendConfig(name="sevennet", model="7net-l3i5"),
           BackendConfig(name="sevennet", model="7net-mf-0", modal="PBE")]
    other = [BackendConfig(name="sevennet", model="7net-mf-0", modal="R2SCAN"), BackendConfig(name="sevennet", model="my.pth"),
             BackendConfig(name="gpaw"), BackendConfig(name="emt")]
    assert all(on_table_scale(b) for b in pbe) and not any(on_table_scale(b) for b in other)
    # 7net-mf-0's R2SCAN energies lie several eV/atom below the PBE table: not a hole.
    monkeypatch.setattr("sccop.backends.make_evaluator", lambda *a, **k: scripted_evaluator([-12.0]))
    r2scan = BackendConfig(name="sevennet", model="7net-mf-0", modal="R2SCAN", batch_size=1)
    assert relax(silicon(), r2scan, RelaxConfig(relax_cell=False)).ok
    monkeypatch.setattr("sccop.backends.make_evaluator", lambda *a, **k: scripted_evaluator([-12.0]))
    assert not relax(silicon(), BackendConfig(name="chgnet", batch_size=1), RelaxConfig(relax_cell=False)).ok


def test_relaxation_frames_leave_out_energies_above_the_ceiling(monkeypatch):
    from sccop.backends.element_energies import element_reference_per_atom

    ref = element_reference_per_atom([14])
    energies = [ref + 80.0, ref + 60.0, ref + 40.0, ref + 5.0, ref + 1.0, ref]
    monkeypatch.setattr("sccop.backends.make_evaluator", lambda *a, **k: scripted_evaluator(energies))
    # FIRE: the scripted forces never change, which BFGS's Hessian update cannot take (the test below).
    config = RelaxConfig(relax_cell=False, optimizer="fire")
    [result] = relax_many([silicon()], BackendConfig(name="chgnet", batch_size=1), config, frames=10)
    assert result.ok and result.steps == 5
    kept = [f["energy"] / 2 - ref for f in result.info["frames"]]
    assert kept == pytest.approx([5.0, 1.0, 0.0])  # +40 and +60 lie above 30; the start is never a frame


def test_an_optimizer_step_that_fails_ends_that_relaxation_with_its_reason_and_the_others_go_on(monkeypatch):
    """BFGS updates its Hessian from the change of the forces; forces that do not change between two steps
    break the update (numpy cannot diagonalise it). That relaxation is recorded as failed with the reason;
    the rest of the batch relaxes."""
    from ase.optimize import BFGS

    from sccop.backends.element_energies import element_reference_per_atom

    ref = element_reference_per_atom([14])
    monkeypatch.setattr("sccop.backends.make_evaluator",
                        lambda *a, **k: scripted_evaluator([ref + 0.3, ref + 0.2, ref + 0.1, ref]))
    bfgs = RelaxConfig(relax_cell=False, optimizer="bfgs")
    [result] = relax_many([silicon()], BackendConfig(name="chgnet", batch_size=1), bfgs)
    assert not result.ok and result.reason.startswith("optimizer step failed: ")
    assert result.energy == pytest.approx(2 * (ref + 0.2)) and result.steps == 1

    # In a batch, only the structure whose step fails ends there (the first step taken is the first
    # structure's: the batch steps in order).
    step, calls = BFGS.step, []

    def failing_step(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 1:
            raise np.linalg.LinAlgError("Eigenvalues did not converge")
        return step(self, *args, **kwargs)

    monkeypatch.setattr(BFGS, "step", failing_step)
    results = relax_many([rattled_copper(), rattled_copper()], EMT, RelaxConfig(fmax=0.05, optimizer="bfgs"))
    assert results[0].reason == "optimizer step failed: LinAlgError: Eigenvalues did not converge" and results[0].steps == 0
    assert results[1].ok and results[1].steps > 0
