"""The answer of a run, rebuilt from its rows alone (no backend call): `ranked(store, config)`.

1. Merge duplicates: the relaxed structures, lowest first, are grouped with pymatgen's StructureMatcher;
   each group is one candidate (its lowest member or, with `prefer_symmetry`, its member of highest
   point-group order within `energy_tolerance` of the lowest), and `copies` counts its members.
2. Symmetrised versions (stage `refine`, made by sccop.answer.refine): the highest-symmetry version
   (point-group order, then energy) whose energy per atom is within `energy_tolerance` of the relaxed
   structure's replaces it; a version of the same order only in the same space group, at a lower energy.
3. Merge again (two low-symmetry relaxations can symmetrise to one structure) and rank by energy, ties
   (within `energy_tolerance`) going to the higher point-group order (`prefer_symmetry`) where the lower
   structure's group is a subgroup of the other's (a distortion of it); between polytypes (hcp and fcc)
   the energy decides.
4. Re-ranking rows (stage `rerank`), when configured: the candidates the second backend relaxed are
   ranked by its energy; the others follow by the first backend's energy.
A run that relaxed nothing reports its labelled single points instead (Candidate.relaxed False).
Outputs, the report, phonons and the bench all read the answer here.
"""

from __future__ import annotations

from dataclasses import replace

from sccop.answer.candidates import Candidate, by_symmetry, label_candidates, raw_candidates
from sccop.calls.rows import ranking_energy, refine_uid, rerank_uid, row_spacegroup
from sccop.config import BackendConfig, RefineConfig, RunConfig
from sccop.symmetry.analysis import merge_duplicates, point_group_order, to_structure

# The version of the rules above. Raise it when a code change can alter which structure is reported or its
# rank: `sccop bench` then scores its finished pairs again (from their databases, with no new search).
RANKING_VERSION = 4

# The answer as relaxed: duplicates merged, ranked by energy alone, nothing symmetrised or re-ranked.
AS_RELAXED = RefineConfig(symmetrize=False, prefer_symmetry=False, rerank=None)


def choose_version(raw_energy: float, raw_order: int, versions: list[tuple], tolerance: float,
                   raw_group: int | None = None):
    """The chosen version among (uid, energy, point-group order[, space group]): the highest order (then
    the lowest energy) whose energy is at most `tolerance` above `raw_energy`; None keeps the relaxed
    structure. A version never lowers the symmetry, and one of the same order replaces the relaxed
    structure only in its own space group (`raw_group`) and at a lower energy: a P6_3/mmc relaxation is
    never reported as P6/mmm."""
    best = None
    for uid, energy, order, *group in versions:
        if energy > raw_energy + tolerance or order < raw_order:
            continue
        if order == raw_order and raw_group is not None and group and group[0] != raw_group:
            continue
        key = (-order, energy)
        if best is None or key < best[0]:
            best = (key, uid)
    if best is None or (best[0][0] == -raw_order and best[0][1] >= raw_energy):
        return None
    return best[1]


def tie_tolerance(config: RunConfig) -> float | None:
    """The energy window (eV/atom) inside which symmetry decides, or None when energy alone ranks."""
    cfg = config.refine
    return cfg.energy_tolerance if cfg.symmetrize and cfg.prefer_symmetry else None


def pool_size(config: RunConfig) -> int:
    """Candidates considered, whatever `top` a reader asks for, so that every reader agrees."""
    return max(config.refine.top, config.refine.rerank_top, config.search.top)


def rerank_name(config: RunConfig) -> str:
    """The re-ranking backend as it names rows: `sevennet`, `sevennet-7net-l3i5` with a model, and
    `sevennet-7net-mf-0-PBE` with a fidelity (so rows of another model or fidelity are other rows)."""
    from sccop.backends import parse_backend

    parts = (parse_backend(config.refine.rerank).value, config.refine.rerank_model, config.refine.rerank_modal)
    return "-".join(part for part in parts if part)


def rerank_backend(config: RunConfig) -> BackendConfig:
    """The BackendConfig of the re-ranking backend: the search's settings with the other name, model and
    fidelity."""
    from sccop.backends import parse_backend

    return replace(config.backend, name=parse_backend(config.refine.rerank).value, model=config.refine.rerank_model,
                   modal=config.refine.rerank_modal)


def _symmetrised(store, c: Candidate, cfg: RefineConfig) -> None:
    """Replace `c` by its chosen symmetrised version, when a stored one qualifies."""
    raw_order = point_group_order(c.atoms)
    versions, rows = [], {}
    for tol in cfg.tolerances:
        uid = refine_uid(c.source, tol)
        if uid in store:
            row = store.get(uid)
            if row.get("status") == "ok":
                atoms = row.toatoms()
                rows[uid] = (row, atoms)
                versions.append((uid, ranking_energy(row), point_group_order(atoms), row_spacegroup(row, atoms)))
    chosen = choose_version(c.raw_energy, raw_order, versions, cfg.energy_tolerance, c.raw_spacegroup)
    if chosen is not None:
        row, atoms = rows[chosen]
        c.uid, c.atoms, c.energy, c.symmetrized = chosen, atoms, ranking_energy(row), True
        c.spacegroup = row_spacegroup(row, atoms)


def _reranked(store, candidates: list[Candidate], config: RunConfig) -> list[Candidate]:
    name = rerank_name(config)
    for c in candidates[: config.refine.rerank_top]:
        uid = rerank_uid(name, c.uid)
        if uid in store:
            row = store.get(uid)
            c.rerank_uid = uid
            if row.get("status") == "ok":
                c.rerank_energy = ranking_energy(row)
                c.rerank_spacegroup = row_spacegroup(row)
            else:
                c.rerank_reason = row.get("reason")
    inf = float("inf")
    candidates.sort(key=lambda c: (c.rerank_energy is None, c.rerank_energy if c.rerank_energy is not None else inf,
                                   c.rank_primary))
    for rank, c in enumerate(candidates, 1):
        c.rank = rank
    return candidates


def ranked(store, config: RunConfig, top: int | None = None) -> list[Candidate]:
    """The final candidates from the database rows alone (see the module docstring). `top`: most returned."""
    cfg = config.refine
    tie = tie_tolerance(config)
    candidates = raw_candidates(store, pool_size(config), tie)
    if not candidates:  # nothing relaxed yet (a tiny budget): the labelled single points
        found = label_candidates(store, config.search.top)
        return found[:top] if top else found
    if cfg.symmetrize:
        for c in candidates[: cfg.top]:
            _symmetrised(store, c, cfg)
        merged = []
        for group in merge_duplicates(sorted(candidates, key=lambda c: (c.energy, c.uid)), lambda c: to_structure(c.atoms)):
            first = group[0]
            if tie is not None and len(group) > 1:
                first = by_symmetry(group, tie)[0]
            first.copies = sum(c.copies for c in group)
            merged.append(first)
        candidates = merged
    candidates.sort(key=lambda c: (c.energy, c.uid))
    if tie is not None:
        candidates = by_symmetry(candidates, tie, distinct=True)
    for rank, c in enumerate(candidates, 1):
        c.rank = c.rank_primary = rank
    if cfg.rerank:
        candidates = _reranked(store, candidates, config)
    return candidates[:top] if top else candidates


__all__ = ["RANKING_VERSION", "AS_RELAXED", "choose_version", "tie_tolerance", "pool_size", "rerank_name",
           "rerank_backend", "ranked"]
