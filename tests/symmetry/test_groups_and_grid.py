import numpy as np
import pytest

from sccop.errors import SccopInputError
from sccop.symmetry.grid import GridDistances, get_grid, grid_divisions
from sccop.symmetry.groups import get_group, parse_groups


def test_parse_groups():
    assert parse_groups("225,221") == [221, 225]
    assert parse_groups("1-3,230") == [1, 2, 3, 230]
    assert len(parse_groups(None)) == 230
    assert parse_groups("1-17", dim=2) == list(range(1, 18))
    for bad in ("0", "231", "-5", "abc"):
        with pytest.raises(SccopInputError):
            parse_groups(bad)
    with pytest.raises(SccopInputError):
        parse_groups("18", dim=2)


def test_centring_factors():
    assert get_group(225).centring_factor == 4
    assert get_group(229).centring_factor == 2
    assert get_group(167).centring_factor == 3
    assert get_group(38).centring_factor == 2
    assert get_group(5, dim=2).centring_factor == 2  # cm


@pytest.mark.parametrize("dim", [2, 3])
def test_every_wyckoff_position_lies_on_the_grid(dim):
    """A commensurate grid holds sites of every Wyckoff position, with the right multiplicity.

    The smallest commensurate grid can be all special points (P-1 on 2x2x2 is eight inversion centres),
    so the test uses four times the denominators in every direction.
    """
    numbers = range(1, 18) if dim == 2 else range(1, 231)
    for n in numbers:
        group = get_group(n, dim)
        d = group.denominators
        div = (4 * d[0], 4 * d[1], 1 if dim == 2 else 4 * d[2])
        assert grid_divisions(group, (4 * d[0], 4 * d[1], 4 * d[2]), 1.0)[:2] == div[:2]
        z = (0.5,) if dim == 2 else None
        grid = get_grid(group, div, z)
        present = set(grid.site_wyckoff.tolist())
        assert present == set(range(len(group.wyckoffs))), (n, group.symbol)
        for site in range(grid.n_sites):
            wp = group.wyckoffs[grid.site_wyckoff[site]]
            assert grid.site_multiplicity[site] == wp.multiplicity
        assert grid.site_multiplicity.sum() == len(grid.points)


def test_plane_group_operations_keep_z():
    for n in range(1, 18):
        group = get_group(n, dim=2)
        assert np.all(group.rotations[:, 2, :] == [0, 0, 1])
        assert np.allclose(group.translations[:, 2], 0)


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
