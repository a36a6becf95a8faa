"""Symmetry of finished structures and structure matching: the one place that builds pymatgen's
SpacegroupAnalyzer and StructureMatcher.

Every function takes ASE `Atoms` (or, for matching, pymatgen Structures made by `to_structure`) and
never raises on a cell spglib cannot analyse: P1 (order 1) is then the honest answer.

A layer (`is_layer`: pbc (True, True, False), c its normal, with vacuum) is reported in its layer group
(spglib's layer dataset, 1-80, the numbering PyXtal samples in), in the cell it has: symmetrising keeps
its orientation (ASE's refine_symmetry), so c stays the normal and the vacuum stays along it. For
matching and for the operations it is the 3D cell it sits in (periodic along c too, the vacuum keeping
the images apart), whose space group holds exactly the layer group's operations.
"""

from __future__ import annotations

from functools import lru_cache

from ase import Atoms

# The tolerance (Angstrom) at which a structure's space group is reported and scored, as CSPBench does.
REPORT_SYMPREC = 0.1


def is_layer(atoms: Atoms) -> bool:
    """A 2D layer: periodic along a and b, not along c (the layer normal, with vacuum)."""
    return [bool(p) for p in atoms.pbc] == [True, True, False]


def as_layer(atoms, height: float):
    """`atoms` as a layer (pbc True, True, False) whose normal is c: the atoms re-centred at half of a c of
    `height` Angstrom, perpendicular to a and b. Refuses a structure that is not a layer along c."""
    import numpy as np

    from sccop.errors import SccopInputError

    cell = np.asarray(atoms.cell.array, dtype=float)
    if abs(cell[0, 2]) > 1e-6 or abs(cell[1, 2]) > 1e-6:
        raise SccopInputError("a layer's a and b must lie in the xy plane (c is the layer normal)")
    z = atoms.positions[:, 2].copy()
    if atoms.pbc[2] and len(z) > 1:  # a layer read from a 3D file may be cut by the cell's face: join it up
        c = float(cell[2, 2])
        order = np.sort(z % c)
        gaps = np.diff(np.concatenate([order, [order[0] + c]]))
        cut = order[(int(np.argmax(gaps)) + 1) % len(order)]  # the lowest atom above the widest gap
        z = (z - cut) % c + cut
    thickness = float(z.max() - z.min())
    if thickness >= height:
        raise SccopInputError(f"the layer is {thickness:.2f} A thick, not less than its cell height {height:.2f} A")
    positions = atoms.positions.copy()
    positions[:, 2] = z + 0.5 * height - 0.5 * (z.max() + z.min())
    new_cell = cell.copy()
    new_cell[2] = [0.0, 0.0, height]
    out = Atoms(numbers=atoms.numbers, positions=positions, cell=new_cell, pbc=(True, True, False))
    out.wrap()
    return out


def to_structure(atoms: Atoms):
    """The pymatgen Structure of `atoms`; a layer as the 3D cell it sits in (periodic, vacuum along c)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    if is_layer(atoms):
        atoms = atoms.copy()
        atoms.pbc = True
    return AseAtomsAdaptor.get_structure(atoms)


def _layer_dataset(atoms: Atoms, symprec: float):
    """spglib's layer-group dataset of a layer (c aperiodic), the layer centred in c first; None when
    spglib fails."""
    import numpy as np
    import spglib

    frac = atoms.get_scaled_positions(wrap=False)
    frac[:, :2] %= 1.0
    frac[:, 2] += 0.5 - 0.5 * (frac[:, 2].min() + frac[:, 2].max())
    try:
        return spglib.get_symmetry_layerdataset((atoms.cell.array, frac, atoms.numbers), aperiodic_dir=2,
                                                symprec=symprec)
    except Exception:  # noqa: BLE001
        return None


def layer_group_symbol(number: int) -> str:
    """The symbol of layer group `number` (PyXtal's, as sccop samples it: p6/mmm)."""
    import warnings

    from pyxtal.symmetry import Group

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Group(int(number), dim=2).symbol


def symmetrized_layer(atoms: Atoms, symprec: float = 0.1) -> Atoms:
    """A layer symmetrised at `symprec` in its own orientation (ASE's refine_symmetry, on the 3D cell it
    sits in); `atoms` itself when spglib fails."""
    from ase.spacegroup.symmetrize import refine_symmetry

    out = atoms.copy()
    out.pbc = True
    try:
        refine_symmetry(out, symprec=symprec)
    except Exception:  # noqa: BLE001
        return atoms.copy()
    out.pbc = atoms.pbc
    return out


def to_atoms(structure) -> Atoms:
    """The ASE Atoms of a pymatgen Structure."""
    from pymatgen.io.ase import AseAtomsAdaptor

    return AseAtomsAdaptor.get_atoms(structure)


def _analyzer(structure, symprec: float):
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    return SpacegroupAnalyzer(structure, symprec=symprec)


def spacegroup(atoms: Atoms, symprec: float = REPORT_SYMPREC) -> int:
    """The space-group number of `atoms` at `symprec` (a layer's layer-group number); 1 when spglib fails."""
    if is_layer(atoms):
        data = _layer_dataset(atoms, symprec)
        return 1 if data is None else int(data.number)
    try:
        return int(_analyzer(to_structure(atoms), symprec).get_space_group_number())
    except Exception:  # noqa: BLE001 - spglib can fail on broken cells; P1 is then the honest answer
        return 1


def spacegroup_and_symbol(atoms: Atoms, symprec: float = REPORT_SYMPREC) -> tuple[int, str]:
    """(number, Hermann-Mauguin symbol) of `atoms` at `symprec` (a layer's layer group: (80, "p6/mmm"));
    (1, "P1") or (1, "p1") when spglib fails."""
    if is_layer(atoms):
        number = spacegroup(atoms, symprec)
        return number, layer_group_symbol(number)
    try:
        sga = _analyzer(to_structure(atoms), symprec)
        return int(sga.get_space_group_number()), sga.get_space_group_symbol()
    except Exception:  # noqa: BLE001
        return 1, "P1"


def group_symbol(number: int, dim: int = 3) -> str:
    """The Hermann-Mauguin symbol of space group `number` as pymatgen writes it (P6_3/mmc), or of layer
    group `number` with dim 2, as `spacegroup_and_symbol` reports it."""
    if dim == 2:
        return layer_group_symbol(number)
    from pymatgen.symmetry.groups import SpaceGroup

    return SpaceGroup.from_int_number(int(number)).symbol


def point_group_order(atoms: Atoms, symprec: float = 0.01) -> int:
    """Number of point-group operations of a structure (1 for P1, 48 for m-3m); 1 when spglib fails."""
    try:
        return len(_analyzer(to_structure(atoms), symprec).get_point_group_operations())
    except Exception:  # noqa: BLE001 - spglib fails on broken cells
        return 1


@lru_cache(maxsize=4096)
def may_be_distorted(low: int, high: int) -> bool:
    """Whether a structure in space group `low` can be a distorted version of one in `high`: the same group,
    or `low` a subgroup of `high` (pymatgen's table of maximal subgroups, followed down; cell changes
    included). A wurtzite P6_3mc is not a distorted zinc blende F-43m, nor hcp (P6_3/mmc) a distorted
    fcc (Fm-3m). True when pymatgen cannot tell."""
    if low == high:
        return True
    try:
        from pymatgen.symmetry.groups import SpaceGroup

        return bool(SpaceGroup.from_int_number(low).is_subgroup(SpaceGroup.from_int_number(high)))
    except Exception:  # noqa: BLE001 - an unknown number: do not stand in the way
        return True


def conventional_cell(atoms: Atoms, symprec: float = REPORT_SYMPREC) -> Atoms:
    """The conventional standard cell of `atoms` (a layer: symmetrised in its own cell); `atoms` itself when
    spglib fails."""
    if is_layer(atoms):
        return symmetrized_layer(atoms, symprec)
    try:
        return to_atoms(_analyzer(to_structure(atoms), symprec).get_conventional_standard_structure())
    except Exception:  # noqa: BLE001 - the cell as written is still a valid picture
        return atoms


def symmetrized_cif(atoms: Atoms, symprec: float = REPORT_SYMPREC) -> str:
    """A CIF of the symmetrised conventional cell with its space group, symmetry operations and the
    asymmetric unit (pymatgen's CifWriter); a P1 CIF of the cell as it is when spglib fails."""
    from pymatgen.io.cif import CifWriter

    if is_layer(atoms):  # its own cell, symmetrised, so c stays the normal; the layer group in a comment
        number, symbol = spacegroup_and_symbol(atoms, symprec)
        text = str(CifWriter(to_structure(symmetrized_layer(atoms, symprec))))
        return f"# a 2D layer (c is its normal, with vacuum): layer group {symbol} ({number}) at {symprec:g} A\n" + text
    structure = to_structure(atoms)
    try:
        return str(CifWriter(structure, symprec=symprec))
    except Exception:  # noqa: BLE001
        return str(CifWriter(structure))


def primitive_cell(atoms: Atoms, symprec: float = REPORT_SYMPREC) -> Atoms:
    """The symmetrised standard primitive cell (a layer: symmetrised in its own cell); `atoms` itself when
    spglib fails."""
    if is_layer(atoms):
        return symmetrized_layer(atoms, symprec)
    try:
        return to_atoms(_analyzer(to_structure(atoms), symprec).get_primitive_standard_structure())
    except Exception:  # noqa: BLE001
        return atoms


def conventional_seed(atoms: Atoms, atoms_per_formula: int):
    """(space group, formula units per primitive cell, conventional lattice as cellpar_to_cell rows) of a
    relaxed structure, symmetrised at 0.1 A: the lattice a later round samples on. None when spglib fails."""
    from ase.geometry import cell_to_cellpar, cellpar_to_cell

    if is_layer(atoms):
        return _layer_seed(atoms, atoms_per_formula)
    try:
        sga = _analyzer(to_structure(atoms), REPORT_SYMPREC)
        conventional = sga.get_conventional_standard_structure()
        primitive = sga.find_primitive()
    except Exception:  # noqa: BLE001
        return None
    z = len(primitive) // atoms_per_formula
    return sga.get_space_group_number(), z, cellpar_to_cell(cell_to_cellpar(conventional.lattice.matrix))


def _layer_seed(atoms: Atoms, atoms_per_formula: int):
    """conventional_seed of a layer: its layer group, formula units per primitive cell and the layer
    group's standard in-plane lattice (spglib's layer dataset), c kept as the layer's own."""
    import numpy as np
    from ase.geometry import cell_to_cellpar, cellpar_to_cell

    data = _layer_dataset(atoms, REPORT_SYMPREC)
    if data is None:
        return None
    a, b, _, _, _, gamma = cell_to_cellpar(np.asarray(data.std_lattice))
    primitive = abs(np.linalg.det(np.asarray(data.primitive_lattice)))
    per_cell = len(atoms) * primitive / abs(np.linalg.det(atoms.cell.array))
    z = int(round(per_cell)) // atoms_per_formula
    c = float(np.linalg.norm(atoms.cell[2]))
    return int(data.number), z, cellpar_to_cell([a, b, c, 90.0, 90.0, gamma])


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
    not found at a smaller one; the group at the smallest tolerance (the structure's own) is left out.
    A layer: (tolerance, layer group, the layer symmetrised in its own cell)."""
    if is_layer(atoms):
        return _symmetrized_layers(atoms, tolerances)
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


def _symmetrized_layers(atoms: Atoms, tolerances) -> list[tuple[float, int, Atoms]]:
    seen: set[int] = set()
    out = []
    for k, tol in enumerate(sorted(tolerances)):
        number = spacegroup(atoms, tol)
        if number in seen or k == 0:
            seen.add(number)
            continue
        seen.add(number)
        version = symmetrized_layer(atoms, tol)
        if spacegroup(version, 1e-3) != number:  # refine_symmetry found another group than the layer dataset
            continue
        out.append((tol, number, version))
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


__all__ = ["may_be_distorted", "is_layer", "as_layer", "layer_group_symbol", "symmetrized_layer", "wyckoff_orbits", "REPORT_SYMPREC", "to_structure", "to_atoms", "spacegroup", "spacegroup_and_symbol", "group_symbol",
           "point_group_order",
           "conventional_cell", "symmetrized_cif", "primitive_cell", "conventional_seed", "symmetrized_versions", "matcher", "merge_duplicates"]
