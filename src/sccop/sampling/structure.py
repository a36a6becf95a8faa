"""The sampler's structure representation and its expansion to ASE / pymatgen objects.

A SymmetricStructure is (lattice, group, orbits), each orbit an element on one site of the group's
asymmetric-unit grid. Moving an orbit to another site, or swapping the elements of two orbits, is a
new tuple of orbits on the same grid: nothing else is rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sccop.symmetry.grid import SymmetryGrid


@dataclass(frozen=True)
class Orbit:
    """One occupied Wyckoff orbit: an element on grid site `site` (an index into the grid's sites)."""

    element: str
    site: int


@dataclass(frozen=True, eq=False)
class SymmetricStructure:
    """A crystal kept as lattice + group + occupied orbits on a symmetry grid (conventional cell)."""

    grid: SymmetryGrid
    lattice: np.ndarray  # (3, 3) conventional cell vectors as rows, Angstrom
    orbits: tuple[Orbit, ...]

    @property
    def group(self):
        return self.grid.group

    @property
    def spacegroup(self) -> int:
        return self.grid.group.number

    def wyckoff_label(self, i: int) -> str:
        grid = self.grid
        return grid.group.wyckoffs[int(grid.site_wyckoff[self.orbits[i].site])].label

    def wyckoff_labels(self) -> list[str]:
        return [self.wyckoff_label(i) for i in range(len(self.orbits))]

    def family(self) -> tuple:
        """(space group, sorted (element, Wyckoff letter) pairs): the Wyckoff assignment this structure is one
        arrangement of (a lower bound on sameness: an origin shift can rename letters)."""
        return (self.spacegroup, tuple(sorted((o.element, self.wyckoff_label(i)) for i, o in enumerate(self.orbits))))

    def multiplicities(self) -> np.ndarray:
        return np.array([self.grid.site_multiplicity[o.site] for o in self.orbits])

    def with_site(self, i: int, site: int) -> SymmetricStructure:
        """The structure with orbit `i` moved to grid site `site`."""
        orbits = list(self.orbits)
        orbits[i] = Orbit(orbits[i].element, int(site))
        return replace(self, orbits=tuple(orbits))

    def with_swapped_elements(self, i: int, j: int) -> SymmetricStructure:
        """The structure with the elements of orbits `i` and `j` exchanged."""
        orbits = list(self.orbits)
        orbits[i], orbits[j] = Orbit(orbits[j].element, orbits[i].site), Orbit(orbits[i].element, orbits[j].site)
        return replace(self, orbits=tuple(orbits))

    def conventional(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """(lattice, symbols, fractional coordinates) of the whole conventional cell."""
        symbols: list[str] = []
        coords = []
        for orbit in self.orbits:
            pts = self.grid.site_points(orbit.site)
            coords.append(self.grid.frac_coords(pts))
            symbols.extend([orbit.element] * len(pts))
        return self.lattice, symbols, np.concatenate(coords)

    def primitive(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """(lattice, symbols, fractional coordinates) of the primitive cell of the group's centring."""
        lattice, symbols, frac = self.conventional()
        to_prim = self.grid.group.to_primitive_matrix()
        if self.grid.group.centring == "P":
            return lattice, symbols, frac
        prim_lattice = to_prim @ lattice
        prim_frac = frac @ np.linalg.inv(to_prim)
        prim_frac[:, :2] %= 1.0
        if self.grid.periodic_z:
            prim_frac[:, 2] %= 1.0
        # Centring-equivalent atoms land on the same primitive coordinates: keep one of each.
        key = np.round(prim_frac, 6) % 1.0
        key[np.isclose(key, 1.0)] = 0.0
        _, first = np.unique(key, axis=0, return_index=True)
        first = np.sort(first)
        return prim_lattice, [symbols[i] for i in first], prim_frac[first]

    def to_atoms(self, *, primitive: bool = True, info: dict | None = None):
        """An ASE Atoms (periodic in 3D; pbc (True, True, False) for a 2D layer)."""
        from ase import Atoms

        lattice, symbols, frac = self.primitive() if primitive else self.conventional()
        pbc = True if self.grid.periodic_z else (True, True, False)
        atoms = Atoms(symbols=symbols, scaled_positions=frac, cell=lattice, pbc=pbc)
        atoms.info.update(self.describe())
        if info:
            atoms.info.update(info)
        return atoms

    def to_structure(self, *, primitive: bool = True):
        """A pymatgen Structure."""
        from pymatgen.core import Lattice, Structure

        lattice, symbols, frac = self.primitive() if primitive else self.conventional()
        return Structure(Lattice(lattice), symbols, frac)

    def describe(self) -> dict:
        """Info keys carried by every written structure."""
        group = self.grid.group
        out = {
            "spacegroup": group.number,
            "symbol": group.symbol,
            "wyckoffs": ",".join(self.wyckoff_labels()),
            "elements": ",".join(o.element for o in self.orbits),
            "dim": group.dim,
        }
        return out
