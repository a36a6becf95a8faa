"""Simulated annealing on the asymmetric-unit grid, many chains in lockstep.

A move relocates one orbit to a free grid site of the same multiplicity, swaps the elements of two
orbits of equal multiplicity, or (a small share) strains the lattice within its lattice system. A
proposal is used only if it keeps the distance rule d_ij >= f (r_i + r_j). All chains propose, then one batched call scores every proposal
(`energy_fn(list of structures) -> energies per atom`), then each chain accepts by Metropolis at its
temperature T = T0 decay^step. Each chain remembers the lowest structure it visited.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sccop.composition import distance_limits
from sccop.config import AnnealConfig
from sccop.graph.crystal_graph import pairs_within
from sccop.sampling.lattice import strain_lattice
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

    def ok_everywhere(self, structure: SymmetricStructure) -> bool:
        """True when every orbit keeps the rule in `structure`'s own lattice (used after a strain)."""
        lattice, symbols, frac = structure.conventional()
        mult = structure.multiplicities()
        first = np.concatenate([[0], np.cumsum(mult)[:-1]])
        pbc = np.array([True, True, structure.grid.periodic_z])
        i, j, d = pairs_within(np.asarray(lattice, dtype=float), frac, pbc, first, float(self.limits.max()))
        kind = np.array([self.index[e] for e in symbols])
        return bool(np.all(d >= self.limits[kind[i], kind[j]]))


class Rules:
    """Distance rules per (grid, lattice), built when a chain first needs one (strains change lattices)."""

    def __init__(self, distance_factor: float, size: int = 256):
        self.distance_factor = distance_factor
        self.size = size
        self._cache: dict = {}

    def __call__(self, structure: SymmetricStructure) -> DistanceRule:
        key = (id(structure.grid), structure.lattice.tobytes())
        rule = self._cache.pop(key, None) or DistanceRule(structure, self.distance_factor)
        self._cache[key] = rule  # most recently used last
        if len(self._cache) > self.size:
            self._cache.pop(next(iter(self._cache)))
        return rule


def _strained(structure: SymmetricStructure, rule: DistanceRule, config: AnnealConfig, reference_volume: float, rng):
    lattice = strain_lattice(
        structure.lattice, structure.group.lattice_system, config.strain_size, rng, layer=not structure.grid.periodic_z
    )
    if not np.all(np.isfinite(lattice)) or abs(np.linalg.det(lattice)) < 1e-6:
        return None
    candidate = SymmetricStructure(grid=structure.grid, lattice=lattice, orbits=structure.orbits)
    if abs(_size(candidate) / reference_volume - 1.0) > config.max_volume_change:
        return None
    return candidate if rule.ok_everywhere(candidate) else None


def _size(structure: SymmetricStructure) -> float:
    """Cell volume (3D) or in-plane area (2D)."""
    volume = abs(np.linalg.det(structure.lattice))
    return volume if structure.grid.periodic_z else volume / np.linalg.norm(structure.lattice[2])


def propose(
    structure: SymmetricStructure,
    rule: DistanceRule,
    config: AnnealConfig,
    rng: np.random.Generator,
    reference_volume: float | None = None,
):
    """A random valid neighbour of `structure`, or None when `proposal_tries` draws all broke the rule.

    `rule` must be the distance rule of `structure`'s lattice; strains are checked in the new lattice.
    """
    grid = structure.grid
    orbits = structure.orbits
    mult = structure.multiplicities()
    for _ in range(config.proposal_tries):
        draw = rng.random()
        if draw < config.strain_share:
            candidate = _strained(structure, rule, config, reference_volume or _size(structure), rng)
            if candidate is not None:
                return candidate
            continue
        if len(orbits) > 1 and draw < config.strain_share + config.swap_share:
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
    progress: str | None = None,
) -> AnnealResult:
    """Anneal `restarts` chains from every start in lockstep; returns each chain's lowest structure.
    `progress`: a progress-bar label (None: no bar)."""
    from tqdm import tqdm

    config = config or AnnealConfig()
    rng = rng or np.random.default_rng(0)
    rules = Rules(distance_factor)
    chains = [s for s in starts for _ in range(config.restarts)]
    reference = [_size(s) for s in chains]
    energy = np.asarray(energy_fn(chains), dtype=float)
    best, best_energy = list(chains), energy.copy()
    accepted = proposed = 0
    for step in tqdm(range(config.steps), desc=progress, unit="step", disable=progress is None, leave=False):
        temperature = config.t0 * config.decay**step
        proposals = [propose(c, rules(c), config, rng, v) for c, v in zip(chains, reference)]
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
