"""Real Quantum ESPRESSO (pw.x) runs on 2-atom silicon. Marker `dft`: `python -m pytest -m dft`."""

import dataclasses
import shutil

import pytest
from ase.build import bulk

from sccop.config import BackendConfig, RelaxConfig
from sccop.relaxation import relax, single_points

pytestmark = [
    pytest.mark.dft,
    pytest.mark.skipif(shutil.which("pw.x") is None, reason="pw.x is not installed (apt-get install quantum-espresso)"),
]

# Cheap but real settings: a low cutoff and a coarse k grid, enough to test the plumbing and the physics sign.
QE = BackendConfig(name="espresso", ecutwfc=20.0, kspacing=0.6, timeout_s=600)


def test_pw_x_single_point_on_silicon(tmp_path):
    backend = dataclasses.replace(QE, workdir=str(tmp_path))
    (result,) = single_points([bulk("Si", "diamond", a=5.43)], backend)
    assert result.ok, result.reason
    assert result.energy / 2 < -100  # Si pseudopotential total energies are about -155 eV/atom
    assert abs(result.forces).max() < 0.05  # diamond sites are fixed by symmetry
    assert result.stress.shape == (6,)
    assert list(tmp_path.glob("sccop-dft-*/espresso.pwo")), "the calculation folder holds pw.x's output"


def test_pw_x_short_relaxation_lowers_the_energy(tmp_path):
    backend = dataclasses.replace(QE, workdir=str(tmp_path))
    atoms = bulk("Si", "diamond", a=5.43)
    atoms.positions[1] += [0.08, -0.05, 0.03]
    (start,) = single_points([atoms], backend)
    result = relax(atoms, backend, RelaxConfig(fmax=0.05, steps=6, relax_cell=False))
    assert result.ok, result.reason
    assert result.steps >= 1 and result.energy < start.energy
