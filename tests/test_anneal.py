"""Annealing finds the exact minimum of a toy energy on a grid small enough to enumerate."""

import itertools

import numpy as np
import pytest

from sccop.anneal import DistanceRule, anneal
from sccop.composition import element_data, parse_composition
from sccop.config import AnnealConfig, SamplerConfig
from sccop.sampling.sampler import Sampler
from sccop.sampling.structure import Orbit


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_annealing_finds_the_enumerated_minimum(seed):
    # P1 NaCl: every grid point is a site, so hundreds of states, all of them enumerable.
    # SCCOP's (narrower) volume window keeps the grid small enough to enumerate.
    sampler = Sampler(parse_composition("NaCl"), [1], SamplerConfig(spacegroups=(1,), volume_window="sccop"))
    (_, start), = sampler.sample(1, seed=seed)
    grid = start.grid
    assert grid.n_sites >= 20
    rng = np.random.default_rng(seed)
    table = {el: 0.5 * rng.normal(size=grid.n_sites) for el in ("Na", "Cl")}
    rule = DistanceRule(start, 0.7)

    # A toy landscape: a random field per (element, site) plus a smooth pair term in the Na-Cl distance.
    def energy_of(s):
        a, b = s.orbits
        d = rule.distances.between(grid.site_rep[[a.site]], grid.site_rep[[b.site]])[0, 0]
        return table[a.element][a.site] + table[b.element][b.site] + (d - 2.8) ** 2

    mult = start.multiplicities()
    exact = np.inf
    elements = [o.element for o in start.orbits]
    # Every reachable state: each orbit on any free site of its multiplicity, elements in either order
    # (swaps exchange them between the two equal-multiplicity orbits).
    for s1, s2 in itertools.permutations(range(grid.n_sites), 2):
        if grid.site_multiplicity[s1] != mult[0] or grid.site_multiplicity[s2] != mult[1]:
            continue
        for e1, e2 in {tuple(elements), tuple(reversed(elements))}:
            cand = start.__class__(grid=grid, lattice=start.lattice, orbits=(Orbit(e1, s1), Orbit(e2, s2)))
            if rule.ok(cand, [0, 1]):
                exact = min(exact, energy_of(cand))
    assert np.isfinite(exact)
    result = anneal([start], lambda ss: [energy_of(s) for s in ss], AnnealConfig(t0=1.0, steps=150, restarts=8, strain_share=0.0), rng)
    assert result.best_energy.min() == exact
    assert 0 < result.acceptance <= 1


def test_moves_keep_the_distance_rule():
    sampler = Sampler(parse_composition("SrTiO3"), [1, 2], SamplerConfig(spacegroups=(99, 123, 221)))
    starts = [s for _, s in sampler.sample(3, seed=2)]
    rng = np.random.default_rng(3)
    seen = []

    def energy_fn(structures):
        seen.extend(structures)
        return rng.normal(size=len(structures))

    anneal(starts, energy_fn, AnnealConfig(steps=15, restarts=2), rng)
    assert len(seen) > len(starts) * 2
    for s in seen:
        rule = DistanceRule(s, 0.7)
        assert rule.ok(s, list(range(len(s.orbits))))
        assert s.to_atoms().get_chemical_formula(empirical=True) == "O3SrTi"


@pytest.mark.parametrize(
    "formula, units, groups, dim",
    [
        ("MgO", [4], (2, 14, 62, 139, 166, 194, 225), 3),  # triclinic ... cubic, rhombohedral on hexagonal axes
        ("MoS2", [1], (2, 5, 11, 13, 17), 2),  # oblique, rectangular, square, hexagonal layers
    ],
)
def test_strain_moves_keep_symmetry_and_the_distance_rule(formula, units, groups, dim):
    from sccop.anneal import Rules, propose
    from sccop.sampling.validate import check_symmetry, min_distance_ratio

    config = SamplerConfig(spacegroups=groups, dim=dim) if dim == 2 else SamplerConfig(spacegroups=groups)
    sampler = Sampler(parse_composition(formula), units, config)
    strain_only = AnnealConfig(strain_share=1.0, strain_size=0.05)
    rules = Rules(0.7)
    rng = np.random.default_rng(0)
    seen = set()
    for _, start in sampler.sample(20, seed=3):
        moved = propose(start, rules(start), strain_only, rng)
        if moved is None:
            continue
        seen.add(start.spacegroup)
        assert moved.orbits == start.orbits and not np.allclose(moved.lattice, start.lattice)
        if dim == 2:  # the layer normal and vacuum stay
            assert np.allclose(moved.lattice[2], start.lattice[2])
        check = check_symmetry(moved)
        assert check.keeps_all_operations, (start.spacegroup, check)
        radii = {el: element_data(el).radius for el in {o.element for o in start.orbits}}
        assert min_distance_ratio(moved.to_atoms(primitive=False), radii) >= 0.7 - 1e-9
    assert len(seen) >= 3


def test_whole_cell_rule_agrees_with_the_grid_rule():
    from sccop.anneal import Rules

    sampler = Sampler(parse_composition("SrTiO3"), [2], SamplerConfig())
    rules = Rules(0.7)
    rng = np.random.default_rng(1)
    agree = broken = 0
    for _, s in sampler.sample(15, seed=4):
        rule = rules(s)
        assert rule.ok_everywhere(s)
        # Move an orbit anywhere, ignoring the rule, and compare the two checks.
        for _ in range(5):
            i = int(rng.integers(len(s.orbits)))
            same = np.flatnonzero(s.grid.site_multiplicity == s.multiplicities()[i])
            moved = s.with_site(i, int(rng.choice(same)))
            if len({o.site for o in moved.orbits}) < len(moved.orbits):
                continue
            grid_ok = rule.ok(moved, list(range(len(moved.orbits))))
            assert grid_ok == rule.ok_everywhere(moved)
            agree += 1
            broken += not grid_ok
    assert agree >= 30 and broken >= 3
