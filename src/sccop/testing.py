"""Small calculators and structures reused by the tests: cheap, deterministic, each failing on purpose."""

from __future__ import annotations

import time

import numpy as np
from ase.calculators.calculator import Calculator, all_changes


class _Base(Calculator):
    implemented_properties = ["energy", "forces", "stress"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = self.compute(self.atoms)

    def compute(self, atoms):
        raise NotImplementedError


class NaNCalculator(_Base):
    """Returns a NaN energy."""

    def compute(self, atoms):
        return {"energy": float("nan"), "forces": np.zeros((len(atoms), 3)), "stress": np.zeros(6)}


class RaisingCalculator(_Base):
    """Raises RuntimeError('boom') on every call."""

    def compute(self, atoms):
        raise RuntimeError("boom")


class SleepingCalculator(_Base):
    """Sleeps `seconds` before answering (to outlast a timeout)."""

    def __init__(self, seconds: float = 30.0, **kw):
        super().__init__(**kw)
        self.seconds = seconds

    def compute(self, atoms):
        time.sleep(self.seconds)
        return {"energy": 0.0, "forces": np.zeros((len(atoms), 3)), "stress": np.zeros(6)}


class CollapsingCalculator(_Base):
    """Harmonic attraction of every atom to every other (E = k sum d^2): relaxing pulls them together."""

    def compute(self, atoms):
        pos = atoms.positions
        diff = pos[:, None, :] - pos[None, :, :]
        energy = float((diff**2).sum()) / 2
        forces = -2 * diff.sum(axis=1)
        return {"energy": energy, "forces": forces, "stress": np.zeros(6)}


class SpringCalculator(_Base):
    """Springs between every pair (E = k sum (d - d0)^2, positions as given, no images): relaxing draws
    the atoms to d0 apart, e.g. an unphysically short bond that no absolute distance guard catches."""

    def __init__(self, d0: float = 1.0, k: float = 5.0, **kw):
        super().__init__(**kw)
        self.d0, self.k = d0, k

    def compute(self, atoms):
        diff = atoms.positions[:, None, :] - atoms.positions[None, :, :]
        d = np.linalg.norm(diff, axis=-1)
        np.fill_diagonal(d, self.d0)
        stretch = d - self.d0
        energy = float(self.k * (stretch**2).sum() / 2)
        forces = -(2 * self.k * (stretch / d)[:, :, None] * diff).sum(axis=1)
        return {"energy": energy, "forces": forces, "stress": np.zeros(6)}


class ExpandingCalculator(_Base):
    """E = -c V: a constant tensile stress, so the cell filter keeps growing the cell."""

    def __init__(self, c: float = 0.5, **kw):
        super().__init__(**kw)
        self.c = c

    def compute(self, atoms):
        v = atoms.get_volume()
        return {"energy": -self.c * v, "forces": np.zeros((len(atoms), 3)), "stress": np.array([-self.c] * 3 + [0.0] * 3)}


def sometimes_failing(share: int = 4):
    """atoms -> calculator: RaisingCalculator for about one structure in `share` (decided by its volume),
    ASE's EMT for the rest; deterministic, so a resumed run sees the same failures."""
    from ase.calculators.emt import EMT

    def make(atoms):
        return RaisingCalculator() if int(atoms.get_volume() * 1000) % share == 0 else EMT()

    return make


class DoubleWellCalculator(_Base):
    """Two atoms whose separation from the body-centre position, d, has the energy k (|d|^2 - d0^2)^2: the
    centred (CsCl-type, Pm-3m) arrangement is a maximum, k d0^4 above the off-centred minimum at
    |d| = d0 (a ferroelectric-like double well, P4mm when displaced along an axis). Positions only: the
    stress is zero, so relax with relax_cell=False."""

    def __init__(self, k: float = 12.5, d0: float = 0.2, **kw):
        super().__init__(**kw)
        self.k, self.d0 = k, d0

    def compute(self, atoms):
        frac = atoms.get_scaled_positions(wrap=False)
        f = frac[1] - frac[0] - 0.5
        f -= np.round(f)
        d = f @ atoms.cell[:]
        u = d @ d - self.d0**2
        force = -4.0 * self.k * u * d  # on atom 1; atom 0 feels the opposite
        return {"energy": float(self.k * u * u), "forces": np.array([-force, force]), "stress": np.zeros(6)}


def put_relaxed(store, uid: str, atoms, energy_per_atom: float, **values) -> None:
    """Plant a relaxation row (stage relax, status ok, a backend call) with the given energy per atom."""
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = atoms.copy()
    atoms.calc = SinglePointCalculator(atoms, energy=energy_per_atom * len(atoms))
    store.put(uid, atoms, stage="relax", status="ok", energy_per_atom=energy_per_atom, backend_call=1, **values)
