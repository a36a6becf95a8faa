"""Fingerprints of structures, so that a stored row is never attached to another structure.

A row carries the fingerprint of the structure that defines it: the structure itself for a sampled or
annealed structure, the structure submitted to the backend for a call (its relaxed result may look
quite different). The fingerprint is a hash of the species, the cell and the wrapped fractional
coordinates, rounded so that a replay of the same computation gives the same string. Where two
fingerprints differ, `difference` compares the geometries themselves: drift below `TOLERANCE`
(Angstrom) is the same structure, anything else is described in a few words.
"""

from __future__ import annotations

import hashlib

import numpy as np
from ase import Atoms

TOLERANCE = 1e-4  # Angstrom: cell vectors or atoms further apart than this are another structure


def fingerprint(atoms: Atoms) -> str:
    """fp- and 16 hex digits of a hash of the species (in order), the cell and the wrapped fractional positions."""
    cell = np.round(np.asarray(atoms.cell.array, dtype=float), 4) + 0.0  # + 0.0: no negative zeros
    frac = np.round(atoms.get_scaled_positions(wrap=True), 5) % 1.0 + 0.0
    content = b"".join([np.asarray(atoms.numbers, dtype=np.int64).tobytes(), cell.tobytes(), frac.tobytes()])
    return "fp-" + hashlib.sha256(content).hexdigest()[:16]  # a prefix: ASE refuses strings that read as numbers


def geometry(atoms: Atoms) -> dict:
    """The JSON-able species, cell and positions of `atoms` (what a call row keeps of its input)."""
    return {"numbers": [int(n) for n in atoms.numbers], "cell": np.asarray(atoms.cell.array, dtype=float).tolist(),
            "positions": np.asarray(atoms.positions, dtype=float).tolist(), "pbc": [bool(p) for p in atoms.pbc]}


def from_geometry(data: dict) -> Atoms:
    return Atoms(numbers=data["numbers"], cell=data["cell"], positions=data["positions"], pbc=data.get("pbc", True))


def difference(stored: Atoms, new: Atoms, tolerance: float = TOLERANCE) -> str | None:
    """What differs between two structures, in a few words; None when they agree within `tolerance`."""
    if len(stored) != len(new) or sorted(stored.numbers) != sorted(new.numbers):
        return (f"{stored.get_chemical_formula()} ({len(stored)} atoms) is stored, "
                f"{new.get_chemical_formula()} ({len(new)} atoms) now")
    if list(stored.numbers) != list(new.numbers):
        return f"the atoms of {new.get_chemical_formula()} come in another order"
    cell_shift = float(np.abs(np.asarray(stored.cell.array) - np.asarray(new.cell.array)).max())
    if cell_shift > tolerance:
        old_len, new_len = stored.cell.lengths(), new.cell.lengths()
        return (f"the cell differs by up to {cell_shift:.3g} A (lengths {' '.join(f'{x:.3f}' for x in old_len)} "
                f"stored, {' '.join(f'{x:.3f}' for x in new_len)} now)")
    frac = new.get_scaled_positions(wrap=False) - stored.get_scaled_positions(wrap=False)
    periodic = np.asarray(new.pbc, dtype=bool)
    frac[:, periodic] -= np.round(frac[:, periodic])
    shifts = np.linalg.norm(frac @ np.asarray(new.cell.array), axis=1)
    if len(shifts) and shifts.max() > tolerance:
        k = int(np.argmax(shifts))
        return f"atom {k} ({new.get_chemical_symbols()[k]}) sits {shifts[k]:.3g} A away from where it was"
    return None


__all__ = ["TOLERANCE", "fingerprint", "geometry", "from_geometry", "difference"]
