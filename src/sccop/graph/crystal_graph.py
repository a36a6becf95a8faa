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
from functools import lru_cache

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


@lru_cache(maxsize=512)
def _shift_box(reach: tuple[int, int, int]) -> np.ndarray:
    """All integer lattice shifts with |n_k| <= reach[k]."""
    ranges = [np.arange(-r, r + 1) for r in reach]
    return np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, 3).astype(float)


def pairs_within(cell, frac, pbc, centres, radius):
    """(i, j, d) for every atom j (any periodic image) within `radius` of each centre atom i."""
    recip_norms = np.linalg.norm(np.linalg.inv(cell), axis=0)
    # Differences are wrapped into [-0.5, 0.5), so half a cell more reach covers every image.
    reach = tuple(int(np.ceil(radius * recip_norms[k] + 0.5)) if pbc[k] else 0 for k in range(3))
    shifts = _shift_box(reach) @ cell
    delta = frac[None, :, :] - frac[centres][:, None, :]  # (C, N, 3)
    delta -= np.round(delta) * pbc
    delta = delta @ cell
    # An image can only be in range when its lattice shift is shorter than radius + the longest difference.
    longest = radius + np.sqrt(np.einsum("cnk,cnk->cn", delta, delta).max())
    shifts = shifts[np.einsum("sk,sk->s", shifts, shifts) < longest * longest]
    cart = delta[:, :, None, :] + shifts[None, None, :, :]  # (C, N, S, 3)
    d2 = np.einsum("cnsk,cnsk->cns", cart, cart)
    inside = (d2 < radius * radius) & (d2 > 1e-16)
    ci, cj, _ = np.nonzero(inside)
    return np.asarray(centres)[ci], cj, np.sqrt(d2[inside])


def _nearest(cell, frac, pbc, centres, config: GraphConfig):
    """Edges (i, j, d) from each centre atom i to its k nearest atoms j (any periodic image), atoms
    tied with the k-th included, within `cutoff`.

    Only the centres' rows are computed: for the asymmetric-unit graph that is one atom per orbit
    instead of the whole cell. The search starts at a radius that usually holds the k nearest
    neighbours and grows up to `cutoff`; a radius is accepted only when every centre's k-th nearest
    neighbour plus the tie tolerance lies strictly inside it, so the edges are exactly those the full
    cutoff would give.
    """
    centres = np.asarray(centres)
    k, tol = config.neighbours, config.tie_tolerance
    radius = config.cutoff
    if pbc.all():
        # A sphere holding about 2k atoms at the cell's mean density.
        volume = abs(np.linalg.det(cell))
        radius = min(config.cutoff, (6.0 * k * volume / (4.0 * np.pi * len(frac))) ** (1 / 3) + 0.5)
    while True:
        i, j, d = pairs_within(cell, frac, pbc, centres, radius)
        order = np.lexsort((d, i))
        i, j, d = i[order], j[order], d[order]
        starts = np.searchsorted(i, centres, side="left")
        ends = np.searchsorted(i, centres, side="right")
        keep, enough = [], True
        for s, e in zip(starts.tolist(), ends.tolist()):
            if e - s < k or d[s + k - 1] + tol >= radius:
                if radius < config.cutoff:
                    enough = False
                    break
                if e - s <= k:
                    keep.append(np.arange(s, e))
                    continue
            limit = d[s + k - 1] + tol
            keep.append(np.arange(s, s + int(np.searchsorted(d[s:e], limit, side="right"))))
        if enough:
            rows = np.concatenate(keep) if keep else np.empty(0, dtype=int)
            return i[rows], j[rows], d[rows]
        radius = min(config.cutoff, radius * 1.5)


def cell_graph(atoms, config: GraphConfig | None = None) -> CrystalGraph:
    """Every atom a node (weight 1)."""
    config = config or GraphConfig()
    cell = np.asarray(atoms.cell[:], dtype=float)
    frac = atoms.get_scaled_positions(wrap=True)
    i, j, d = _nearest(cell, frac, np.asarray(atoms.pbc, dtype=bool), np.arange(len(atoms)), config)
    return CrystalGraph(
        numbers=atoms.numbers.copy(),
        weights=np.ones(len(atoms)),
        src=i,
        dst=j,
        distances=d,
    )


def au_graph(structure, config: GraphConfig | None = None) -> CrystalGraph:
    """One node per occupied orbit of a SymmetricStructure (weight = its multiplicity per conventional cell)."""
    from ase.data import atomic_numbers

    config = config or GraphConfig()
    lattice, _, frac = structure.conventional()
    pbc = np.array([True, True, structure.grid.periodic_z])
    mult = structure.multiplicities()
    first = np.concatenate([[0], np.cumsum(mult)[:-1]])  # the representative opens each orbit's block
    atom_orbit = np.repeat(np.arange(len(mult)), mult)
    frac = frac % 1.0 if pbc.all() else np.concatenate([frac[:, :2] % 1.0, frac[:, 2:]], axis=1)
    i, j, d = _nearest(np.asarray(lattice, dtype=float), frac, pbc, first, config)
    return CrystalGraph(
        numbers=np.array([atomic_numbers[o.element] for o in structure.orbits]),
        weights=mult.astype(float),
        src=atom_orbit[i],
        dst=atom_orbit[j],
        distances=d,
    )


def orbit_graph(atoms, orbits: np.ndarray, config: GraphConfig | None = None) -> CrystalGraph:
    """One node per orbit of `atoms` (`orbits[i]`: the orbit of atom i, e.g. spglib's equivalent_atoms),
    weighted by its size; the edges are those of each orbit's first atom. For structures that do not
    come from the sampler's grid (rigid units), this is the asymmetric-unit graph."""
    config = config or GraphConfig()
    labels, atom_orbit, sizes = np.unique(np.asarray(orbits), return_inverse=True, return_counts=True)
    first = np.array([int(np.flatnonzero(atom_orbit == k)[0]) for k in range(len(labels))])
    cell = np.asarray(atoms.cell[:], dtype=float)
    frac = atoms.get_scaled_positions(wrap=True)
    i, j, d = _nearest(cell, frac, np.asarray(atoms.pbc, dtype=bool), first, config)
    return CrystalGraph(
        numbers=atoms.numbers[first].copy(),
        weights=sizes.astype(float),
        src=atom_orbit[i],
        dst=atom_orbit[j],
        distances=d,
    )


def symmetry_graph(atoms, config: GraphConfig | None = None) -> CrystalGraph:
    """The asymmetric-unit graph of any structure: its orbits from spglib (symprec 1e-3), each atom its own
    orbit where spglib gives up on the cell."""
    import spglib

    try:
        data = spglib.get_symmetry_dataset((atoms.cell[:], atoms.get_scaled_positions(), atoms.numbers), symprec=1e-3)
        orbits = np.asarray(data.equivalent_atoms)
    except Exception:  # noqa: BLE001 - spglib gives up on odd cells: the whole cell is a graph too
        orbits = np.arange(len(atoms))
    return orbit_graph(atoms, orbits, config)


def gaussian_expansion(distances: np.ndarray, config: GraphConfig | None = None) -> np.ndarray:
    """(e, k) edge features: Gaussians of width `gaussian_width` centred 0, step, ..., cutoff."""
    config = config or GraphConfig()
    centres = np.arange(0.0, config.cutoff + 1e-9, config.gaussian_step)
    return np.exp(-((distances[:, None] - centres[None, :]) ** 2) / config.gaussian_width**2)


def batch_graphs(graphs: list[CrystalGraph], distances: bool = True) -> dict[str, np.ndarray]:
    """Concatenate graphs with node offsets; `graph` gives each node's graph index. `distances`: False
    leaves the edge lengths out (for a caller that has the edge features already)."""
    offsets = np.concatenate([[0], np.cumsum([g.n_nodes for g in graphs])[:-1]])
    batched = {
        "numbers": np.concatenate([g.numbers for g in graphs]),
        "weights": np.concatenate([g.weights for g in graphs]),
        "graph": np.concatenate([np.full(g.n_nodes, k) for k, g in enumerate(graphs)]),
        "src": np.concatenate([g.src + o for g, o in zip(graphs, offsets)]),
        "dst": np.concatenate([g.dst + o for g, o in zip(graphs, offsets)]),
        "n_graphs": np.array(len(graphs)),
    }
    if distances:
        batched["distances"] = np.concatenate([g.distances for g in graphs])
    return batched
