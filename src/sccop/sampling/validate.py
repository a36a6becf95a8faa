"""Independent checks of sampled structures: composition, the distance rule, symmetry by spglib."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sccop.sampling.structure import SymmetricStructure


@dataclass(frozen=True)
class SymmetryCheck:
    """Whether spglib (at `symprec`) keeps every operation of the intended group, and what group it finds."""

    intended: int
    found: int  # spglib's space-group number of the conventional cell (3D numbering, also for layers)
    keeps_all_operations: bool
    n_intended: int  # operations of the intended group in the conventional cell
    n_found: int  # spglib's operations there (for a layer: those of its layer group)

    @property
    def is_supergroup(self) -> bool:
        """More operations than intended, all the intended ones included: a proper supergroup."""
        return self.keeps_all_operations and self.n_found > self.n_intended


def check_symmetry(structure: SymmetricStructure, symprec: float = 0.01) -> SymmetryCheck:
    """spglib's operations of the conventional cell must contain every operation of the intended group.

    Containing them all means spglib's group is the intended group or a supergroup of it. For a 2D
    layer the intended group is a layer group whose z = 0 is the cell's middle plane z = 1/2: its
    operations are compared in the cell's coordinates (a mirror z -> -z is z -> 1 - z there), and `found`
    is spglib's layer group.
    """
    import spglib

    lattice, symbols, frac = structure.conventional()
    numbers = [_atomic_number(s) for s in symbols]
    cell = (lattice, frac, numbers)
    group = structure.group
    if group.dim == 2:
        dataset = spglib.get_symmetry_layerdataset(cell, aperiodic_dir=2, symprec=symprec)
        rotations, translations = dataset.rotations, dataset.translations
    else:
        found = spglib.get_symmetry(cell, symprec=symprec)
        dataset = spglib.get_symmetry_dataset(cell, symprec=symprec)
        rotations, translations = found["rotations"], found["translations"]
    keeps = True
    for rot, trans in zip(group.rotations, group.translations):
        if group.dim == 2:  # the group's middle plane z = 0 sits at z = 1/2 of the cell
            trans = trans.copy()
            trans[2] = 0.5 - 0.5 * rot[2, 2]
        same_rot = np.all(rotations == rot, axis=(1, 2))
        if not same_rot.any():
            keeps = False
            break
        d = translations[same_rot] - trans
        d -= np.rint(d)
        # Lattice-vector differences in Cartesian terms, compared with spglib's own tolerance.
        if not (np.linalg.norm(d @ lattice, axis=1) < 4 * symprec).any():
            keeps = False
            break
    return SymmetryCheck(
        intended=group.number,
        found=int(dataset.number),
        keeps_all_operations=keeps,
        n_intended=len(group.rotations),
        n_found=len(rotations),
    )


def min_distance_ratio(atoms, factor_radii: dict[str, float]) -> float:
    """Smallest d_ij / (r_i + r_j) over all pairs within the cell and its images (ASE neighbour list)."""
    from ase.neighborlist import neighbor_list

    rmax = max(factor_radii.values())
    i, j, d = neighbor_list("ijd", atoms, 2 * rmax * 1.5 + 1.0, self_interaction=False)
    if len(d) == 0:
        return np.inf
    sym = atoms.get_chemical_symbols()
    r = np.array([factor_radii[s] for s in sym])
    return float((d / (r[i] + r[j])).min())


def _atomic_number(symbol: str) -> int:
    from ase.data import atomic_numbers

    return atomic_numbers[symbol]
