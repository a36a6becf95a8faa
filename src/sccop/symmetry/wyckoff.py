"""Wyckoff assignments: ways to distribute each element's atoms over a group's Wyckoff positions.

An assignment is a tuple of (element, Wyckoff index) pairs, one per occupied orbit. A position with no
free parameter (dof 0) holds at most one orbit in the whole structure; positions with free parameters
may hold several. Atom counts are per conventional cell.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sccop.symmetry.groups import GroupInfo

Assignment = tuple[tuple[str, int], ...]


def _reachable(group: GroupInfo, count: int) -> bool:
    """Can `count` atoms be written as a sum of multiplicities (fixed positions at most once)?"""
    return _reachable_after(group, count, np.arange(len(group.wyckoffs)), frozenset())


def compatibility_problem(group: GroupInfo, counts: dict[str, int]) -> str | None:
    """Fast check: None when some assignment exists, else a one-line reason naming the element(s).

    `counts` are per conventional cell; for a centred group the reason also gives the primitive count.
    """
    factor = group.centring_factor
    note = f" in the conventional cell ({{}} per primitive cell)" if factor > 1 else ""
    for el, n in counts.items():
        if not _reachable(group, n):
            return f"{group.symbol} has no Wyckoff combination for {n} {el} atoms" + note.format(n // factor)
    if not wyckoff_assignments(group, counts, cap=1):
        total = " + ".join(f"{n} {el}" for el, n in counts.items())
        return f"{group.symbol} has no Wyckoff combination for {total} atoms together (special positions run out)"
    return None


def wyckoff_assignments(
    group: GroupInfo, counts: dict[str, int], *, cap: int = 256, seed: int = 0, max_nodes: int = 200_000
) -> list[Assignment]:
    """Up to `cap` distinct assignments in randomised order (deterministic for a given `seed`).

    Each assignment comes from one randomised descent: element by element, Wyckoff positions in shuffled
    order, a random number of orbits on each, backtracking on dead ends, which a knapsack reachability
    test prunes early. Independent descents give diverse assignments (a plain depth-first enumeration
    would return near-copies of its first branch). `max_nodes` bounds the total work so no call hangs.
    """
    return list(_assignments(group.number, group.dim, tuple(sorted(counts.items())), cap, seed, max_nodes))


@lru_cache(maxsize=4096)
def _assignments(
    number: int, dim: int, counts: tuple[tuple[str, int], ...], cap: int, seed: int, max_nodes: int
) -> tuple[Assignment, ...]:
    from sccop.symmetry.groups import get_group

    group = get_group(number, dim)
    rng = np.random.default_rng(seed)
    wyckoffs = group.wyckoffs
    budget = [max_nodes]

    def descend(el_idx: int, used: frozenset[int]) -> list[tuple[str, int]] | None:
        if el_idx == len(counts):
            return []
        el, n = counts[el_idx]
        order = rng.permutation(len(wyckoffs))

        def fill(pos: int, remaining: int, used: frozenset[int]) -> list[tuple[str, int]] | None:
            budget[0] -= 1
            if budget[0] < 0:
                return None
            if remaining == 0:
                return descend(el_idx + 1, used)
            if pos == len(order):
                return None
            wp = wyckoffs[order[pos]]
            if wp.fixed:
                options = [0] if wp.index in used or wp.multiplicity > remaining else [0, 1]
            else:
                options = list(range(remaining // wp.multiplicity + 1))
            for k in rng.permutation(options):
                k = int(k)
                left = remaining - k * wp.multiplicity
                new_used = used | {wp.index} if (wp.fixed and k) else used
                if left and not _reachable_after(group, left, order[pos + 1 :], new_used):
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
        result = descend(0, frozenset())
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


def _reachable_after(group: GroupInfo, count: int, remaining_positions: np.ndarray, used: frozenset[int]) -> bool:
    """Knapsack reachability of `count` with only the still-undecided positions."""
    can = np.zeros(count + 1, dtype=bool)
    can[0] = True
    for i in remaining_positions:
        wp = group.wyckoffs[i]
        m = wp.multiplicity
        if m > count:
            continue
        if wp.fixed:
            if wp.index in used:
                continue
            can[m:] = can[m:] | can[:-m]
        else:
            for c in range(m, count + 1):
                if can[c - m]:
                    can[c] = True
    return bool(can[count])
