"""Property tests of the sampler over every space group and layer group."""

from collections import Counter

import numpy as np
import pytest

from sccop.composition import Composition, element_data
from sccop.config import SamplerConfig
from sccop.errors import NoWyckoffCombinationError
from sccop.sampling.sampler import Sampler, SamplerStats
from sccop.sampling.validate import check_symmetry, min_distance_ratio
from sccop.symmetry.groups import get_group
from sccop.symmetry.wyckoff import compatibility_problem

ELEMENTS = ["Na", "Cl", "Mg", "O", "Si", "C", "Ti", "Sr", "Cu", "Se", "B", "Zn", "Ga", "N", "Li", "Ba"]


def random_composition(rng, group, max_atoms=24, config=None):
    """A random composition of 1-3 elements that fits `group` with one formula unit, or None (with
    `config`, one that its sampler accepts: a layer's positions hold as many orbits as its heights allow).

    Counts are drawn in units of the smallest orbit per primitive cell half of the time, so that
    groups without small orbits (P6_1: only 6a) are covered too.
    """
    smallest = min(w.multiplicity for w in group.wyckoffs) // group.centring_factor
    for _ in range(60):
        k = int(rng.integers(1, 4))
        els = list(rng.choice(ELEMENTS, size=k, replace=False))
        unit = smallest if rng.random() < 0.5 else 1
        counts = [int(rng.integers(1, 5)) * unit for _ in els]
        if sum(counts) > max_atoms:
            continue
        comp = Composition(tuple(zip(els, counts)))
        conv = {el: n * group.centring_factor for el, n in comp.counts}
        if compatibility_problem(group, conv) is None:
            if config is not None:
                try:
                    Sampler(comp, [1], config)
                except NoWyckoffCombinationError:
                    continue
            return comp
    return None


def check_structure(structure, comp, config):
    atoms = structure.to_atoms()
    assert Counter(atoms.get_chemical_symbols()) == Counter(dict(comp.counts))
    radii = {el: element_data(el).radius for el, _ in comp.counts}
    assert min_distance_ratio(atoms, radii) >= config.distance_factor - 1e-9
    check = check_symmetry(structure, symprec=0.01)
    assert check.keeps_all_operations, (structure.spacegroup, structure.wyckoff_labels())
    return check


@pytest.mark.parametrize("dim", [3, 2])
def test_every_group_gives_valid_symmetric_structures(dim, capsys):
    rng = np.random.default_rng(2024 + dim)
    numbers = range(1, 231) if dim == 3 else range(1, 81)
    checked, supergroups, skipped, gave_up = 0, 0, [], []
    for n in numbers:
        group = get_group(n, dim)
        config = SamplerConfig(dim=dim, spacegroups=(n,), thickness=1.5 if n % 2 else 0.0)
        comp = random_composition(rng, group, config=config)
        if comp is None:
            skipped.append(n)
            continue
        sampler = Sampler(comp, [1], config)
        stats = SamplerStats()
        results = sampler.sample(2, seed=n, stats=stats)
        if not results:
            gave_up.append((n, comp.formula))
        for _, structure in results:
            check = check_structure(structure, comp, config)
            checked += 1
            supergroups += check.is_supergroup
    with capsys.disabled():
        print(
            f"\n[dim {dim}] {checked} structures checked, {supergroups / max(checked, 1):.0%} in a supergroup "
            f"(spglib 0.01); no fitting composition drawn for groups {skipped}; gave up on {gave_up}"
        )
    assert not skipped
    assert len(gave_up) <= len(numbers) // 20
    assert checked >= 1.8 * (len(numbers) - len(skipped) - len(gave_up))


@pytest.mark.parametrize("formula, units", [("Mg2SiO4", [1]), ("BC3", [1, 2]), ("C", [4, 8]), ("CuIn5Se8", [1]), ("Ba2YIrO6", [1])])
def test_issue_compositions_over_all_groups(formula, units):
    from sccop.composition import parse_composition

    comp = parse_composition(formula)
    config = SamplerConfig()
    sampler = Sampler(comp, units, config)
    results = sampler.sample(12, seed=7)
    assert len(results) == 12
    for _, structure in results:
        atoms = structure.to_atoms()
        z = len(atoms) // comp.atoms_per_formula
        assert z in units
        assert Counter(atoms.get_chemical_symbols()) == Counter(comp.scaled(z))
        check_structure_counts = check_symmetry(structure)
        assert check_structure_counts.keeps_all_operations


def test_rocksalt_from_two_atoms():
    from sccop.composition import parse_composition

    sampler = Sampler(parse_composition("NaCl"), [1], SamplerConfig(spacegroups=(225,)))
    (_, structure), = sampler.sample(1, seed=0)
    assert len(structure.to_atoms()) == 2
    assert len(structure.to_atoms(primitive=False)) == 8
    assert sorted(structure.wyckoff_labels()) == ["4a", "4b"]
    assert check_symmetry(structure).found == 225
    pmg = structure.to_structure()
    assert len(pmg) == 2 and pmg.composition.reduced_formula == "NaCl"
    assert len(structure.to_structure(primitive=False)) == 8


def test_same_seed_same_structures():
    from sccop.composition import parse_composition

    comp = parse_composition("SrTiO3")
    a = Sampler(comp, [1], SamplerConfig()).sample(6, seed=11)
    b = Sampler(comp, [1], SamplerConfig()).sample(6, seed=11)
    c = Sampler(comp, [1], SamplerConfig()).sample(6, seed=12)
    key = lambda res: [(s.spacegroup, tuple(s.orbits), s.lattice.round(8).tobytes()) for _, s in res]
    assert key(a) == key(b)
    assert key(a) != key(c)
    # Structure i does not depend on the structures sampled before it.
    d = Sampler(comp, [1], SamplerConfig()).sample(3, seed=11, start=3)
    assert key(d) == key(a)[3:]


def test_groups_are_drawn_by_point_group_order():
    from sccop.composition import parse_composition
    from sccop.errors import SccopInputError

    comp = parse_composition("Cu")  # fits P1 (1a) and Pm-3m (1a) alike, so no draw fails
    shares = {}
    for bias in (0.0, 1.0, 2.0):
        sampler = Sampler(comp, [1], SamplerConfig(spacegroups=(1, 221), symmetry_bias=bias))
        expected = np.array([1.0, 48.0]) ** bias
        assert np.allclose(sampler.group_probabilities, expected / expected.sum())
        groups = Counter(s.spacegroup for _, s in sampler.sample(300, seed=3))
        shares[bias] = groups[221] / 300
    assert 0.4 < shares[0.0] < 0.6  # uniform: half each
    assert shares[1.0] > 0.93 and shares[2.0] > 0.99  # 48/49 and 2304/2305 expected
    with pytest.raises(SccopInputError, match="symmetry_bias"):
        Sampler(comp, [1], SamplerConfig(symmetry_bias=-1.0))


def test_orbit_bias_favours_assignments_with_few_orbits():
    from sccop.composition import parse_composition
    from sccop.symmetry.groups import get_group
    from sccop.symmetry.wyckoff import parsimony_weights, wyckoff_assignments

    # GdOs2 in P6_3/mmc: 3 orbits at fewest (the Laves phase's 4f + 2a + 6h among them), up to 5
    assignments = wyckoff_assignments(get_group(194), {"Gd": 4, "Os": 8}, cap=64)
    orbits = np.array([len(a) for a in assignments])
    assert orbits.min() == 3 and orbits.max() > 3
    assert np.allclose(parsimony_weights(assignments, 0.0), 1.0 / len(assignments))
    p = parsimony_weights(assignments, 2.0)
    assert np.isclose(p.sum(), 1.0)
    assert np.allclose(p[orbits == 4] / p[orbits == 3][0], np.exp(-2.0))  # each extra orbit: a factor e^-2
    # Above bias 0 the capped list holds the fewest orbits: every 3-orbit assignment of TbRu2 (22 of 98,
    # the Laves phase's among them), which a random list of 64 may leave out.
    everything = wyckoff_assignments(get_group(194), {"Tb": 4, "Ru": 8}, cap=10_000)
    fewest = wyckoff_assignments(get_group(194), {"Tb": 4, "Ru": 8}, cap=64, fewest_first=True)
    assert len(fewest) == 64 and [len(a) for a in fewest] == sorted(len(a) for a in fewest)
    assert {a for a in everything if len(a) == 3} <= set(fewest)
    laves = tuple(sorted([("Tb", 6), ("Ru", 4), ("Ru", 11)]))  # 4f, 6h, 2a
    assert laves in fewest
    shares = {}
    for bias in (0.0, 3.0):
        sampler = Sampler(parse_composition("GdOs2"), [4], SamplerConfig(spacegroups=(194,), orbit_bias=bias))
        drawn = [len(s.orbits) for _, s in sampler.sample(120, seed=5)]
        shares[bias] = np.mean(np.array(drawn) == 3)
    assert shares[0.0] < 0.5 < 0.8 < shares[3.0]  # uniform: about a quarter; bias 3: 3 orbits in ~90%


def test_moves_keep_the_grid():
    from sccop.composition import parse_composition

    sampler = Sampler(parse_composition("TiO2"), [2], SamplerConfig(spacegroups=(136,)))
    (_, s), = sampler.sample(1, seed=1)
    moved = s.with_site(0, int(s.grid.sites_of_wyckoff(s.grid.site_wyckoff[s.orbits[0].site])[0]))
    assert moved.grid is s.grid and moved.orbits[1:] == s.orbits[1:]
    if len(s.orbits) > 1:
        swapped = s.with_swapped_elements(0, 1)
        assert swapped.orbits[0].element == s.orbits[1].element
        assert swapped.orbits[0].site == s.orbits[0].site


@pytest.mark.parametrize("rule", ["span", "sccop", "regression"])
def test_volumes_lie_in_the_window_of_the_rule(rule):
    from sccop.composition import parse_composition, volume_window
    from sccop.errors import SccopInputError

    comp = parse_composition("Si")
    lo, hi = volume_window({"Si": 2}, rule=rule)
    results = Sampler(comp, [2], SamplerConfig(volume_window=rule)).sample(12, seed=3)
    volumes = [s.to_atoms().get_volume() for _, s in results]
    assert volumes and all(lo - 1e-6 <= v <= hi + 1e-6 for v in volumes)
    with pytest.raises(SccopInputError, match=r"\[sampler\] volume_window = .wide. is not allowed"):
        Sampler(comp, [2], SamplerConfig(volume_window="wide"))
