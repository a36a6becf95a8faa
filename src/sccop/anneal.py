"""Simulated annealing on the asymmetric-unit grid, many chains in lockstep.

A move relocates one orbit to a free grid site of the same multiplicity, or swaps the elements of two
orbits of equal multiplicity; the lattice stays. A proposal is used only if it keeps the distance rule
d_ij >= f (r_i + r_j). All chains propose, then one batched call scores every proposal
(`energy_fn(list of structures) -> energies per atom`), then each chain accepts by Metropolis at its
temperature T = T0 decay^step. Each chain remembers the lowest structure it visited.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sccop.composition import distance_limits
from sccop.config import AnnealConfig
from sccop.sampling.structure import SymmetricStructure
from sccop.symmetry.grid import GridDistances


class DistanceRule:
    """Checks d_ij >= f (r_i + r_j) for structures on one grid and lattice (cached per chain)."""

    def __init__(self, structure: SymmetricStructure, distance_factor: float):
        elements = sorted({o.element for o in structure.orbits})
        self.index = {e: k for k, e in enumerate(elements)}
        self.limits = distance_limits(elements, distance_factor)
        self.distances = GridDistances(structure.grid, structure.lattice, float(self.limits.max()) + 1e-6)
        self.self_distance = self.distances.site_self_distance()

    def limit(self, a: str, b: str) -> float:
        return float(self.limits[self.index[a], self.index[b]])

    def ok(self, structure: SymmetricStructure, changed: list[int]) -> bool:
        """True when the orbits in `changed` keep the rule with themselves and with every other orbit."""
        grid = structure.grid
        orbits = structure.orbits
        sites = [o.site for o in orbits]
        for i in changed:
            oi = orbits[i]
            if sites.count(oi.site) > 1 or self.self_distance[oi.site] < self.limit(oi.element, oi.element):
                return False
            rep = grid.site_rep[oi.site : oi.site + 1]
            for j, oj in enumerate(orbits):
                if j == i:
                    continue
                if self.distances.between(rep, grid.site_points(oj.site)).min() < self.limit(oi.element, oj.element):
                    return False
        return True


def propose(structure: SymmetricStructure, rule: DistanceRule, config: AnnealConfig, rng: np.random.Generator):
    """A random valid neighbour of `structure`, or None when `proposal_tries` draws all broke the rule."""
    grid = structure.grid
    orbits = structure.orbits
    mult = structure.multiplicities()
    for _ in range(config.proposal_tries):
        if len(orbits) > 1 and rng.random() < config.swap_share:
            i, j = rng.choice(len(orbits), size=2, replace=False)
            if mult[i] != mult[j] or orbits[i].element == orbits[j].element:
                continue
            candidate, changed = structure.with_swapped_elements(int(i), int(j)), [int(i), int(j)]
        else:
            i = int(rng.integers(len(orbits)))
            same = np.flatnonzero(grid.site_multiplicity == mult[i])
            used = {o.site for o in orbits}
            free = [int(s) for s in same if s not in used]
            if not free:
                continue
            candidate, changed = structure.with_site(i, free[int(rng.integers(len(free)))]), [i]
        if rule.ok(candidate, changed):
            return candidate
    return None


@dataclass
class AnnealResult:
    best: list[SymmetricStructure]  # lowest structure of each chain
    best_energy: np.ndarray
    acceptance: float  # accepted / proposed, over all chains and steps
    proposals: int


def anneal(
    starts: list[SymmetricStructure],
    energy_fn,
    config: AnnealConfig | None = None,
    rng: np.random.Generator | None = None,
    *,
    distance_factor: float = 0.7,
) -> AnnealResult:
    """Anneal `restarts` chains from every start in lockstep; returns each chain's lowest structure."""
    config = config or AnnealConfig()
    rng = rng or np.random.default_rng(0)
    rules = [DistanceRule(s, distance_factor) for s in starts]
    chains = [s for s in starts for _ in range(config.restarts)]
    chain_rule = [rules[k] for k in range(len(starts)) for _ in range(config.restarts)]
    energy = np.asarray(energy_fn(chains), dtype=float)
    best, best_energy = list(chains), energy.copy()
    accepted = proposed = 0
    for step in range(config.steps):
        temperature = config.t0 * config.decay**step
        proposals = [propose(c, r, config, rng) for c, r in zip(chains, chain_rule)]
        moving = [k for k, p in enumerate(proposals) if p is not None]
        if not moving:
            break
        new_energy = np.asarray(energy_fn([proposals[k] for k in moving]), dtype=float)
        for k, e in zip(moving, new_energy):
            proposed += 1
            if e <= energy[k] or rng.random() < np.exp(-(e - energy[k]) / max(temperature, 1e-12)):
                chains[k], energy[k] = proposals[k], e
                accepted += 1
                if e < best_energy[k]:
                    best[k], best_energy[k] = proposals[k], e
    return AnnealResult(best=best, best_energy=best_energy, acceptance=accepted / max(proposed, 1), proposals=proposed)
