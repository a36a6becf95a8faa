"""Rigid units: clusters and molecules that a search places whole (SCCOP's boron study, molecular crystals).

A unit is named by a spec: a built-in cluster (`B12`, the icosahedron of boron's structures), a structure
file (xyz, extxyz, any ASE format), one of ASE's g2 molecules (`CO2`, `CH3NH2`, ...) or a molecule of
PyXtal's collection. `parse_units("B12:2", composition)` splits a composition into units and free atoms:
`B28` with `B12:2` is two icosahedra and four free B; without a count, as many units as the composition
holds. A unit's point-group operations come from pymatgen's PointGroupAnalyzer; sccop.units.orientation
uses them to seat a unit on a Wyckoff position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from sccop.errors import SccopInputError
from sccop.units.orientation import rotation_about

# B-B distance along an edge of boron's icosahedron: 1.70-1.80 A in alpha-B12 (1.77 mean, Decker & Kasper 1959).
B12_EDGE = 1.77


def icosahedron(symbol: str = "B", edge: float = B12_EDGE) -> Atoms:
    """A regular icosahedron of `symbol` atoms centred at the origin, with the given edge length."""
    phi = (1.0 + 5.0**0.5) / 2.0
    points = []
    for a in (-1.0, 1.0):
        for b in (-phi, phi):
            points += [(0.0, a, b), (a, b, 0.0), (b, 0.0, a)]
    points = np.array(points)
    return Atoms(symbol * 12, positions=points * edge / 2.0)


BUILTIN = {"B12": icosahedron}


@dataclass(frozen=True)
class Unit:
    """A rigid group of atoms, centred on its centroid (Cartesian positions in A)."""

    name: str
    symbols: tuple[str, ...]
    positions: np.ndarray = field(compare=False)

    @property
    def size(self) -> int:
        return len(self.symbols)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.symbols:
            out[s] = out.get(s, 0) + 1
        return out

    @property
    def linear(self) -> bool:
        if self.size < 3:
            return True
        centred = self.positions - self.positions.mean(axis=0)
        return bool(np.linalg.svd(centred, compute_uv=False)[1] < 1e-3)

    @property
    def radius(self) -> float:
        """The largest distance of an atom from the centroid (A)."""
        return float(np.linalg.norm(self.positions, axis=1).max()) if self.size > 1 else 0.0

    def atoms(self) -> Atoms:
        return Atoms(list(self.symbols), positions=self.positions.copy())

    def operations(self, tolerance: float = 0.1) -> np.ndarray:
        """(K, 3, 3) Cartesian point-group operations of the unit (pymatgen's PointGroupAnalyzer); a linear
        unit gets a finite set that holds its axis' 2-, 3-, 4- and 6-fold rotations and their products."""
        from pymatgen.core import Molecule
        from pymatgen.symmetry.analyzer import PointGroupAnalyzer

        if self.size == 1:
            return _full_point_group()
        molecule = Molecule(list(self.symbols), self.positions)
        ops = [op.rotation_matrix for op in PointGroupAnalyzer(molecule, tolerance=tolerance).get_symmetry_operations()]
        ops = np.array(ops) if ops else np.eye(3)[None]
        if self.linear:
            ops = _linear_operations(self.positions, ops)
        return ops


def _full_point_group() -> np.ndarray:
    """A single atom is symmetric under every rotation: any site suits it (the identity stands for all)."""
    return np.eye(3)[None]


def _linear_operations(positions: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """A linear unit's operations closed under the n-fold rotations about its axis that crystals use."""
    centred = positions - positions.mean(axis=0)
    axis = centred[np.argmax(np.linalg.norm(centred, axis=1))]
    axis = axis / np.linalg.norm(axis)
    extra = [rotation_about(axis, 2 * np.pi * k / n) for n in (2, 3, 4, 6) for k in range(1, n)]
    normal = np.cross(axis, [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 else [0.0, 1.0, 0.0])
    normal /= np.linalg.norm(normal)
    extra.append(np.eye(3) - 2 * np.outer(normal, normal))  # a mirror that holds the axis
    if _centrosymmetric(centred):
        extra.append(2 * np.outer(normal, normal) - np.eye(3))  # a half-turn across the axis
    out = list(ops) + extra
    changed = True
    while changed:  # close under products (a small group: at most a few dozen operations)
        changed = False
        for a in list(out):
            for b in list(out):
                c = a @ b
                if not any(np.allclose(c, d, atol=1e-6) for d in out):
                    out.append(c)
                    changed = True
        if len(out) > 200:
            break
    return np.array(out)


def _centrosymmetric(centred: np.ndarray, tolerance: float = 0.05) -> bool:
    d = np.linalg.norm(-centred[:, None, :] - centred[None, :, :], axis=2)
    return bool((d.min(axis=1) < tolerance).all())


def load_unit(spec: str) -> Unit:
    """A unit from its spec: built-in name, structure file, ASE g2 molecule or PyXtal collection molecule."""
    name = spec.strip()
    if not name:
        raise SccopInputError("empty unit name")
    if name in BUILTIN:
        atoms = BUILTIN[name]()
    elif Path(name).is_file():
        from ase.io import read

        try:
            atoms = read(name)
        except Exception as exc:  # noqa: BLE001 - any reader error is a bad input file
            raise SccopInputError(f"unit file {name}: cannot read it ({exc})") from None
        name = Path(name).stem
    else:
        atoms = _named_molecule(name)
    if len(atoms) == 0:
        raise SccopInputError(f"unit {spec!r} has no atoms")
    positions = atoms.positions - atoms.positions.mean(axis=0)
    return Unit(name=name, symbols=tuple(atoms.get_chemical_symbols()), positions=positions)


def _named_molecule(name: str) -> Atoms:
    from ase.build import molecule
    from ase.collections import g2

    if name in g2.names:
        return molecule(name)
    try:
        import warnings

        from pyxtal.molecule import pyxtal_molecule

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mol = pyxtal_molecule(name).mol
        return Atoms([str(s) for s in mol.species], positions=mol.cart_coords)
    except Exception:  # noqa: BLE001 - not in PyXtal's collection either: say what is known
        builtin = ", ".join(BUILTIN)
        raise SccopInputError(f"unknown unit {name!r}: not a built-in cluster ({builtin}), a file, one of ASE's g2 "
                              f"molecules (e.g. CO2, H2O, CH3NH2) or a molecule of PyXtal's collection") from None


@dataclass(frozen=True)
class UnitPlan:
    """How one cell's atoms split: `units` (unit, copies) and the `free` atoms left (element -> count)."""

    units: tuple[tuple[Unit, int], ...]
    free: tuple[tuple[str, int], ...]

    @property
    def atoms(self) -> int:
        return sum(u.size * n for u, n in self.units) + sum(n for _, n in self.free)

    def describe(self) -> str:
        parts = [f"{n} x {u.name}" for u, n in self.units] + [f"{n} {el}" for el, n in self.free]
        return " + ".join(parts)


def parse_units(text: str, counts: dict[str, int]) -> UnitPlan:
    """Split a cell's atoms (`counts`: element -> atoms in the cell) into units and free atoms.

    `text`: comma-separated specs, each `NAME` (as many copies as fit) or `NAME:N`."""
    if not text or not text.strip():
        raise SccopInputError("no units given (e.g. --units B12 or --units \"B12:2\")")
    left = dict(counts)
    units = []
    for part in text.split(","):
        name, _, number = part.strip().partition(":")
        unit = load_unit(name)
        need = unit.counts
        missing = [el for el in need if el not in left]
        if missing:
            raise SccopInputError(f"unit {unit.name} holds {', '.join(missing)}, which the composition does not")
        fit = min(left[el] // k for el, k in need.items())
        if number.strip():
            try:
                n = int(number)
            except ValueError:
                raise SccopInputError(f"unit count in {part.strip()!r} is not a whole number") from None
            if n < 1:
                raise SccopInputError(f"unit count in {part.strip()!r} must be at least 1")
            if n > fit:
                have = ", ".join(f"{left[el]} {el}" for el in need)
                raise SccopInputError(f"{n} x {unit.name} need {', '.join(f'{k * n} {el}' for el, k in need.items())}; "
                                      f"the cell has {have} left")
        else:
            n = fit
            if n == 0:
                raise SccopInputError(f"the composition holds no whole {unit.name} unit")
        for el, k in need.items():
            left[el] -= k * n
        units.append((unit, n))
    free = tuple((el, n) for el, n in left.items() if n > 0)
    return UnitPlan(units=tuple(units), free=free)


__all__ = ["B12_EDGE", "BUILTIN", "Unit", "UnitPlan", "icosahedron", "load_unit", "parse_units"]
