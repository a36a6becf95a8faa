"""Symmetry of finished structures and matching, the one place that asks spglib and StructureMatcher."""

import numpy as np
from ase import Atoms
from ase.build import bulk

from sccop.symmetry.analysis import (
    conventional_cell,
    conventional_seed,
    matcher,
    merge_duplicates,
    point_group_order,
    spacegroup,
    spacegroup_and_symbol,
    symmetrized_versions,
    to_structure,
)


def test_groups_orders_and_cells_of_known_structures():
    rocksalt = bulk("NaCl", "rocksalt", a=5.64)
    assert spacegroup(rocksalt) == 225 and spacegroup_and_symbol(rocksalt) == (225, "Fm-3m")
    assert point_group_order(rocksalt) == 48 and point_group_order(bulk("Mg", "hcp", a=3.2)) == 24
    assert len(conventional_cell(rocksalt)) == 8
    number, z, lattice = conventional_seed(rocksalt, atoms_per_formula=2)
    assert (number, z) == (225, 1) and np.allclose(np.diag(lattice), 5.64) and np.allclose(lattice - np.diag(np.diag(lattice)), 0)


def test_a_cell_spglib_cannot_read_is_p1_not_an_error():
    broken = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 0]], cell=np.eye(3) * 3.0, pbc=True)
    assert spacegroup(broken) == 1 and point_group_order(broken) == 1
    assert spacegroup_and_symbol(broken) == (1, "P1") and conventional_seed(broken, 1) is None


def test_symmetrised_versions_recover_the_higher_group():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.positions += np.random.default_rng(0).normal(0.0, 0.03, atoms.positions.shape)
    assert spacegroup(atoms, 0.01) != 225
    versions = symmetrized_versions(atoms, (0.01, 0.05, 0.1, 0.2))
    assert 225 in [number for _, number, _ in versions]
    tol, number, refined = next(v for v in versions if v[1] == 225)
    assert spacegroup(refined, 1e-3) == 225 and len(refined) == 1  # the refined cell, made primitive
    assert symmetrized_versions(bulk("Cu", "fcc", a=3.61), (0.01, 0.1)) == []  # nothing new to find


def test_duplicates_merge_under_the_default_matcher_only_within_its_tolerance():
    fcc = bulk("Cu", "fcc", a=3.61)
    items = [fcc, bulk("Cu", "fcc", a=3.61, cubic=True), bulk("Cu", "bcc", a=2.87), fcc.repeat((2, 1, 1))]
    groups = merge_duplicates(items, to_structure)
    assert [len(g) for g in groups] == [3, 1] and groups[1][0] is items[2]
    assert [len(g) for g in merge_duplicates(items, to_structure, limit=1)] == [3]
    strained = bulk("Cu", "fcc", a=3.61, cubic=True)
    strained.set_cell(strained.cell * [1.0, 1.0, 1.12], scale_atoms=True)
    assert matcher().fit(to_structure(strained), to_structure(fcc))  # 12% along c is within ltol 0.2
    strained.set_cell(strained.cell * [1.0, 1.0, 1.3], scale_atoms=True)
    assert not matcher().fit(to_structure(strained), to_structure(fcc))
