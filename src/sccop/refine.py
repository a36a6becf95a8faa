"""Final refinement: what a search reports as its answer.

1. Merge duplicates: the relaxed structures, lowest first, are grouped with pymatgen's StructureMatcher;
   each group is one candidate (its lowest member or, with `prefer_symmetry`, its member of highest
   point-group order within `energy_tolerance` of the lowest), and `copies` counts its members.
2. Symmetrise and re-relax: each of the `top` lowest candidates is symmetrised at increasing tolerances
   (spglib through SpacegroupAnalyzer; the refined cell, made primitive); every new space group is
   re-relaxed under ASE's FixSymmetry. The highest-symmetry version (point-group order, then energy)
   whose energy per atom is within `energy_tolerance` of the relaxed structure's replaces it. Both stay in
   the database: the relaxation as stage `relax`, each version as stage `refine` (uid
   `refine:<relax uid>@<tolerance>`, `parent` the relaxation, `symprec` the tolerance).
3. Merge again (two low-symmetry relaxations can symmetrise to one structure) and rank by energy, ties
   (within `energy_tolerance`) going to the higher point-group order (`prefer_symmetry`).
4. Re-rank (optional): a second backend relaxes the `rerank_top` lowest candidates (stage `rerank`, uid
   `rerank:<backend>:<candidate uid>`) and they are ranked by its energy; the others follow by the first
   backend's energy.

Refinement calls are made after the search and do not count against its budget; their rows carry
`refine_call=1` instead of `backend_call=1`. `ranked` rebuilds the final list from the rows alone, so it
costs no backend call; `refine` makes the calls that are missing and then ranks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from ase import Atoms

from sccop.config import RunConfig
from sccop.relax import enthalpy_per_atom

log = logging.getLogger(__name__)

# The version of the rules above. Raise it when a code change can alter which structure is reported or its
# rank: `sccop bench` then scores its finished pairs again (from their databases, with no new search).
RANKING_VERSION = 2


@dataclass
class Candidate:
    """One final structure. `uid`: the row reported (a relax, refine or rerank row); `source`: the
    relaxation it came from; energies per atom (enthalpy under pressure)."""

    uid: str
    source: str
    atoms: Atoms
    energy: float
    spacegroup: int
    raw_energy: float
    raw_spacegroup: int
    round: int = 0
    calls: int = 0
    copies: int = 1
    symmetrized: bool = False
    rank_primary: int = 0
    rerank_uid: str | None = None
    rerank_energy: float | None = None
    rerank_spacegroup: int | None = None
    rerank_reason: str | None = None
    rank: int = 0


def _structure(atoms: Atoms):
    from pymatgen.io.ase import AseAtomsAdaptor

    return AseAtomsAdaptor.get_structure(atoms)


def _matcher():
    from pymatgen.analysis.structure_matcher import StructureMatcher

    return StructureMatcher()


def merge_duplicates(items: list, structure_of, matcher=None, limit: int | None = None) -> list[list]:
    """Groups of equivalent items (StructureMatcher), in the order of their first member; `items` should
    come lowest energy first, so each group's first member is its lowest. `limit`: most groups; later
    items only join the groups already there."""
    matcher = matcher or _matcher()
    groups: list[list] = []
    reps: list = []
    for item in items:
        s = structure_of(item)
        for group, rep in zip(groups, reps):
            if matcher.fit(s, rep):
                group.append(item)
                break
        else:
            if limit is None or len(groups) < limit:
                groups.append([item])
                reps.append(s)
    return groups


def point_group_order(atoms: Atoms, symprec: float = 0.01) -> int:
    """Number of point-group operations of a structure (1 for P1, 48 for m-3m); 1 when spglib fails."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        return len(SpacegroupAnalyzer(_structure(atoms), symprec=symprec).get_point_group_operations())
    except Exception:  # noqa: BLE001 - spglib fails on broken cells
        return 1


def symmetrized_versions(atoms: Atoms, tolerances) -> list[tuple[float, int, Atoms]]:
    """(tolerance, space group, refined primitive structure) for each tolerance that finds a space group
    not found at a smaller one; the group at the smallest tolerance (the structure's own) is left out."""
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    structure = _structure(atoms)
    seen: set[int] = set()
    out = []
    for k, tol in enumerate(sorted(tolerances)):
        try:
            sga = SpacegroupAnalyzer(structure, symprec=tol)
            number = sga.get_space_group_number()
            if number in seen or k == 0:
                seen.add(number)
                continue
            seen.add(number)
            refined = sga.get_refined_structure()
            primitive = SpacegroupAnalyzer(refined, symprec=1e-3).get_primitive_standard_structure()
        except Exception:  # noqa: BLE001 - spglib gives up on some cells at some tolerances
            continue
        if primitive.composition.reduced_composition != structure.composition.reduced_composition:
            continue
        out.append((tol, number, AseAtomsAdaptor.get_atoms(primitive)))
    return out


def choose_version(raw_energy: float, raw_order: int, versions: list[tuple[str, float, int]], tolerance: float):
    """The chosen version among (uid, energy, point-group order): the highest order (then the lowest
    energy) whose energy is at most `tolerance` above `raw_energy`; None keeps the relaxed structure."""
    best = None
    for uid, energy, order in versions:
        if energy > raw_energy + tolerance or order < raw_order:
            continue
        key = (-order, energy)
        if best is None or key < best[0]:
            best = (key, uid)
    if best is None or (best[0][0] == -raw_order and best[0][1] >= raw_energy):
        return None
    return best[1]


def symmetry_first(items: list, orders: list[int], tolerance: float, energy=lambda c: c.energy) -> list:
    """`items` (sorted by `energy`) reordered so that ties go to symmetry: each next item is, among those
    left within `tolerance` of the lowest energy left, the one of highest point-group order (`orders`),
    then the lowest energy. Items further apart than `tolerance` keep their energy order."""
    left = list(zip(items, orders))
    out = []
    while left:
        floor = energy(left[0][0])
        tied = [k for k, (item, _) in enumerate(left) if energy(item) <= floor + tolerance]
        k = min(tied, key=lambda k: (-left[k][1], energy(left[k][0])))
        out.append(left.pop(k)[0])
    return out


def _symmetry_first(candidates: list[Candidate], tolerance: float) -> list[Candidate]:
    """`symmetry_first` for candidates (sorted by energy), ordered by the point groups of their structures."""
    return symmetry_first(candidates, [point_group_order(c.atoms) for c in candidates], tolerance)


def _relaxed_groups(store, top: int | None) -> list[list]:
    """Duplicate groups of the ok relaxations, lowest first (at most `top` groups when given)."""
    rows = sorted(store.rows(stage="relax", status="ok"), key=lambda r: (r.energy_per_atom, r.uid))
    return merge_duplicates(rows, lambda r: _structure(r.toatoms()), limit=top)


def _tie_tolerance(config: RunConfig) -> float | None:
    """The energy window (eV/atom) inside which symmetry decides, or None when energy alone ranks."""
    cfg = config.refine
    return cfg.energy_tolerance if cfg.symmetrize and cfg.prefer_symmetry else None


def raw_candidates(store, top: int | None = None, tie_tolerance: float | None = None) -> list[Candidate]:
    """The relaxed structures with duplicates merged, lowest first: the answer without refinement.

    Each duplicate group stands for its lowest member or, with `tie_tolerance`, for its member of highest
    point-group order within that much of the lowest (a cubic relaxation 0.1 meV/atom above a slightly
    tetragonal copy of itself is the group's representative)."""
    from sccop.search import _spacegroup

    out = []
    for group in _relaxed_groups(store, top):
        row = group[0]
        if tie_tolerance is not None and len(group) > 1:
            row = symmetry_first(group, [point_group_order(r.toatoms()) for r in group], tie_tolerance,
                                 energy=lambda r: r.energy_per_atom)[0]
        atoms = row.toatoms()
        sg = int(row.get("spacegroup") or _spacegroup(atoms))
        out.append(Candidate(uid=row.uid, source=row.uid, atoms=atoms, energy=row.energy_per_atom, spacegroup=sg,
                             raw_energy=row.energy_per_atom, raw_spacegroup=sg, round=int(row.get("round", 0)),
                             calls=int(row.get("calls", 0)), copies=len(group)))
    for rank, c in enumerate(out, 1):
        c.rank = c.rank_primary = rank
    return out


def ranked(store, config: RunConfig, top: int | None = None) -> list[Candidate]:
    """The final candidates from the database rows alone (no backend call): duplicates merged, the chosen
    symmetrised versions, re-ranked when the re-ranking rows exist. `top`: most candidates returned."""
    from sccop.search import _spacegroup

    cfg = config.refine
    # The same pool whatever `top` is, so that refine() and every later ranked() agree on the candidates.
    tie = _tie_tolerance(config)
    candidates = raw_candidates(store, max(cfg.top, cfg.rerank_top, config.search.top), tie)
    if cfg.symmetrize:
        for c in candidates[: cfg.top]:
            raw_order = point_group_order(c.atoms)
            versions, rows = [], {}
            for tol in cfg.tolerances:
                uid = f"refine:{c.source}@{tol:g}"
                if uid in store:
                    row = store.get(uid)
                    if row.get("status") == "ok":
                        atoms = row.toatoms()
                        rows[uid] = (row, atoms)
                        versions.append((uid, row.energy_per_atom, point_group_order(atoms)))
            chosen = choose_version(c.raw_energy, raw_order, versions, cfg.energy_tolerance)
            if chosen is not None:
                row, atoms = rows[chosen]
                c.uid, c.atoms, c.energy, c.symmetrized = chosen, atoms, row.energy_per_atom, True
                c.spacegroup = int(row.get("spacegroup") or _spacegroup(atoms))
        merged = []
        for group in merge_duplicates(sorted(candidates, key=lambda c: (c.energy, c.uid)), lambda c: _structure(c.atoms)):
            first = group[0]
            if tie is not None and len(group) > 1:
                first = _symmetry_first(group, tie)[0]
            first.copies = sum(c.copies for c in group)
            merged.append(first)
        candidates = merged
    candidates.sort(key=lambda c: (c.energy, c.uid))
    if tie is not None:
        candidates = _symmetry_first(candidates, tie)
    for rank, c in enumerate(candidates, 1):
        c.rank = c.rank_primary = rank
    if cfg.rerank:
        name = _rerank_name(config)
        for c in candidates[: cfg.rerank_top]:
            uid = f"rerank:{name}:{c.uid}"
            if uid in store:
                row = store.get(uid)
                c.rerank_uid = uid
                if row.get("status") == "ok":
                    c.rerank_energy = row.energy_per_atom
                    c.rerank_spacegroup = int(row.get("spacegroup") or _spacegroup(row.toatoms()))
                else:
                    c.rerank_reason = row.get("reason")
        inf = float("inf")
        candidates.sort(key=lambda c: (c.rerank_energy is None, c.rerank_energy if c.rerank_energy is not None else inf,
                                       c.rank_primary))
        for rank, c in enumerate(candidates, 1):
            c.rank = rank
    return candidates[:top] if top else candidates


def rerank_backend(config: RunConfig):
    """The BackendConfig of the re-ranking backend: the search's settings with the other name and model."""
    from sccop.backends import parse_backend

    return replace(config.backend, name=parse_backend(config.refine.rerank).value, model=config.refine.rerank_model)


def _check_available(backend, atoms: Atoms) -> None:
    """Build the backend's calculator once, so that a missing binary, pseudopotential or model is one
    clear error instead of a failed row per candidate."""
    from sccop.backends import BackendUnavailable, make_calculator
    from sccop.errors import SccopInputError

    try:
        make_calculator(backend, atoms)
    except BackendUnavailable as exc:
        raise SccopInputError(f"re-ranking backend {backend.name} is unavailable: {exc}") from None


def _rerank_name(config: RunConfig) -> str:
    from sccop.backends import parse_backend

    name = parse_backend(config.refine.rerank).value
    return f"{name}-{config.refine.rerank_model}" if config.refine.rerank_model else name


def _relax_rows(store, items, backend, relax_config, calculator, chunk: int, stage: str, desc: str, progress: bool,
                pressure: float, executor=None) -> int:
    """Relax (uid, atoms, values) items not yet in the store, writing rows chunk by chunk (on `executor`'s
    workers when given, e.g. the search's Dask cluster); returns the calls made."""
    from tqdm import tqdm

    from sccop.execution import InProcess
    from sccop.search import _spacegroup, call_chunks

    todo = [item for item in items if item[0] not in store]
    calls = call_chunks(executor or InProcess(), "relax", backend, relax_config, calculator, todo, chunk)
    with tqdm(total=len(todo), desc=desc, unit="structure", disable=not progress or not todo, leave=False) as bar:
        for part, results in calls:
            rows = []
            for (uid, _, values), result in zip(part, results):
                energy = enthalpy_per_atom(result, pressure)
                if not result.ok:
                    log.warning("%s %s failed: %s", stage, uid, result.reason)
                rows.append((uid, result.atoms, {}, {
                    **values, "stage": stage, "status": result.status, "reason": result.reason,
                    "energy_per_atom": energy, "refine_call": 1, "backend": backend.name,
                    "converged": bool(result.converged), "steps": int(result.steps),
                    "seconds": round(float(result.seconds), 3),
                    **({"spacegroup": _spacegroup(result.atoms)} if result.ok else {}),
                }))
            store.put_many(rows)
            bar.update(len(part))
    return len(todo)


def refine(store, config: RunConfig, *, calculator=None, rerank_calculator=None, progress: bool = False,
           top: int | None = None, executor=None) -> list[Candidate]:
    """Symmetrise and re-relax the best relaxations, re-rank with the second backend when configured
    (calls already in the store are not repeated), and return the final candidates (see `ranked`).

    `calculator` / `rerank_calculator`: ASE calculators used instead of the two backends (tests);
    `executor`: where the relaxations run (sccop.execution; default this process).
    """
    cfg = config.refine
    pressure = config.relax.pressure
    if cfg.symmetrize:
        items = []
        for c in raw_candidates(store, cfg.top, _tie_tolerance(config)):
            for tol, number, atoms in symmetrized_versions(c.atoms, cfg.tolerances):
                items.append((f"refine:{c.source}@{tol:g}", atoms, {"parent": c.source, "symprec": tol, "round": c.round,
                                                                   "target_spacegroup": number}))
        fixed = replace(config.relax, fix_symmetry=True, symprec=min(config.relax.symprec, 0.01))
        made = _relax_rows(store, items, config.backend, fixed, calculator, config.search.chunk, "refine",
                           f"symmetrising ({config.backend.name})", progress, pressure, executor)
        if made:
            log.info("refinement: %d symmetrised versions re-relaxed under FixSymmetry", made)
    if cfg.rerank:
        backend = rerank_backend(config)
        name = _rerank_name(config)
        items = [(f"rerank:{name}:{c.uid}", c.atoms, {"parent": c.uid, "round": c.round, "model": cfg.rerank_model})
                 for c in ranked(store, replace(config, refine=replace(cfg, rerank=None)))[: cfg.rerank_top]]
        if rerank_calculator is None and any(uid not in store for uid, _, _ in items):
            _check_available(backend, items[0][1])
        made = _relax_rows(store, items, backend, config.relax, rerank_calculator, config.search.chunk, "rerank",
                           f"re-ranking ({name})", progress, pressure, executor)
        if made:
            log.info("re-ranking: %d candidates relaxed with %s", made, name)
    return ranked(store, config, top)


__all__ = ["Candidate", "refine", "ranked", "raw_candidates", "symmetrized_versions", "choose_version",
           "merge_duplicates", "point_group_order"]
