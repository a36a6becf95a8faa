"""What random search scores on average, from the relaxations one run of it made.

Random search (sccop.baseline) draws each structure from (seed, index) alone and relaxes it, so its
relaxations are independent draws from one distribution and any ordering of them is as likely as the
one the run made. One run of n relaxations is then a sample from which the outcome of a run with k of
them can be estimated without searching again:

- `top1_chance`: the chance that the lowest energy of k relaxations is in the target group, over all
  k-subsets of the pool (exact, unbiased for k <= n), or over k draws with replacement (the bootstrap;
  the only estimate of the spread at k = n, where every subset is the run itself);
- `expected_first_hit`: the expected backend calls and energy-and-force evaluations until the first
  relaxation in the target group, over all orderings of the pool (exact);
- `top1_chance_within`: the chance of a top-1 hit for a run cut where its evaluations reach a budget,
  over random orderings (Monte Carlo, seeded).

The bench's single run gives each row's outcome once, at one seed; these give its expectation, so a
count of rows won by one or two is not read as a difference when it is luck of the draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from pathlib import Path

import numpy as np

from sccop.calls.rows import evaluations, ranking_energy, row_spacegroup


@dataclass(frozen=True)
class Relaxation:
    """One relaxation of a random search: energy per atom (None when it failed), its group (SpacegroupAnalyzer,
    symprec 0.1; None when it failed) and its energy-and-force evaluations (optimizer steps plus one)."""

    energy: float | None
    group: int | None
    evaluations: int


def read_pool(db_path: str | Path) -> list[Relaxation]:
    """The relaxations of a random search database, in the order the run made them."""
    from sccop.calls.store import Store

    store = db_path if isinstance(db_path, Store) else Store(db_path)
    pool = []
    for r in sorted(store.rows(backend_call=1, stage="relax"), key=lambda r: r.calls):
        ok = r.get("status") == "ok"
        pool.append(Relaxation(energy=float(ranking_energy(r)) if ok else None,
                               group=row_spacegroup(r) if ok else None, evaluations=evaluations(r)))
    return pool


def _by_energy(pool: list[Relaxation]) -> list[Relaxation]:
    """Lowest energy first, failures last (they are never a run's answer), ties in the run's order."""
    return sorted(pool, key=lambda p: (p.energy is None, p.energy if p.energy is not None else 0.0))


def top1_chance(pool: list[Relaxation], target: int, k: int, *, replace: bool = False) -> float:
    """Chance that the lowest-energy relaxation of a run of `k` is in `target`: over the k-subsets of the
    pool, or (`replace`) over k draws with replacement."""
    n = len(pool)
    if n == 0 or k < 1 or (k > n and not replace):
        raise ValueError(f"a run of {k} from a pool of {n} relaxations")
    chance = 0.0
    for rank, p in enumerate(_by_energy(pool), start=1):  # rank r is the run's answer when it is drawn and
        if p.energy is None or p.group != target:         # none of ranks 1..r-1 is
            continue
        if replace:
            chance += ((n - rank + 1) / n) ** k - ((n - rank) / n) ** k
        else:
            chance += comb(n - rank, k - 1) / comb(n, k)
    return chance


def expected_first_hit(pool: list[Relaxation], target: int) -> tuple[float, float] | None:
    """(calls, evaluations) until the first relaxation in `target`, counting it, averaged over all orderings
    of the pool; None when no relaxation is in it.

    With h hits among n, the first hit is at (n + 1) / (h + 1) on average; each other relaxation comes
    before every hit with chance 1 / (h + 1), and each hit is the first with chance 1 / h.
    """
    hits = [p for p in pool if p.energy is not None and p.group == target]
    if not hits:
        return None
    h, n = len(hits), len(pool)
    others = sum(p.evaluations for p in pool if not (p.energy is not None and p.group == target))
    return (n + 1) / (h + 1), sum(p.evaluations for p in hits) / h + others / (h + 1)


def top1_chance_within(pool: list[Relaxation], target: int, evaluations: int, rng: np.random.Generator,
                       draws: int = 4000) -> float:
    """Chance of a top-1 hit for a run that stops before its evaluations pass `evaluations` (as
    `sccop.bench.scoring.group_within` cuts the run itself), over `draws` random orderings of the pool."""
    cost = np.array([p.evaluations for p in pool])
    energy = np.array([np.inf if p.energy is None else p.energy for p in pool])
    hit = np.array([p.energy is not None and p.group == target for p in pool])
    wins = 0
    for _ in range(draws):
        order = rng.permutation(len(pool))
        kept = order[np.cumsum(cost[order]) <= evaluations]
        if kept.size and np.isfinite(energy[kept]).any():
            wins += bool(hit[kept[np.argmin(energy[kept])]])
    return wins / draws


def expected_count(chances: list[float]) -> tuple[float, float]:
    """Expected number of hits over independent rows with these chances, and its standard deviation."""
    return sum(chances), sum(p * (1 - p) for p in chances) ** 0.5


def expectation(pool: list[Relaxation], target: int) -> dict:
    """The bench's fields for one random search run: `top1_chance` (its answer in `target` at its own
    budget, the bootstrap) and `expected_calls_to_hit` / `expected_evaluations_to_hit` (None without a hit)."""
    first = expected_first_hit(pool, target)
    return {
        "top1_chance": round(top1_chance(pool, target, len(pool), replace=True), 4) if pool else 0.0,
        "expected_calls_to_hit": None if first is None else round(first[0], 2),
        "expected_evaluations_to_hit": None if first is None else round(first[1], 1),
    }
