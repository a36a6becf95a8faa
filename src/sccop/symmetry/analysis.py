"""Symmetry of finished structures and structure matching: the one place that builds pymatgen's
SpacegroupAnalyzer and StructureMatcher.

Every function takes ASE `Atoms` (or, for matching, pymatgen Structures made by `to_structure`) and
never raises on a cell spglib cannot analyse: P1 (order 1) is then the honest answer.
"""

from __future__ import annotations

from ase import Atoms

# The tolerance (Angstrom) at which a structure's space group is reported and scored, as CSPBench does.
REPORT_SYMPREC = 0.1


def to_structure(atoms: Atoms):
    """The pymatgen Structure of `atoms`."""
    from pymatgen.io.ase import AseAtomsAdaptor

    return AseAtomsAdaptor.get_structure(atoms)


def to_atoms(structure) -> Atoms:
    """The ASE Atoms of a pymatgen Structure."""
    from pymatgen.io.ase import AseAtomsAdaptor

    return AseAtomsAdaptor.get_atoms(structure)


def _analyzer(structure, symprec: float):
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    return SpacegroupAnalyzer(structure, symprec=symprec)


def spacegroup(atoms: Atoms, symprec: float = REPORT_SYMPREC) -> int:
    """The space-group number of `atoms` at `symprec`; 1 when spglib fails on the cell."""
    try:
        return int(_analyzer(to_structure(atoms), symprec).get_space_group_number())
    except Exception:  # noqa: BLE001 - spglib can fail on broken cells; P1 is then the honest answer
        return 1


def spacegroup_and_symbol(atoms: Atoms, symprec: float = REPORT_SYMPREC) -> tuple[int, str]:
    """(number, Hermann-Mauguin symbol) of `atoms` at `symprec`; (1, "P1") when spglib fails."""
    try:
        sga = _analyzer(to_structure(atoms), symprec)
        return int(sga.get_space_group_number()), sga.get_space_group_symbol()
    except Exception:  # noqa: BLE001
        return 1, "P1"


def group_symbol(number: int) -> str:
    """The Hermann-Mauguin symbol of space group `number` as pymatgen writes it (P6_3/mmc), as
    `spacegroup_and_symbol` reports it."""
    from pymatgen.symmetry.groups import SpaceGroup

    return SpaceGroup.from_int_number(int(number)).symbol


def point_group_order(atoms: Atoms, symprec: float = 0.01) -> int:
    """Number of point-group operations of a structure (1 for P1, 48 for m-3m); 1 when spglib fails."""
    try:
        return len(_analyzer(to_structure(atoms), symprec).get_point_group_operations())
    except Exception:  # noqa: BLE001 - spglib fails on broken cells
        return 1


def conventional_cell(atoms: Atoms, symprec: float = REPORT_SYMPREC) -> Atoms:
    """The conventional standard cell of `atoms`; `atoms` itself when spglib fails."""
    try:
        return to_atoms(_analyzer(to_structure(atoms), symprec).get_conventional_standard_structure())
    except Exception:  # noqa: BLE001 - the cell as written is still a valid picture
        return atoms


def symmetrized_cif(atoms: Atoms, symprec: float = REPORT_SYMPREC) -> str:
    """A CIF of the symmetrised conventional cell with its space group, symmetry operations and the
    asymmetric unit (pymatgen's CifWriter); a P1 CIF of the cell as it is when spglib fails."""
    from pymatgen.io.cif import CifWriter

    structure = to_structure(atoms)
    try:
        return str(CifWriter(structure, symprec=symprec))
    except Exception:  # noqa: BLE001
        return str(CifWriter(structure))


def primitive_cell(atoms: Atoms, symprec: float = REPORT_SYMPREC) -> Atoms:
    """The symmetrised standard primitive cell; `atoms` itself when spglib fails."""
    try:
        return to_atoms(_analyzer(to_structure(atoms), symprec).get_primitive_standard_structure())
    except Exception:  # noqa: BLE001
        return atoms


def conventional_seed(atoms: Atoms, atoms_per_formula: int):
    """(space group, formula units per primitive cell, conventional lattice as cellpar_to_cell rows) of a
    relaxed structure, symmetrised at 0.1 A: the lattice a later round samples on. None when spglib fails."""
    from ase.geometry import cell_to_cellpar, cellpar_to_cell

    try:
        sga = _analyzer(to_structure(atoms), REPORT_SYMPREC)
        conventional = sga.get_conventional_standard_structure()
        primitive = sga.find_primitive()
    except Exception:  # noqa: BLE001
        return None
    z = len(primitive) // atoms_per_formula
    return sga.get_space_group_number(), z, cellpar_to_cell(cell_to_cellpar(conventional.lattice.matrix))


def wyckoff_orbits(atoms: Atoms, symprec: float = REPORT_SYMPREC):
    """(space group, [(element, Wyckoff label such as 4a), one per orbit]) of a structure's conventional
    standard cell at `symprec`; None when spglib fails."""
    from collections import Counter

    try:
        conventional = _analyzer(to_structure(atoms), symprec).get_conventional_standard_structure()
        sga = _analyzer(conventional, 1e-3)
        data = sga.get_symmetry_dataset()
    except Exception:  # noqa: BLE001
        return None
    sizes = Counter(int(e) for e in data.equivalent_atoms)
    orbits = [(conventional[i].specie.symbol, f"{sizes[i]}{data.wyckoffs[i]}") for i in sorted(sizes)]
    return sga.get_space_group_number(), orbits


def symmetrized_versions(atoms: Atoms, tolerances) -> list[tuple[float, int, Atoms]]:
    """(tolerance, space group, refined primitive structure) for each tolerance that finds a space group
    not found at a smaller one; the group at the smallest tolerance (the structure's own) is left out."""
    structure = to_structure(atoms)
    seen: set[int] = set()
    out = []
    for k, tol in enumerate(sorted(tolerances)):
        try:
            sga = _analyzer(structure, tol)
            number = sga.get_space_group_number()
            if number in seen or k == 0:
                seen.add(number)
                continue
            seen.add(number)
            refined = sga.get_refined_structure()
            primitive = _analyzer(refined, 1e-3).get_primitive_standard_structure()
        except Exception:  # noqa: BLE001 - spglib gives up on some cells at some tolerances
            continue
        if primitive.composition.reduced_composition != structure.composition.reduced_composition:
            continue
        out.append((tol, number, to_atoms(primitive)))
    return out


def matcher():
    """pymatgen's StructureMatcher at its defaults (ltol 0.2, stol 0.3, angle_tol 5, scaled volumes): the
    tolerances CSPBench scores with, and what decides which structures of a run are one candidate."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    return StructureMatcher()


def merge_duplicates(items: list, structure_of, match=None, limit: int | None = None) -> list[list]:
    """Groups of equivalent items (`match`, default `matcher()`), in the order of their first member;
    `items` should come lowest energy first, so each group's first member is its lowest. `structure_of`:
    item -> pymatgen Structure. `limit`: most groups; later items only join the groups already there."""
    match = match or matcher()
    groups: list[list] = []
    reps: list = []
    for item in items:
        s = structure_of(item)
        for group, rep in zip(groups, reps):
            if match.fit(s, rep):
                group.append(item)
                break
        else:
            if limit is None or len(groups) < limit:
                groups.append([item])
                reps.append(s)
    return groups


__all__ = ["wyckoff_orbits", "REPORT_SYMPREC", "to_structure", "to_atoms", "spacegroup", "spacegroup_and_symbol", "group_symbol",
           "point_group_order",
           "conventional_cell", "symmetrized_cif", "primitive_cell", "conventional_seed", "symmetrized_versions", "matcher", "merge_duplicates"]
