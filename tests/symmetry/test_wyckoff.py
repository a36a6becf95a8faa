from collections import Counter

import pytest

from sccop.symmetry.groups import get_group
from sccop.symmetry.wyckoff import compatibility_problem, wyckoff_assignments


@pytest.mark.parametrize(
    "number, counts",
    [(225, {"Na": 4, "Cl": 4}), (62, {"Mg": 8, "Si": 4, "O": 16}), (2, {"Cu": 1, "In": 5, "Se": 8}), (229, {"B": 24})],
)
def test_assignments_are_valid_and_distinct(number, counts):
    group = get_group(number)
    found = wyckoff_assignments(group, counts, cap=64)
    assert found and len(set(found)) == len(found)
    for assignment in found:
        atoms = Counter()
        for el, w in assignment:
            atoms[el] += group.wyckoffs[w].multiplicity
        assert dict(atoms) == counts
        fixed = [w for _, w in assignment if group.wyckoffs[w].fixed]
        assert len(fixed) == len(set(fixed)), "a position without free parameters was used twice"


def test_rocksalt_assignments_are_exactly_the_two():
    group = get_group(225)
    found = {tuple(sorted((el, group.wyckoffs[w].label) for el, w in a)) for a in wyckoff_assignments(group, {"Na": 4, "Cl": 4})}
    assert found == {(("Cl", "4a"), ("Na", "4b")), (("Cl", "4b"), ("Na", "4a"))}


def test_assignments_are_deterministic():
    group = get_group(47)
    counts = {"Cu": 2, "In": 10, "Se": 16}
    assert wyckoff_assignments(group, counts, seed=3) == wyckoff_assignments(group, counts, seed=3)


def test_incompatible_counts_explain_why():
    # Pm-3m: 1a and 1b are the only single-atom positions, so 2 O + 1 Na cannot fit together.
    assert compatibility_problem(get_group(221), {"O": 2}) is None
    assert "2 O + 1 Na atoms together" in compatibility_problem(get_group(221), {"O": 2, "Na": 1})
    assert compatibility_problem(get_group(221), {"O": 4}) is None
    assert compatibility_problem(get_group(229), {"O": 4}) == (
        "Im-3m has no Wyckoff combination for 4 O atoms in the conventional cell (2 per primitive cell)"
    )


def test_compatibility_agrees_with_pyxtal(rng):
    """PyXtal's own check_compatible is an independent oracle for which counts fit a group."""
    from pyxtal.symmetry import Group

    disagreements = []
    for _ in range(150):
        number = int(rng.integers(1, 231))
        group = get_group(number)
        n_el = int(rng.integers(1, 4))
        counts = [int(rng.integers(1, 7)) * group.centring_factor for _ in range(n_el)]
        ours = compatibility_problem(group, {f"X{i}": c for i, c in enumerate(counts)}) is None
        theirs = bool(Group(number).check_compatible(counts)[0])
        if ours != theirs:
            disagreements.append((number, counts, ours, theirs))
    assert not disagreements
    msg = compatibility_problem(get_group(225), {"Mg": 8, "Si": 4, "O": 16})
    assert "Fm-3m" in msg and "together" in msg
    assert compatibility_problem(get_group(225), {"Na": 4, "Cl": 4}) is None
