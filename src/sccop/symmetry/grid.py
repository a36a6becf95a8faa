"""The asymmetric-unit grid: a symmetry-commensurate grid over the conventional cell, split into orbits.

Each axis is divided into a multiple of the denominators that appear in the group's translations and in
its Wyckoff positions' fixed coordinates (1/2, 1/3, 1/4, 1/6, 1/8 ...), and axes that a rotation mixes
get equal divisions. Every operation then maps grid points exactly onto grid points, the group's orbits
partition the grid, and one representative per orbit is one site of the asymmetric-unit grid. Each site
knows its Wyckoff position (special positions included), its multiplicity and its whole orbit, none of
which depends on the lattice, so grids are cached per (group, divisions) and shared by every structure
and by every annealing move.

For a 2D layer the third axis holds heights (`z_frac`, fractional along c) placed symmetrically about the
middle of the cell, z = 1/2, the layer's middle plane: a layer-group operation either keeps a height or
mirrors it (level k <-> level n - 1 - k), so it still maps grid points onto grid points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sccop.symmetry.groups import GroupInfo, get_group


@dataclass(frozen=True, eq=False)
class SymmetryGrid:
    """Grid points of a conventional cell grouped into symmetry orbits ("sites").

    Points are integer triples `points[i]`; site `s` has representative point `site_rep[s]`, Wyckoff
    index `site_wyckoff[s]` into `group.wyckoffs`, multiplicity `site_multiplicity[s]` and member points
    `site_points(s)`.
    """

    group: GroupInfo
    divisions: tuple[int, int, int]
    z_frac: tuple[float, ...] | None  # 2D: fractional heights of the z levels; None in 3D
    points: np.ndarray  # (N, 3) int
    point_site: np.ndarray  # (N,) site index of each point
    site_rep: np.ndarray  # (M,) representative point of each site
    site_wyckoff: np.ndarray  # (M,) Wyckoff index of each site
    site_multiplicity: np.ndarray  # (M,)
    _order: np.ndarray  # points sorted by site
    _start: np.ndarray  # (M + 1,) offsets into _order

    @property
    def n_sites(self) -> int:
        return len(self.site_rep)

    @property
    def periodic_z(self) -> bool:
        return self.z_frac is None

    def site_points(self, site: int) -> np.ndarray:
        return self._order[self._start[site] : self._start[site + 1]]

    def sites_of_wyckoff(self, wyckoff_index: int) -> np.ndarray:
        return self._sites_by_wyckoff.get(wyckoff_index, np.empty(0, dtype=np.int64))

    def frac_coords(self, point_ids: np.ndarray) -> np.ndarray:
        """Fractional coordinates (conventional cell) of grid points."""
        return _frac(self.points[point_ids], self.divisions, self.z_frac)

    def __post_init__(self) -> None:
        by_wyckoff: dict[int, np.ndarray] = {}
        for w in np.unique(self.site_wyckoff):
            by_wyckoff[int(w)] = np.flatnonzero(self.site_wyckoff == w)
        object.__setattr__(self, "_sites_by_wyckoff", by_wyckoff)


def _frac(points: np.ndarray, divisions, z_frac) -> np.ndarray:
    """Fractional coordinates of integer grid points; in 2D the third index picks a z level."""
    frac = points / np.asarray(divisions, dtype=float)
    if z_frac is not None:
        frac[:, 2] = np.asarray(z_frac)[points[:, 2]]
    return frac


def grid_divisions(group: GroupInfo, lengths: tuple[float, float, float], spacing: float) -> tuple[int, int, int]:
    """Smallest symmetry-commensurate divisions with a spacing of at most about `spacing` (Angstrom)."""
    n = [max(1, math.ceil(length / spacing - 1e-9)) for length in lengths]
    for axes in group.tied_axes:
        common = max(n[a] for a in axes)
        for a in axes:
            n[a] = common
    for a in range(3):
        d = group.denominators[a]
        n[a] = d * math.ceil(n[a] / d)
    return n[0], n[1], n[2]


def get_grid(group: GroupInfo, divisions: tuple[int, int, int], z_frac: tuple[float, ...] | None = None) -> SymmetryGrid:
    """The (cached) grid of `group` with the given divisions; `z_frac` gives 2D layer heights."""
    return _build_grid(group.number, group.dim, tuple(int(d) for d in divisions), z_frac)


@lru_cache(maxsize=256)
def _build_grid(number: int, dim: int, divisions: tuple[int, int, int], z_frac: tuple[float, ...] | None) -> SymmetryGrid:
    group = get_group(number, dim)
    n = np.array(divisions)
    if dim == 2:
        if z_frac is None or len(z_frac) != divisions[2]:
            raise ValueError("a 2D grid needs one z_frac value per z level")
        if not np.allclose(np.sort(z_frac) - 0.5, 0.5 - np.sort(z_frac)[::-1], atol=1e-9):
            raise ValueError("a 2D grid's heights must lie symmetrically about the middle plane z = 1/2")
        if list(z_frac) != sorted(z_frac):
            raise ValueError("a 2D grid's heights must be sorted")
    idx = np.indices(divisions).reshape(3, -1).T  # (N, 3)
    n_points = len(idx)
    # Image of every point under every operation, in integer grid units:
    # new_i = sum_j R_ij p_j n_i / n_j + t_i n_i.  Tied axes have n_i == n_j, so this stays integral.
    # A layer's heights are not periodic: an operation keeps the level (R_zz = 1) or mirrors it (R_zz = -1).
    scale = n[:, None] / n[None, :]
    images = np.empty((len(group.rotations), n_points), dtype=np.int64)
    for k, (rot, trans) in enumerate(zip(group.rotations, group.translations)):
        if dim == 2:
            new = idx[:, :2] @ (rot[:2, :2] * scale[:2, :2]).T + trans[:2] * n[:2]
            level = idx[:, 2] if rot[2, 2] == 1 else divisions[2] - 1 - idx[:, 2]
            new = np.column_stack([new, level])
        else:
            new = idx @ (rot * scale).T + trans * n
        new_int = np.rint(new).astype(np.int64)
        if np.abs(new - new_int).max() > 1e-6:
            raise RuntimeError(f"grid {divisions} is not commensurate with {group.symbol}")
        new_int %= n
        images[k] = np.ravel_multi_index(new_int.T, divisions)
    rep_point = images.min(axis=0)  # canonical representative: smallest point index in the orbit
    site_rep, point_site = np.unique(rep_point, return_inverse=True)
    multiplicity = np.bincount(point_site)
    # Wyckoff position of each site: the position of equal multiplicity whose representative subspace
    # contains some point of the orbit (projection(p) == p modulo 1).
    frac = _frac(idx, divisions, z_frac if dim == 2 else None)
    if dim == 2:
        frac[:, 2] -= 0.5  # the layer group's own z: 0 on the middle plane
    site_wyckoff = np.full(len(site_rep), -1, dtype=np.int64)
    point_mult = multiplicity[point_site]
    for wp in group.wyckoffs:
        members = np.flatnonzero(point_mult == wp.multiplicity)
        if len(members) == 0:
            continue
        f = frac[members]
        proj = f @ wp.projection[:, :3].T + wp.projection[:, 3]
        diff = proj - f
        diff -= np.rint(diff)
        on = members[np.all(np.abs(diff) < 1e-6, axis=1)]
        hit = np.unique(point_site[on])
        hit = hit[site_wyckoff[hit] < 0]
        site_wyckoff[hit] = wp.index
    if (site_wyckoff < 0).any():
        raise RuntimeError(f"could not assign Wyckoff positions on grid {divisions} of {group.symbol}")
    order = np.argsort(point_site, kind="stable")
    start = np.concatenate([[0], np.cumsum(multiplicity)])
    return SymmetryGrid(
        group=group,
        divisions=divisions,
        z_frac=z_frac,
        points=idx,
        point_site=point_site,
        site_rep=site_rep,
        site_wyckoff=site_wyckoff,
        site_multiplicity=multiplicity,
        _order=order,
        _start=start,
    )


class GridDistances:
    """Minimum-image distances between grid points for one lattice.

    Distances depend only on the integer offset between two points, so one table over all offsets
    answers every query. Values below `cutoff` are exact; larger ones are only guaranteed >= cutoff.
    """

    def __init__(self, grid: SymmetryGrid, lattice: np.ndarray, cutoff: float):
        self.grid = grid
        self.lattice = np.asarray(lattice, dtype=float)
        n = np.array(grid.divisions)
        if grid.periodic_z:
            shape = (int(n[0]), int(n[1]), int(n[2]))
            offs = np.indices(shape).reshape(3, -1).T / n
        else:
            # Third index k < n_z stands for a height difference of +k levels, k >= n_z for k - (2 n_z - 1).
            shape = (int(n[0]), int(n[1]), int(2 * n[2] - 1))
            o = np.indices(shape).reshape(3, -1).T
            z = np.asarray(grid.z_frac)
            step = z[1] - z[0] if len(z) > 1 else 0.0
            dk = np.where(o[:, 2] < n[2], o[:, 2], o[:, 2] - shape[2])
            offs = np.column_stack([o[:, 0] / n[0], o[:, 1] / n[1], dk * step])
        self._shape = shape
        # A vector shorter than `cutoff` has fractional components |f_i + s_i| <= cutoff * |b_i|; with
        # f_i in [0, 1) that bounds the image shifts s_i to [-floor(c_i) - 1, floor(c_i)].
        recip = np.linalg.inv(self.lattice).T
        c = [cutoff * float(np.linalg.norm(recip[i])) for i in range(3)]
        ranges = [np.arange(-math.floor(ci) - 1, math.floor(ci) + 1) for ci in c]
        if not grid.periodic_z:
            ranges[2] = np.arange(-math.floor(c[2]) - 1, math.floor(c[2]) + 2)
        shifts = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, 3)
        base = offs @ self.lattice
        best = np.full(len(base), np.inf)
        for shift in shifts:
            d = np.linalg.norm(base + shift @ self.lattice, axis=1)
            if not shift.any():
                d[0] = np.inf  # a point's distance to itself is not a bond; its images are
            np.minimum(best, d, out=best)
        self._flat = best

    def _index(self, diff: np.ndarray) -> np.ndarray:
        n = self.grid.divisions
        i0 = diff[..., 0] % n[0]
        i1 = diff[..., 1] % n[1]
        i2 = diff[..., 2] % self._shape[2]
        return (i0 * self._shape[1] + i1) * self._shape[2] + i2

    def between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Distances (len(a), len(b)) between grid points `a` and `b` (point indices)."""
        pts = self.grid.points
        diff = pts[np.asarray(b)][None, :, :] - pts[np.asarray(a)][:, None, :]
        return self._flat[self._index(diff)]

    def pairwise(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Distances between points a[i] and b[i], element by element."""
        pts = self.grid.points
        return self._flat[self._index(pts[np.asarray(b)] - pts[np.asarray(a)])]

    def site_self_distance(self) -> np.ndarray:
        """Shortest distance between atoms of one orbit (its own periodic images included), per site.

        The group acts by isometries, so the representative sees the same nearest orbit-mate as any member.
        """
        grid = self.grid
        order = grid._order
        d = self.pairwise(grid.site_rep[grid.point_site[order]], order)
        return np.minimum.reduceat(d, grid._start[:-1])


def layer_capacities(group: GroupInfo, z_frac: tuple[float, ...]) -> tuple[int, ...]:
    """Per Wyckoff position of a layer group: how many orbits a position fixed in the plane can hold (one
    per height it owns on the grid; 0 when the heights give it none), and 1 for the others (unused: only
    fixed positions have a capacity). A fixed position's heights do not depend on the in-plane divisions,
    so the coarsest commensurate grid tells."""
    d = group.denominators
    grid = get_grid(group, (d[0], d[1], len(z_frac)), tuple(z_frac))
    return tuple(len(grid.sites_of_wyckoff(w.index)) if w.fixed else 1 for w in group.wyckoffs)
