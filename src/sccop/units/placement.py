"""Symmetric crystals of rigid units and free atoms: sampling them and moving them.

A UnitCrystal is a group, a conventional lattice and its occupied orbits: each orbit is a unit (centred
on a Wyckoff position, in an orientation its site symmetry keeps; sccop.units.orientation) or a free
atom. `UnitSampler` draws them: a group among those with a Wyckoff assignment for the plan (units and
free atoms as pseudo-elements, sccop.symmetry.wyckoff) whose unit positions can seat the unit, with
probability in proportion to its point-group order^symmetry_bias as the atom-wise sampler, a lattice
of the group's system in the volume window of the atoms, points on the positions and orientations;
a draw is kept when atoms of different units (and free atoms) are at least `distance_factor` times the
sum of their covalent radii apart. `moved` makes the annealing moves: a unit or atom shifted along its
position's free directions, a unit turned (freely at a general position, about the site axis where one
is free), the cell scaled, two free atoms of different elements swapped.

`to_atoms` gives the primitive cell (ASE Atoms); each unit's atoms share a tag (1, 2, ...; free atoms
0), so relaxations can keep units rigid (sccop.relaxation, `rigid_units`) and a free relaxation can be
checked for whether they survived.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
from ase import Atoms

from sccop.composition import element_data, volume_window
from sccop.errors import NoWyckoffCombinationError
from sccop.sampling.lattice import sample_lattice
from sccop.symmetry.groups import GroupInfo, get_group, group_numbers, point_group_order
from sccop.symmetry.wyckoff import wyckoff_assignments
from sccop.units.library import Unit, UnitPlan
from sccop.units.orientation import (
    cartesian,
    distinct_axes,
    orientations,
    random_rotation,
    rotation_about,
    site_rotations,
)

# A lattice of each system on which a group's site symmetry is computed once, for the compatibility table.
_SAMPLE_CELLS = {
    "triclinic": [[5.0, 0, 0], [1.1, 5.5, 0], [0.9, 1.3, 6.1]],
    "monoclinic": [[5.0, 0, 0], [0, 5.5, 0], [1.3, 0, 6.1]],
    "orthorhombic": [[5.0, 0, 0], [0, 5.5, 0], [0, 0, 6.1]],
    "tetragonal": [[5.0, 0, 0], [0, 5.0, 0], [0, 0, 6.1]],
    "trigonal": [[5.0, 0, 0], [-2.5, 2.5 * 3**0.5, 0], [0, 0, 6.1]],
    "hexagonal": [[5.0, 0, 0], [-2.5, 2.5 * 3**0.5, 0], [0, 0, 6.1]],
    "cubic": [[5.0, 0, 0], [0, 5.0, 0], [0, 0, 5.0]],
}


@dataclass
class Orbit:
    kind: str  # a unit's name, or an element for a free atom
    wyckoff: int
    point: np.ndarray  # fractional representative point (conventional cell)
    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))  # unit frame -> Cartesian
    free_axis: np.ndarray | None = None  # the site axis a unit may still turn about
    general: bool = False  # a unit at a general position turns freely


@dataclass
class UnitCrystal:
    group: GroupInfo
    lattice: np.ndarray  # (3, 3) conventional cell, rows are the lattice vectors
    orbits: list[Orbit]

    def copy(self) -> "UnitCrystal":
        return UnitCrystal(self.group, self.lattice.copy(),
                           [replace(o, point=o.point.copy(), rotation=o.rotation.copy()) for o in self.orbits])

    def wyckoffs(self) -> str:
        return ",".join(f"{o.kind}@{self.group.wyckoffs[o.wyckoff].label}" for o in self.orbits)


def _system(group: GroupInfo) -> str:
    system = group.lattice_system.lower()
    return "hexagonal" if system in ("rhombohedral",) else system


def to_atoms(crystal: UnitCrystal, units: dict[str, Unit]) -> Atoms:
    """The primitive cell; each unit copy's atoms tagged 1, 2, ... (free atoms 0), kept whole around
    their centre. info: spacegroup (the group drawn), wyckoffs (`B12@a,B@h`)."""
    group, a = crystal.group, np.asarray(crystal.lattice, dtype=float)
    prim = group.to_primitive_matrix() @ a
    inv_prim = np.linalg.inv(prim)
    symbols: list[str] = []
    positions: list[np.ndarray] = []
    tags: list[int] = []
    tag = 0
    rot_cart = cartesian(group.rotations, a)
    for orbit in crystal.orbits:
        unit = units.get(orbit.kind)
        offsets = (unit.positions @ orbit.rotation.T) if unit is not None else np.zeros((1, 3))
        kinds = list(unit.symbols) if unit is not None else [orbit.kind]
        centres = np.einsum("kij,j->ki", group.rotations, orbit.point) + group.translations
        seen: list[np.ndarray] = []
        for k in range(len(centres)):
            centre_cart = (centres[k] % 1.0) @ a
            frac = centre_cart @ inv_prim
            frac = frac - np.floor(frac + 1e-9)
            if any(np.abs((frac - s) - np.round(frac - s)).max() < 1e-5 for s in seen):
                continue
            seen.append(frac)
            centre = frac @ prim
            copy = offsets @ rot_cart[k].T
            if unit is not None:
                tag += 1
            for symbol, offset in zip(kinds, copy):
                symbols.append(symbol)
                positions.append(centre + offset)
                tags.append(tag if unit is not None else 0)
    atoms = Atoms(symbols, positions=np.array(positions), cell=prim, pbc=True, tags=tags)
    atoms.info.update({"spacegroup": group.number, "wyckoffs": crystal.wyckoffs()})
    return atoms


def closest_ratio(atoms: Atoms, factor: float) -> float:
    """min over pairs of atoms not in the same unit copy (free atoms, other units, a unit's periodic images)
    of distance / (r_i + r_j), covalent radii."""
    from sccop.graph.crystal_graph import pairs_within

    radii = np.array([element_data(s).radius for s in atoms.get_chemical_symbols()])
    cutoff = 2.0 * float(radii.max()) + 1e-6
    frac = atoms.get_scaled_positions(wrap=True)
    i, j, d = pairs_within(np.asarray(atoms.cell[:], dtype=float), frac, np.ones(3, dtype=bool),
                           np.arange(len(atoms)), cutoff)
    tags = atoms.get_tags()
    # A unit's own atoms (kept whole, so at their direct distance) are exempt, its periodic images are not.
    direct = np.linalg.norm(atoms.positions[i] - atoms.positions[j], axis=1)
    same = (tags[i] > 0) & (tags[i] == tags[j]) & (np.abs(d - direct) < 1e-6)
    if same.all():
        return math.inf
    keep = ~same
    return float((d[keep] / (radii[i[keep]] + radii[j[keep]])).min())


class UnitSampler:
    """Samples UnitCrystals of one plan (units and free atoms per primitive cell) over the allowed groups."""

    def __init__(self, plan: UnitPlan, *, spacegroups=None, distance_factor: float = 0.7, volume_rule: str = "span",
                 seed: int = 0, symmetry_bias: float = 1.0):
        self.plan = plan
        self.units = {u.name: u for u, _ in plan.units}
        self.unit_ops = {u.name: u.operations() for u, _ in plan.units}
        self.unit_axes = {name: distinct_axes(ops) for name, ops in self.unit_ops.items()}
        self._orientations: dict[tuple, tuple] = {}  # (unit, site operations rounded) -> orientations(...)
        self.distance_factor = distance_factor
        counts: dict[str, int] = {}
        for unit, n in plan.units:
            for el, k in unit.counts.items():
                counts[el] = counts.get(el, 0) + k * n
        for el, n in plan.free:
            counts[el] = counts.get(el, 0) + n
        self.atom_counts = counts
        self.window = volume_window(counts, 3, volume_rule)
        kinds = {u.name: n for u, n in plan.units} | dict(plan.free)
        self.options: list[tuple[GroupInfo, list]] = []
        for number in spacegroups or group_numbers(3):
            group = get_group(int(number))
            conventional = {k: n * group.centring_factor for k, n in kinds.items()}
            assignments = [a for a in wyckoff_assignments(group, conventional, cap=64, seed=seed)
                           if all(self.seats(group, kind, w) for kind, w in a if kind in self.units)]
            if assignments:
                self.options.append((group, assignments))
        # Groups drawn by (point-group order)^symmetry_bias, as the atom-wise sampler draws them.
        weights = np.array([point_group_order(g) for g, _ in self.options], dtype=float) ** symmetry_bias
        self.group_probabilities = weights / weights.sum() if len(weights) else weights
        if not self.options:
            raise NoWyckoffCombinationError(f"{plan.describe()} fits no Wyckoff combination, with every unit on a "
                                            f"position whose site symmetry it has, in the allowed space groups")

    def seats(self, group: GroupInfo, kind: str, wyckoff: int) -> bool:
        return _seats(group.number, wyckoff, self.units[kind], self.unit_ops[kind].tobytes())

    def _orient(self, group: GroupInfo, orbit: Orbit, lattice: np.ndarray, rng) -> bool:
        """Pick the orbit's orientation on `lattice`; False when none keeps the site symmetry."""
        unit = self.units[orbit.kind]
        site = group.wyckoffs[orbit.wyckoff]
        ops = cartesian(site_rotations(group, site), lattice)
        if len(ops) == 1:
            orbit.rotation, orbit.general, orbit.free_axis = random_rotation(rng), True, None
            return True
        key = (orbit.kind, np.round(ops, 6).tobytes())
        if key not in self._orientations:
            self._orientations[key] = orientations(unit.positions, unit.symbols, self.unit_ops[orbit.kind], ops,
                                                   unit_axes=self.unit_axes[orbit.kind])
        found, axis = self._orientations[key]
        if not found:
            return False
        q = found[int(rng.integers(len(found)))]
        if axis is not None:
            q = rotation_about(axis, rng.uniform(0, 2 * np.pi)) @ q
        orbit.rotation, orbit.free_axis, orbit.general = q, axis, False
        return True

    def attempt(self, rng: np.random.Generator) -> UnitCrystal | None:
        group, assignments = self.options[int(rng.choice(len(self.options), p=self.group_probabilities))]
        assignment = assignments[int(rng.integers(len(assignments)))]
        lo, hi = self.window
        lattice = sample_lattice(_system(group), (lo * group.centring_factor, hi * group.centring_factor), rng).matrix()
        orbits = []
        for kind, w in assignment:
            site = group.wyckoffs[w]
            point = site.projection[:, :3] @ rng.random(3) + site.projection[:, 3]
            orbit = Orbit(kind=kind, wyckoff=w, point=point % 1.0)
            if kind in self.units and not self._orient(group, orbit, lattice, rng):
                return None
            orbits.append(orbit)
        crystal = UnitCrystal(group, np.asarray(lattice, dtype=float), orbits)
        return crystal if self.acceptable(crystal) else None

    def acceptable(self, crystal: UnitCrystal) -> bool:
        atoms = to_atoms(crystal, self.units)
        if len(atoms) != self.plan.atoms:
            return False  # two copies of a unit fell onto one another
        return closest_ratio(atoms, self.distance_factor) >= self.distance_factor

    def sample(self, n: int, rng: np.random.Generator, attempts: int = 200) -> list[UnitCrystal]:
        out = []
        for _ in range(n * attempts):
            if len(out) == n:
                break
            crystal = self.attempt(rng)
            if crystal is not None:
                out.append(crystal)
        return out

    def moved(self, crystal: UnitCrystal, rng: np.random.Generator, step: float = 0.3) -> UnitCrystal | None:
        """One annealing move (see the module docstring), or None when it breaks the distance rule or the
        site symmetry."""
        new = crystal.copy()
        lengths = np.linalg.norm(new.lattice, axis=1)
        kind = rng.random()
        movable = [o for o in new.orbits if new.group.wyckoffs[o.wyckoff].dof > 0]
        turnable = [o for o in new.orbits if o.kind in self.units and (o.general or o.free_axis is not None)]
        frees = [o for o in new.orbits if o.kind not in self.units]
        if kind < 0.4 and movable:
            o = movable[int(rng.integers(len(movable)))]
            site = new.group.wyckoffs[o.wyckoff]
            shifted = o.point + rng.normal(0.0, step, 3) / lengths
            o.point = (site.projection[:, :3] @ shifted + site.projection[:, 3]) % 1.0
        elif kind < 0.75 and turnable:
            o = turnable[int(rng.integers(len(turnable)))]
            angle = rng.normal(0.0, step)
            axis = o.free_axis if o.free_axis is not None else rng.normal(size=3)
            o.rotation = rotation_about(axis, angle) @ o.rotation
        elif kind < 0.9 or len({o.kind for o in frees}) < 2:
            new.lattice = new.lattice * (1.0 + rng.normal(0.0, 0.03))
        else:
            a, b = rng.choice(len(frees), 2, replace=False)
            if frees[a].kind == frees[b].kind or (new.group.wyckoffs[frees[a].wyckoff].multiplicity
                                                  != new.group.wyckoffs[frees[b].wyckoff].multiplicity):
                return None
            frees[a].kind, frees[b].kind = frees[b].kind, frees[a].kind
        return new if self.acceptable(new) else None


@lru_cache(maxsize=4096)
def _seats(number: int, wyckoff: int, unit: Unit, ops_key: bytes) -> bool:
    group = get_group(number)
    ops = np.frombuffer(ops_key).reshape(-1, 3, 3)
    cell = np.array(_SAMPLE_CELLS[_system(group)], dtype=float)
    site_ops = cartesian(site_rotations(group, group.wyckoffs[wyckoff]), cell)
    found, _ = orientations(unit.positions, unit.symbols, ops, site_ops, limit=1)
    return bool(found)


__all__ = ["Orbit", "UnitCrystal", "UnitSampler", "closest_ratio", "to_atoms"]
