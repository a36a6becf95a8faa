"""Asymmetric-unit and whole-cell crystal graphs.

Whole-cell graph: every atom is a node with weight 1; each node has edges to its 12 nearest neighbours
within 8 A in the periodic crystal (atoms tied with the 12th are all kept, so symmetry-equivalent atoms
get equivalent edge sets).

Asymmetric-unit graph: one node per occupied orbit, weighted by its multiplicity; the edges are those of
the orbit's representative atom, each neighbour mapped to the node of its orbit. Every atom of an orbit
has the same environment up to an isometry, so a message-passing network gives all of them the same
state: run on the asymmetric-unit graph with multiplicity-weighted pooling, it computes exactly what it
computes on the whole cell, with one node per orbit instead of one per atom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sccop.config import GraphConfig


@dataclass(frozen=True)
class CrystalGraph:
    """Nodes (atomic numbers, pooling weights) and directed edges src <- dst with their lengths (A)."""

    numbers: np.ndarray  # (n,) atomic numbers
    weights: np.ndarray  # (n,) pooling weights: orbit multiplicities, or 1 per atom
    src: np.ndarray  # (e,) node receiving the message
    dst: np.ndarray  # (e,) neighbour node sending it
    distances: np.ndarray  # (e,)

    @property
    def n_nodes(self) -> int:
        return len(self.numbers)


def _select(i: np.ndarray, d: np.ndarray, centres: np.ndarray, config: GraphConfig) -> np.ndarray:
    """Indices of neighbour-list rows kept for each centre: the k nearest, ties with the k-th included."""
    order = np.lexsort((d, i))
    i_sorted, d_sorted = i[order], d[order]
    keep = []
    starts = np.searchsorted(i_sorted, centres, side="left")
    ends = np.searchsorted(i_sorted, centres, side="right")
    for s, e in zip(starts, ends):
        if e - s <= config.neighbours:
            keep.append(order[s:e])
            continue
        limit = d_sorted[s + config.neighbours - 1] + config.tie_tolerance
        last = s + int(np.searchsorted(d_sorted[s:e], limit, side="right"))
        keep.append(order[s:last])
    return np.concatenate(keep) if keep else np.empty(0, dtype=int)


def _neighbours(atoms, centres: np.ndarray, config: GraphConfig):
    """(i, j, d) for every atom j (any periodic image) within the cutoff of each centre atom i.

    Only the centres' rows are computed: for the asymmetric-unit graph that is one atom per orbit
    instead of the whole cell. Image shifts are bounded per axis by cutoff * |b_k| (reciprocal rows).
    """
    import math

    cell = np.asarray(atoms.cell[:], dtype=float)
    frac = atoms.get_scaled_positions(wrap=True)
    recip = np.linalg.inv(cell).T
    ranges = []
    for k in range(3):
        if atoms.pbc[k]:
            reach = int(math.ceil(config.cutoff * np.linalg.norm(recip[k]))) + 1
            ranges.append(np.arange(-reach, reach + 1))
        else:
            ranges.append(np.array([0]))
    shifts = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, 3)
    images = (frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3) @ cell  # (S * N, 3)
    j_all = np.tile(np.arange(len(atoms)), len(shifts))
    pos = frac[centres] @ cell
    d = np.linalg.norm(images[None, :, :] - pos[:, None, :], axis=2)  # (C, S * N)
    ci, cj = np.nonzero((d < config.cutoff) & (d > 1e-8))
    return np.asarray(centres)[ci], j_all[cj], d[ci, cj]


def cell_graph(atoms, config: GraphConfig | None = None) -> CrystalGraph:
    """Every atom a node (weight 1)."""
    config = config or GraphConfig()
    i, j, d = _neighbours(atoms, np.arange(len(atoms)), config)
    rows = _select(i, d, np.arange(len(atoms)), config)
    return CrystalGraph(
        numbers=atoms.numbers.copy(),
        weights=np.ones(len(atoms)),
        src=i[rows],
        dst=j[rows],
        distances=d[rows],
    )


def au_graph(structure, config: GraphConfig | None = None) -> CrystalGraph:
    """One node per occupied orbit of a SymmetricStructure (weight = its multiplicity per conventional cell)."""
    from ase import Atoms

    config = config or GraphConfig()
    lattice, symbols, frac = structure.conventional()
    pbc = True if structure.grid.periodic_z else (True, True, False)
    atoms = Atoms(symbols=symbols, scaled_positions=frac, cell=lattice, pbc=pbc)
    mult = structure.multiplicities()
    first = np.concatenate([[0], np.cumsum(mult)[:-1]])  # the representative opens each orbit's block
    atom_orbit = np.repeat(np.arange(len(mult)), mult)
    i, j, d = _neighbours(atoms, first, config)
    rows = _select(i, d, first, config)
    return CrystalGraph(
        numbers=atoms.numbers[first],
        weights=mult.astype(float),
        src=atom_orbit[i[rows]],
        dst=atom_orbit[j[rows]],
        distances=d[rows],
    )


def gaussian_expansion(distances: np.ndarray, config: GraphConfig | None = None) -> np.ndarray:
    """(e, k) edge features: Gaussians of width `gaussian_width` centred 0, step, ..., cutoff."""
    config = config or GraphConfig()
    centres = np.arange(0.0, config.cutoff + 1e-9, config.gaussian_step)
    return np.exp(-((distances[:, None] - centres[None, :]) ** 2) / config.gaussian_width**2)


def batch_graphs(graphs: list[CrystalGraph]) -> dict[str, np.ndarray]:
    """Concatenate graphs with node offsets; `graph` gives each node's graph index."""
    offsets = np.concatenate([[0], np.cumsum([g.n_nodes for g in graphs])[:-1]])
    return {
        "numbers": np.concatenate([g.numbers for g in graphs]),
        "weights": np.concatenate([g.weights for g in graphs]),
        "graph": np.concatenate([np.full(g.n_nodes, k) for k, g in enumerate(graphs)]),
        "src": np.concatenate([g.src + o for g, o in zip(graphs, offsets)]),
        "dst": np.concatenate([g.dst + o for g, o in zip(graphs, offsets)]),
        "distances": np.concatenate([g.distances for g in graphs]),
        "n_graphs": np.array(len(graphs)),
    }
