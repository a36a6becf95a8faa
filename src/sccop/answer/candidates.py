"""Candidates: the structures a run reports, one per group of duplicates (pymatgen's StructureMatcher).

A Candidate names the row it reports (`uid`: a relax, refine or rerank row), the relaxation it came
from (`source`), its energy per atom (enthalpy under pressure) and space group, the relaxed values
before refinement (`raw_*`) and, once ranked, its rank by the first backend (`rank_primary`) and
overall (`rank`). `relaxed` is False for the labelled single points a run stopped before any
relaxation reports instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from ase import Atoms

from sccop.calls.rows import ranking_energy, row_spacegroup
from sccop.symmetry.analysis import may_be_distorted, merge_duplicates, point_group_order, to_structure


@dataclass
class Candidate:
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
    relaxed: bool = True


def _candidate(row, copies: int, relaxed: bool = True) -> Candidate:
    atoms = row.toatoms()
    group = row_spacegroup(row, atoms)
    energy = ranking_energy(row)
    return Candidate(uid=row.uid, source=row.uid, atoms=atoms, energy=energy, spacegroup=group,
                     raw_energy=energy, raw_spacegroup=group, round=int(row.get("round", 0)),
                     calls=int(row.get("calls", 0)), copies=copies, relaxed=relaxed)


def symmetry_first(items: list, orders: list[int], tolerance: float, energy=lambda c: c.energy,
                   may_replace=None) -> list:
    """`items` (sorted by `energy`) reordered so that ties go to symmetry: each next item is, among those
    left within `tolerance` of the lowest energy left, the one of highest point-group order (`orders`),
    then the lowest energy. Items further apart than `tolerance` keep their energy order. With
    `may_replace(lowest, other)`, only the others it allows can go before the lowest one left."""
    left = list(zip(items, orders))
    out = []
    while left:
        floor = energy(left[0][0])
        tied = [k for k, (item, _) in enumerate(left) if energy(item) <= floor + tolerance
                and (k == 0 or may_replace is None or may_replace(left[0][0], item))]
        k = min(tied, key=lambda k: (-left[k][1], energy(left[k][0])))
        out.append(left.pop(k)[0])
    return out


def by_symmetry(candidates: list[Candidate], tolerance: float, distinct: bool = False) -> list[Candidate]:
    """`symmetry_first` for candidates (sorted by energy), ordered by the point groups of their structures.
    `distinct`: the candidates are different structures (not copies of one), and a tie promotes a more
    symmetric one only over a lower one that could be a distortion of it (its group a subgroup): of two
    polytypes a meV/atom apart, hcp and fcc, wurtzite and zinc blende, the energy decides."""
    def may_replace(low: Candidate, other: Candidate) -> bool:
        return may_be_distorted(low.spacegroup, other.spacegroup)

    return symmetry_first(candidates, [point_group_order(c.atoms) for c in candidates], tolerance,
                          may_replace=may_replace if distinct else None)


def _unique_rows(store, stage: str, top: int | None) -> list[list]:
    """Duplicate groups of the ok rows of `stage`, lowest first (at most `top` groups when given)."""
    rows = sorted(store.rows(stage=stage, status="ok"), key=lambda r: (ranking_energy(r), r.uid))
    return merge_duplicates(rows, lambda r: to_structure(r.toatoms()), limit=top)


def raw_candidates(store, top: int | None = None, tie_tolerance: float | None = None) -> list[Candidate]:
    """The relaxed structures with duplicates merged, lowest first: the answer without refinement.

    Each duplicate group stands for its lowest member or, with `tie_tolerance`, for its member of highest
    point-group order within that much of the lowest (a cubic relaxation 0.1 meV/atom above a slightly
    tetragonal copy of itself is the group's representative)."""
    out = []
    for group in _unique_rows(store, "relax", top):
        row = group[0]
        if tie_tolerance is not None and len(group) > 1:
            row = symmetry_first(group, [point_group_order(r.toatoms()) for r in group], tie_tolerance,
                                 energy=ranking_energy)[0]
        out.append(_candidate(row, len(group)))
    for rank, c in enumerate(out, 1):
        c.rank = c.rank_primary = rank
    return out


def label_candidates(store, top: int | None = None) -> list[Candidate]:
    """Unique labelled single points, lowest first: the answer of a run stopped before any relaxation."""
    out = [_candidate(group[0], len(group), relaxed=False) for group in _unique_rows(store, "label", top)]
    for rank, c in enumerate(out, 1):
        c.rank = c.rank_primary = rank
    return out


__all__ = ["Candidate", "raw_candidates", "label_candidates", "symmetry_first", "by_symmetry"]
