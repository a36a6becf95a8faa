"""One learning iteration after training: score the pool, partition the landscape, anneal from
region representatives (exploration) and the lowest labels (exploitation), and select diverse
low-energy candidates for the backend to label."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sccop.calls.rows import anneal_uid, structure_row
from sccop.config import RunConfig
from sccop.loop.state import SearchState

log = logging.getLogger("sccop.search")


@dataclass
class Learned:
    """What an iteration gives: the distinct annealing results (uid -> SymmetricStructure) with their
    rows, the picks to label, and the partition as the search saw it (for `sccop report`)."""

    annealed: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)
    picks: list[str] = field(default_factory=list)
    landscape: dict = field(default_factory=dict)


def _landscape(state: SearchState, embedding, regions, pred, spread, groups, reps) -> dict:
    """The partition's arrays: first two KernelPCA coordinates, regions, predictions, representatives,
    and the backend energies of the labelled pool members."""
    labelled = {source: state.labels[label] for label, source in state.label_source.items() if label in state.labels}
    xy = np.zeros((len(state.pool), 2))
    xy[:, : min(2, embedding.shape[1])] = embedding[:, :2]
    return {"embedding": xy, "regions": regions, "predicted": pred, "spread": spread, "spacegroups": groups,
            "representatives": np.asarray(reps, dtype=int),
            "backend": np.array([labelled.get(u, np.nan) for u in state.pool])}


def learn(state: SearchState, config: RunConfig, rng, round_: int, iteration: int, progress: bool = False) -> Learned:
    """Score, partition, anneal and select with the state's ensemble. `rng(stage)`: the generator of a
    stage (partition, anneal, select) of this iteration."""
    from sccop.anneal import anneal
    from sccop.graph import au_graph
    from sccop.landscape import deduplicate, partition, representatives, select

    cfg, ens, pool = config.search, state.ensemble, state.pool
    labelled = state.labelled
    graphs = [au_graph(state.structures[u], config.graph) for u in pool]
    pred, spread = ens.predict(graphs)
    vectors = ens.crystal_vectors(graphs)
    regions, embedding = partition(vectors, config.landscape, rng("partition"))
    groups = np.array([state.structures[u].spacegroup for u in pool])
    reps = representatives(regions, pred, groups, config.landscape.per_cluster)
    out = Learned(landscape=_landscape(state, embedding, regions, pred, spread, groups, reps))
    # Starts: the best representative of each region in turn (exploration), then the lowest labels.
    n_explore = int(round(cfg.starts * cfg.explore_share))
    explore, seen_regions = [], set()
    for i in sorted(reps, key=lambda i: pred[i]):
        if regions[i] not in seen_regions and len(explore) < n_explore:
            explore.append(pool[i])
            seen_regions.add(regions[i])
    exploit = [state.label_source[u] for u in state.labelled_order()]
    starts = explore + [u for u in exploit if u not in explore][: cfg.starts - len(explore)]
    result = anneal(
        [state.structures[u] for u in starts],
        lambda ss: ens.predict([au_graph(s, config.graph) for s in ss])[0],
        config.anneal,
        rng("anneal"),
        distance_factor=config.sampler.distance_factor,
        progress=f"round {round_}: annealing ({len(starts)} starts)" if progress else None,
    )
    chain_start = [u for u in starts for _ in range(config.anneal.restarts)]
    keys = set()
    for k in np.argsort(result.best_energy, kind="stable"):
        s = result.best[k]
        key = (s.lattice.tobytes(), s.orbits)
        if key in keys:
            continue
        keys.add(key)
        uid = anneal_uid(round_, iteration, int(k))
        out.annealed[uid] = s
        out.rows.append(structure_row(uid, s, stage="anneal", round=round_, iteration=iteration,
                                      predicted=float(result.best_energy[k]), parent=chain_start[k]))
    log.info("round %d iteration %d: %d chains, acceptance %.2f, %d distinct results, lowest predicted %.4f eV/atom",
             round_, iteration, len(result.best), result.acceptance, len(out.annealed), float(result.best_energy.min()))
    structures = {**state.structures, **out.annealed}
    # Candidates: annealing results and unlabelled region representatives.
    candidates = list(out.annealed)
    options = candidates + [pool[i] for i in reps if pool[i] not in labelled and pool[i] not in candidates]
    if config.landscape.family_cap:  # other families can fill what a full one leaves
        offered = set(options)
        options += [u for u in pool if u not in offered]
    options = [u for u in options if u not in labelled]
    if not options:
        return out
    g = [au_graph(structures[u], config.graph) for u in options]
    e, sd = ens.predict(g)
    vectors = ens.crystal_vectors(g)
    # One arrangement in another origin or setting of its group (another annealing chain's result) has
    # the same crystal vector: each is offered once, and not at all when it is labelled already.
    known = (ens.crystal_vectors([au_graph(structures[u], config.graph) for u in sorted(labelled)])
             if labelled else None)
    keep = deduplicate(list(np.argsort(e, kind="stable")), vectors, config=config.landscape, known=known)
    if not keep:
        return out
    keep.sort()
    options, e, sd, vectors = [options[i] for i in keep], e[keep], sd[keep], vectors[keep]
    families = [structures[u].family() for u in options] if config.landscape.family_cap else None
    picks = select(e, vectors, min(cfg.per_iteration, len(options)), uncertainty=sd,
                   config=config.landscape, rng=rng("select"), families=families)
    out.picks = [options[i] for i in picks]
    return out


def save_landscape(folder: Path, round_: int, iteration: int, landscape: dict) -> None:
    """DIR/landscape/rR_iI.npz, written whole, then renamed: the report never sees half a file."""
    folder.mkdir(exist_ok=True)
    partial = folder / f"r{round_}_i{iteration}.part.npz"
    np.savez(partial, **landscape)
    os.replace(partial, folder / f"r{round_}_i{iteration}.npz")


__all__ = ["Learned", "learn", "save_landscape"]
