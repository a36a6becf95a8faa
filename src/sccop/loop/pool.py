"""The pool the network scores: each round's samples, and samples on the lattices of the best
relaxed structures so far (from round 1; a layer's in its layer group) and of a user's relaxed seeds
(from round 0)."""

from __future__ import annotations

import numpy as np

from sccop.calls.rows import sample_uid, seed_uid, structure_row
from sccop.config import RunConfig
from sccop.loop.seeds import seed_assignment
from sccop.loop.state import SearchState
from sccop.symmetry.analysis import conventional_seed, merge_duplicates, to_structure


def sample_pool(sampler, config: RunConfig, round_: int, progress: bool = False) -> dict:
    """This round's `search.samples` structures (uid -> SymmetricStructure); structure i of a run depends
    only on (seed, i)."""
    samples = config.search.samples
    found = sampler.sample(samples, config.seed, start=round_ * samples, progress=progress,
                           desc=f"round {round_}: sampling")
    return {sample_uid(round_, i): s for i, s in found}


def seed_parents(state: SearchState, config: RunConfig) -> list[str]:
    """The `seed_structures` lowest relaxed structures. With relaxation labels many relax into the same
    basin, so copies (StructureMatcher) are skipped; single-point runs keep the plain lowest (their
    round-end relaxations are already unique within a round)."""
    n = config.search.seed_structures
    lowest = sorted(state.relaxed, key=state.relaxed.get)
    if config.search.label_with != "relaxation":
        return lowest[:n]
    groups = merge_duplicates(lowest, lambda u: to_structure(state.relaxed_atoms[u]), limit=n)
    return [group[0] for group in groups]


def seeded_samples(state: SearchState, config: RunConfig, sampler, round_: int, rng: np.random.Generator) -> tuple[dict, dict]:
    """`seed_samples` structures on the symmetrised lattice of each seed parent whose group and cell size
    the sampler allows: (uid -> SymmetricStructure, uid -> parent). Parents: the relaxed user seeds in
    round 0 (placed with their own Wyckoff assignment), the lowest relaxed structures later."""
    structures, parents = {}, {}
    if not state.relaxed:
        return structures, parents
    if round_ == 0:
        chosen = [u for u in state.user_seeds if u in state.relaxed]  # a user's seeds only, from round 0
    else:
        chosen = seed_parents(state, config)
    allowed = {g.number: (g, zs) for g, zs in sampler.options}
    for parent in chosen:
        seed = conventional_seed(state.relaxed_atoms[parent], sampler.composition.atoms_per_formula)
        if seed is None or seed[0] not in allowed:
            continue
        number, z, lattice = seed
        group, zs = allowed[number]
        if z not in zs:
            continue
        assignment = seed_assignment(state.relaxed_atoms[parent], group) if parent in state.user_seeds else None
        for k in range(config.search.seed_samples):
            s = sampler.attempt(group, z, rng, lattice=lattice, assignment=assignment)
            if s is None and assignment is not None:  # the seed's positions do not fit the sampler's grid
                s = sampler.attempt(group, z, rng, lattice=lattice)
            if s is not None:
                uid = seed_uid(round_, parent, k)
                structures[uid], parents[uid] = s, parent
    return structures, parents


def pool_rows(structures: dict, parents: dict, round_: int) -> list[tuple]:
    """The sample rows of new pool members."""
    return [structure_row(uid, s, stage="sample", round=round_, **({"parent": parents[uid]} if uid in parents else {}))
            for uid, s in structures.items()]


__all__ = ["sample_pool", "seed_parents", "seeded_samples", "pool_rows"]
