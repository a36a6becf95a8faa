import numpy as np
import pytest

from sccop.errors import SccopInputError
from sccop.symmetry.grid import GridDistances, get_grid, grid_divisions, layer_capacities
from sccop.symmetry.groups import flat_layer_groups, get_group, parse_groups


def test_parse_groups():
    assert parse_groups("225,221") == [221, 225]
    assert parse_groups("1-3,230") == [1, 2, 3, 230]
    assert len(parse_groups(None)) == 230
    assert parse_groups("1-80", dim=2) == list(range(1, 81))
    for bad in ("0", "231", "-5", "abc"):
        with pytest.raises(SccopInputError):
            parse_groups(bad)
    with pytest.raises(SccopInputError, match="layer group 81 does not exist"):
        parse_groups("81", dim=2)


def test_centring_factors():
    assert get_group(225).centring_factor == 4
    assert get_group(229).centring_factor == 2
    assert get_group(167).centring_factor == 3
    assert get_group(38).centring_factor == 2
    assert get_group(13, dim=2).centring_factor == 2  # cm11
    assert get_group(47, dim=2).centring_factor == 2  # cmmm
    assert get_group(80, dim=2).centring_factor == 1  # p6/mmm


@pytest.mark.parametrize("dim", [2, 3])
def test_every_wyckoff_position_lies_on_the_grid(dim):
    """A commensurate grid holds sites of every Wyckoff position, with the right multiplicity.

    The smallest commensurate grid can be all special points (P-1 on 2x2x2 is eight inversion centres),
    so the test uses four times the denominators in every direction.
    """
    numbers = range(1, 81) if dim == 2 else range(1, 231)
    heights = (0.4, 0.45, 0.5, 0.55, 0.6)  # a layer's heights, symmetric about its middle plane
    for n in numbers:
        group = get_group(n, dim)
        d = group.denominators
        div = (4 * d[0], 4 * d[1], len(heights) if dim == 2 else 4 * d[2])
        assert grid_divisions(group, (4 * d[0], 4 * d[1], 4 * d[2]), 1.0)[:2] == div[:2]
        z = heights if dim == 2 else None
        grid = get_grid(group, div, z)
        present = set(grid.site_wyckoff.tolist())
        assert present == set(range(len(group.wyckoffs))), (n, group.symbol)
        for site in range(grid.n_sites):
            wp = group.wyckoffs[grid.site_wyckoff[site]]
            assert grid.site_multiplicity[site] == wp.multiplicity
        assert grid.site_multiplicity.sum() == len(grid.points)


def test_layer_group_operations_keep_or_mirror_z_and_plane_groups_keep_it():
    keep_z = []
    for n in range(1, 81):
        group = get_group(n, dim=2)
        assert np.all(np.abs(group.rotations[:, 2, 2]) == 1) and np.all(group.rotations[:, 2, :2] == 0)
        assert np.all(group.rotations[:, :2, 2] == 0)
        assert np.allclose(group.translations[:, 2], 0)
        if np.all(group.rotations[:, 2, 2] == 1):
            keep_z.append(n)
    assert tuple(keep_z) == flat_layer_groups() and len(keep_z) == 17


def test_layer_grid_mirrors_heights_and_counts_capacities():
    """p-6m2 (78) on five heights: the mirror pairs levels k and 4 - k; (1/3, 2/3, z) holds one orbit per
    pair of mirrored heights and (1/3, 2/3, 0) one on the middle plane."""
    group = get_group(78, dim=2)
    heights = (0.4, 0.45, 0.5, 0.55, 0.6)
    grid = get_grid(group, (3, 3, 5), heights)
    for site in range(grid.n_sites):
        levels = {int(grid.points[p][2]) for p in grid.site_points(site)}
        assert levels in ({0, 4}, {1, 3}, {2})
    capacities = dict(zip((w.label for w in group.wyckoffs), layer_capacities(group, heights)))
    assert capacities["2e"] == 2 and capacities["1a"] == 1
    with pytest.raises(ValueError, match="symmetrically"):
        get_grid(group, (3, 3, 2), (0.4, 0.5))


def test_grid_distances_match_brute_force(rng):
    from ase.geometry import cellpar_to_cell

    group = get_group(14)
    lattice = cellpar_to_cell([4.1, 5.3, 6.2, 90, 104, 90])
    grid = get_grid(group, grid_divisions(group, (4.1, 5.3, 6.2), 1.3))
    dist = GridDistances(grid, lattice, cutoff=4.0)
    a = rng.integers(len(grid.points), size=30)
    b = rng.integers(len(grid.points), size=30)
    frac = grid.frac_coords(np.arange(len(grid.points)))
    shifts = np.array([[i, j, k] for i in range(-3, 4) for j in range(-3, 4) for k in range(-3, 4)])
    got = dist.pairwise(a, b)
    for i, j, d in zip(a, b, got):
        cands = np.linalg.norm((frac[j] - frac[i] + shifts) @ lattice, axis=1)
        if i == j:
            cands = cands[cands > 1e-9]
        want = cands.min()
        if want < 4.0:
            assert d == pytest.approx(want)
        else:
            assert d >= 4.0 - 1e-9
