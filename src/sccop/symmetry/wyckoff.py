"""Wyckoff assignments: ways to distribute each element's atoms over a group's Wyckoff positions.

An assignment is a tuple of (element, Wyckoff index) pairs, one per occupied orbit. A position with no
free parameter (dof 0) holds at most as many orbits as its capacity: 1 in a crystal; in a layer, a
position fixed in the plane (0, 0, z) holds one orbit per height the grid offers it (`capacities`, see
sccop.symmetry.grid.layer_capacities). Positions with free parameters may hold several. Atom counts are
per conventional cell.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sccop.symmetry.groups import GroupInfo

Assignment = tuple[tuple[str, int], ...]


Capacities = tuple[int, ...] | None  # per Wyckoff index, for fixed positions; None: 1 each

# With `fewest_first`, the capped list is chosen from up to this many times the cap (and search nodes).
FEWEST_POOL = 16


def _capacities(group: GroupInfo, capacities: Capacities) -> tuple[int, ...]:
    return tuple(capacities) if capacities is not None else (1,) * len(group.wyckoffs)


def _reachable(group: GroupInfo, count: int, capacities: Capacities = None) -> bool:
    """Can `count` atoms be written as a sum of multiplicities (fixed positions at most their capacity times)?"""
    return _reachable_after(group, count, np.arange(len(group.wyckoffs)), (0,) * len(group.wyckoffs),
                            _capacities(group, capacities))


def compatibility_problem(group: GroupInfo, counts: dict[str, int], capacities: Capacities = None) -> str | None:
    """Fast check: None when some assignment exists, else a one-line reason naming the element(s).

    `counts` are per conventional cell; for a centred group the reason also gives the primitive count.
    """
    factor = group.centring_factor
    note = " in the conventional cell ({} per primitive cell)" if factor > 1 else ""
    for el, n in counts.items():
        if not _reachable(group, n, capacities):
            return f"{group.symbol} has no Wyckoff combination for {n} {el} atoms" + note.format(n // factor)
    if not wyckoff_assignments(group, counts, cap=1, capacities=capacities):
        total = " + ".join(f"{n} {el}" for el, n in counts.items())
        return f"{group.symbol} has no Wyckoff combination for {total} atoms together (special positions run out)"
    return None


def wyckoff_assignments(
    group: GroupInfo,
    counts: dict[str, int],
    *,
    cap: int = 256,
    seed: int = 0,
    max_nodes: int = 200_000,
    capacities: Capacities = None,
    fewest_first: bool = False,
) -> list[Assignment]:
    """Up to `cap` distinct assignments in randomised order (deterministic for a given `seed`); with
    `fewest_first`, the `cap` with the fewest orbits among up to FEWEST_POOL times as many found.

    Each assignment comes from one randomised descent: element by element, Wyckoff positions in shuffled
    order, a random number of orbits on each, backtracking on dead ends, which a knapsack reachability
    test prunes early. Independent descents give diverse assignments (a plain depth-first enumeration
    would return near-copies of its first branch). `max_nodes` bounds the total work so no call hangs.
    """
    key = tuple(sorted(counts.items()))
    listing = _fewest_assignments if fewest_first else _assignments
    return list(listing(group.number, group.dim, key, cap, seed, max_nodes, _capacities(group, capacities)))


@lru_cache(maxsize=4096)
def _fewest_assignments(
    number: int, dim: int, counts: tuple[tuple[str, int], ...], cap: int, seed: int, max_nodes: int,
    capacities: tuple[int, ...],
) -> tuple[Assignment, ...]:
    """The `cap` assignments with the fewest orbits among up to FEWEST_POOL times as many (and search nodes);
    a stable sort, so within one orbit count they keep the randomised order."""
    pool = _assignments(number, dim, counts, FEWEST_POOL * cap, seed, FEWEST_POOL * max_nodes, capacities)
    return tuple(sorted(pool, key=len)[:cap])


@lru_cache(maxsize=4096)
def _assignments(
    number: int, dim: int, counts: tuple[tuple[str, int], ...], cap: int, seed: int, max_nodes: int,
    capacities: tuple[int, ...],
) -> tuple[Assignment, ...]:
    from sccop.symmetry.groups import get_group

    group = get_group(number, dim)
    rng = np.random.default_rng(seed)
    wyckoffs = group.wyckoffs
    budget = [max_nodes]

    # `used` counts the orbits already put on each fixed position, as a tuple so it can be shared.
    def descend(el_idx: int, used: tuple[int, ...]) -> list[tuple[str, int]] | None:
        if el_idx == len(counts):
            return []
        el, n = counts[el_idx]
        order = rng.permutation(len(wyckoffs))

        def fill(pos: int, remaining: int, used: tuple[int, ...]) -> list[tuple[str, int]] | None:
            budget[0] -= 1
            if budget[0] < 0:
                return None
            if remaining == 0:
                return descend(el_idx + 1, used)
            if pos == len(order):
                return None
            wp = wyckoffs[order[pos]]
            most = remaining // wp.multiplicity
            if wp.fixed:
                most = min(most, capacities[wp.index] - used[wp.index])
            for k in rng.permutation(most + 1):
                k = int(k)
                left = remaining - k * wp.multiplicity
                new_used = used
                if wp.fixed and k:
                    new_used = used[: wp.index] + (used[wp.index] + k,) + used[wp.index + 1 :]
                if left and not _reachable_after(group, left, order[pos + 1 :], new_used, capacities):
                    continue
                rest = fill(pos + 1, left, new_used)
                if rest is not None:
                    return [(el, int(wp.index))] * k + rest
            return None

        return fill(0, n, used)

    found: dict[Assignment, None] = {}
    misses = 0
    # Stop at the cap, when the budget runs out, or after 32 descents in a row found nothing new.
    while len(found) < cap and budget[0] > 0 and misses < 32:
        result = descend(0, (0,) * len(wyckoffs))
        if result is None:
            if budget[0] <= 0 or not found:
                break
            misses += 1
            continue
        key = tuple(sorted(result))
        if key in found:
            misses += 1
        else:
            found[key] = None
            misses = 0
    return tuple(found)


def parsimony_weights(assignments: list[Assignment] | tuple[Assignment, ...], bias: float) -> np.ndarray:
    """Probabilities of drawing each assignment: exp(-bias * (its orbits - the fewest orbits among them)),
    normalised (Pauling's rule of parsimony: a crystal tends to have few kinds of site); uniform at bias 0."""
    orbits = np.array([len(a) for a in assignments], dtype=float)
    weights = np.exp(-bias * (orbits - orbits.min()))
    return weights / weights.sum()


def _reachable_after(
    group: GroupInfo, count: int, positions: np.ndarray, used: tuple[int, ...], capacities: tuple[int, ...]
) -> bool:
    """Knapsack reachability of `count` atoms with only the still-undecided `positions`.

    Bit c of the Python integer `can` says whether c atoms can be placed; shifts add one orbit.
    """
    mask = (1 << (count + 1)) - 1
    can = 1
    for i in positions:
        wp = group.wyckoffs[i]
        m = wp.multiplicity
        if m > count:
            continue
        if wp.fixed:
            for _ in range(capacities[wp.index] - used[wp.index]):  # one 0/1 item per allowed copy
                can |= (can << m) & mask
        else:
            step = m  # unbounded copies: shifts by m, 2m, 4m ... reach every multiple in log steps
            while step <= count:
                can |= (can << step) & mask
                step *= 2
        if can >> count & 1:
            return True
    return bool(can >> count & 1)
