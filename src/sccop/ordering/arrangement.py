"""Arrangements on a template: one code per ordered site (an index into Template.species).

Two arrangements related by an operation of the template are one candidate: `canonical` maps each to
the lexicographically smallest of its images, and `key` names it (the uid of its rows). The graph of an
arrangement is the template's whole-cell graph (every site a node, 12 nearest neighbours) with the
vacant sites kept as nodes of their own kind (number 0, a learned embedding like an element's) that pass
messages but carry no pooling weight: the energy per atom is the mean over the atoms, and an atom next
to a vacancy knows it. The geometry is fixed, so every arrangement shares the template's edges and a
move changes node kinds only, never a neighbour search.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from ase import Atoms

from sccop.graph.crystal_graph import CrystalGraph, cell_graph
from sccop.ordering.template import VACANCY, Template

ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def sublattice_codes(template: Template) -> list[np.ndarray]:
    """Per sublattice, its multiset of codes (sorted)."""
    index = {s: k for k, s in enumerate(template.species)}
    return [np.repeat([index[s] for s, _ in sub.counts], [n for _, n in sub.counts]) for sub in template.sublattices]


def random_codes(template: Template, rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([rng.permutation(codes) for codes in sublattice_codes(template)])


def count_arrangements(template: Template) -> int:
    """Arrangements before symmetry: the product of the multinomials of the sublattices."""
    total = 1
    for sub in template.sublattices:
        n = sum(c for _, c in sub.counts)
        total *= math.factorial(n) // math.prod(math.factorial(c) for _, c in sub.counts)
    return total


def canonical_many(template: Template, codes: np.ndarray) -> np.ndarray:
    """The canonical form of each row of `codes` (m, n): its smallest image under the template's operations."""
    codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
    perms = template.permutations
    base = len(template.species)
    n = codes.shape[1]
    out = np.empty_like(codes)
    exact = n * math.log2(max(base, 2)) < 62
    weights = base ** np.arange(n - 1, -1, -1, dtype=np.int64) if exact else None
    for start in range(0, len(codes), 2048):
        block = codes[start : start + 2048]
        images = block[:, perms]  # (b, ops, n)
        if exact:
            values = images @ weights
            best = values.argmin(axis=1)
        else:
            best = np.array([min(range(len(perms)), key=lambda k, row=row: tuple(row[k])) for row in images])
        out[start : start + len(block)] = images[np.arange(len(block)), best]
    return out


def canonical(template: Template, codes: np.ndarray) -> np.ndarray:
    return canonical_many(template, codes)[0]


def key(codes) -> str:
    return "".join(ALPHABET[int(c)] for c in codes)


def from_key(text: str) -> np.ndarray:
    return np.array([ALPHABET.index(ch) for ch in text], dtype=np.int64)


def distinct_arrangements(template: Template, limit: int = 2_000_000) -> np.ndarray:
    """Every arrangement up to the template's symmetry (canonical forms, sorted), by exhaustion."""
    total = count_arrangements(template)
    if total > limit:
        raise ValueError(f"{total} arrangements before symmetry: too many to enumerate (limit {limit})")
    per_sub = [_multiset_permutations(codes) for codes in sublattice_codes(template)]
    rows = per_sub[0]
    for block in per_sub[1:]:
        rows = np.concatenate([np.repeat(rows, len(block), axis=0), np.tile(block, (len(rows), 1))], axis=1)
    return np.unique(canonical_many(template, rows), axis=0)


def _multiset_permutations(codes: np.ndarray) -> np.ndarray:
    """All distinct orderings of a multiset, by placing each value's copies on combinations of free slots."""
    values, counts = np.unique(codes, return_counts=True)
    n = len(codes)
    rows = [np.full(n, -1, dtype=np.int64)]
    for value, count in zip(values, counts):
        new = []
        for row in rows:
            free = np.flatnonzero(row < 0)
            for chosen in itertools.combinations(free, int(count)):
                r = row.copy()
                r[list(chosen)] = value
                new.append(r)
        rows = new
    return np.array(rows)


def to_atoms(template: Template, codes) -> tuple[Atoms, np.ndarray]:
    """(the structure of an arrangement, the Cartesian positions of its vacancies)."""
    atoms = template.atoms.copy()
    symbols = atoms.get_chemical_symbols()
    for site, code in zip(template.ordered, codes):
        symbols[site] = template.species[int(code)]
    vacant = [i for i, s in enumerate(symbols) if s == VACANCY]
    vacancies = atoms.positions[vacant].copy()
    keep = [i for i, s in enumerate(symbols) if s != VACANCY]
    out = Atoms([symbols[i] for i in keep], positions=atoms.positions[keep], cell=atoms.cell, pbc=True)
    return out, vacancies


class Graphs:
    """Arrangement graphs on one template (see the module docstring)."""

    def __init__(self, template: Template, config=None):
        from ase.data import atomic_numbers

        self.template = template
        self.base = cell_graph(template.atoms, config)
        self.numbers = template.atoms.numbers.copy()
        self.ordered = np.array(template.ordered, dtype=np.int64)
        self.species_numbers = np.array([0 if s == VACANCY else atomic_numbers[s] for s in template.species])

    def __call__(self, codes) -> CrystalGraph:
        numbers = self.numbers.copy()
        numbers[self.ordered] = self.species_numbers[np.asarray(codes, dtype=np.int64)]
        return CrystalGraph(numbers=numbers, weights=(numbers > 0).astype(float), src=self.base.src, dst=self.base.dst,
                            distances=self.base.distances)


__all__ = ["sublattice_codes", "random_codes", "count_arrangements", "canonical_many", "canonical", "key", "from_key",
           "distinct_arrangements", "to_atoms", "Graphs"]
