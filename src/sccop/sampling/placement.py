"""Placing orbits on the asymmetric-unit grid by a randomised, bounded tree search.

Orbits are placed one at a time, most constrained first. A site is a candidate for an orbit of element
e when its whole orbit keeps every distance d >= f (r_e + r_s) to the atoms already placed (species s)
and d >= 2 f r_e to its own images. By symmetry, an orbit's distance to a symmetric set of atoms is
its representative's distance, so each test costs one lookup per site and element. The search
backtracks and stops after `max_nodes` placements, so an attempt never hangs.
"""

from __future__ import annotations

import numpy as np

from sccop.symmetry.grid import GridDistances, SymmetryGrid


def place_orbits(
    grid: SymmetryGrid,
    distances: GridDistances,
    slots: list[tuple[int, int]],
    min_dist: np.ndarray,
    rng: np.random.Generator,
    *,
    max_nodes: int = 64,
) -> list[int] | None:
    """Choose one grid site per slot, or None when the bounded search finds no valid placement.

    slots: (species index, Wyckoff index) per orbit; min_dist[s, t] the smallest allowed distance between
    species s and t. Returns the site of each slot, in the slots' order.
    """
    n_species = min_dist.shape[0]
    self_dist = distances.site_self_distance()
    candidates = []
    for species, wyckoff in slots:
        sites = grid.sites_of_wyckoff(wyckoff)
        sites = sites[self_dist[sites] >= min_dist[species, species]]
        if len(sites) == 0:
            return None
        candidates.append(sites)
    # Most constrained first: fewest candidate sites, then largest multiplicity.
    order = sorted(
        range(len(slots)),
        key=lambda k: (len(candidates[k]), -int(grid.site_multiplicity[candidates[k][0]]), rng.random()),
    )
    reps = grid.site_rep
    # nearest[s, site]: distance from the site's representative to the nearest placed atom of species s.
    nearest = np.full((n_species, grid.n_sites), np.inf)
    chosen: dict[int, int] = {}
    nodes = 0

    def search(depth: int, nearest: np.ndarray) -> bool:
        nonlocal nodes
        if depth == len(order):
            return True
        k = order[depth]
        species = slots[k][0]
        cand = candidates[k]
        ok = np.all(nearest[:, cand] >= min_dist[:, species, None], axis=0)
        cand = cand[ok]
        for site in cand[rng.permutation(len(cand))]:
            nodes += 1
            if nodes > max_nodes:
                return False
            pts = grid.site_points(int(site))
            new = nearest.copy()
            np.minimum(new[species], distances.between(reps, pts).min(axis=1), out=new[species])
            new[:, site] = 0.0  # the offset table reads a point's own site as its image distance: close it
            chosen[k] = int(site)
            if search(depth + 1, new):
                return True
            if nodes > max_nodes:
                return False
        return False

    if not search(0, nearest):
        return None
    return [chosen[k] for k in range(len(slots))]
