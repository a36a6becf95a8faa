"""The row schema of a run's database, defined once: uids, the key-value pairs of a backend call, the
stored form of a grid structure, and what a call cost.

Every row has a deterministic uid:
    r0/sample/17                 a sampled structure (round 0, index 17)
    r1/seed/relax:label:.../3    a structure sampled on the lattice of a relaxed one
    seed/user/2                  a user's seed structure (--seeds)
    order/KEY                    an arrangement on a template, KEY its canonical form (--template)
    r0/i1/anneal/5               an annealing result (round 0, learning iteration 1, chain 5)
    label:U                      a single point of structure U
    relax:label:U                a relaxation of label:U's structure (or, with relaxation labels, of U)
    refine:R@0.1                 relaxation R symmetrised at 0.1 A and re-relaxed under FixSymmetry
    rerank:NAME:C                candidate C relaxed by the re-ranking backend NAME
    random/7                     random search's relaxation of its structure 7
and `fingerprint`, the hash of the structure that defines it (sccop.calls.fingerprint).
A backend call's row also has stage (label, relax, refine, rerank), status (ok / failed) and reason,
energy_per_atom (E/N, eV/atom) and, under pressure, enthalpy_per_atom ((E + PV)/N, what the search ranks;
folders written before 0.2 kept the enthalpy in energy_per_atom: `ranking_energy` reads both), backend,
converged, steps, seconds, and
either backend_call = 1 with `calls` (the run's calls so far) and `minutes` (the run's clock) for the
calls a budget counts, or refine_call = 1 for those made after the search (refinement, re-ranking).
A relaxation's row keeps its input in data["input"] and its result's space group in `spacegroup`.
"""

from __future__ import annotations

import numpy as np

SINGLE_POINT, RELAXATION = "single_point", "relaxation"


def sample_uid(round_: int, index: int) -> str:
    return f"r{round_}/sample/{index}"


def seed_uid(round_: int, parent: str, k: int) -> str:
    return f"r{round_}/seed/{parent}/{k}"


def user_seed_uid(k: int) -> str:
    """A user's seed structure K (`--seeds`)."""
    return f"seed/user/{k}"


def arrangement_uid(key: str) -> str:
    """An arrangement on a template, named by its canonical form (sccop.ordering.arrangement.key)."""
    return f"order/{key}"


def anneal_uid(round_: int, iteration: int, chain: int) -> str:
    return f"r{round_}/i{iteration}/anneal/{chain}"


def label_uid(structure_uid: str, relaxation: bool = False) -> str:
    """The label of a structure: its single point, or with relaxation labels its relaxation."""
    return relax_uid(f"label:{structure_uid}") if relaxation else f"label:{structure_uid}"


def relax_uid(label: str) -> str:
    return f"relax:{label}"


def screen_uid(label: str) -> str:
    """A screening relaxation of a label (a few steps; its structure starts the label's full relaxation)."""
    return f"screen:{label}"


def refine_uid(source: str, tolerance: float) -> str:
    return f"refine:{source}@{tolerance:g}"


def rerank_uid(backend_name: str, candidate_uid: str) -> str:
    return f"rerank:{backend_name}:{candidate_uid}"


def rerank_prefix(backend_name: str) -> str:
    return rerank_uid(backend_name, "")


def random_uid(index: int) -> str:
    return f"random/{index}"


def random_index(uid: str) -> int:
    return int(uid.split("/")[1])


def ranking_energy(row) -> float | None:
    """What a search ranks a stored call by (eV/atom): its enthalpy per atom under pressure, else its energy
    per atom; None for a failed call."""
    if row.get("status") != "ok":
        return None
    value = row.get("enthalpy_per_atom")
    return row.get("energy_per_atom") if value is None else value


def evaluations(row) -> int:
    """Energy-and-force evaluations of one backend call (a row or its values): a single point is one, a
    relaxation its optimizer steps plus one."""
    return 1 + int(row.get("steps") or 0)


def row_spacegroup(row, atoms=None) -> int:
    """A row's space group: the one recorded with it, else computed from its structure (symprec 0.1)."""
    from sccop.symmetry.analysis import spacegroup

    return int(row.get("spacegroup") or spacegroup(atoms if atoms is not None else row.toatoms()))


def symmetric_data(structure) -> dict:
    """JSON-able description of a SymmetricStructure (see `from_symmetric_data`)."""
    grid = structure.grid
    return {
        "group": int(grid.group.number),
        "dim": int(grid.group.dim),
        **({"layer_group": True} if grid.group.dim == 2 else {}),
        "divisions": [int(x) for x in grid.divisions],
        "z_frac": None if grid.z_frac is None else [float(z) for z in grid.z_frac],
        "lattice": np.asarray(structure.lattice, dtype=float).tolist(),
        "elements": [o.element for o in structure.orbits],
        "sites": [int(o.site) for o in structure.orbits],
    }


def from_symmetric_data(data: dict):
    """The SymmetricStructure a `symmetric_data` dict describes."""
    from sccop.sampling.structure import Orbit, SymmetricStructure
    from sccop.symmetry.grid import get_grid
    from sccop.symmetry.groups import get_group

    z_frac = None if data.get("z_frac") is None else tuple(data["z_frac"])
    number, dim = int(data["group"]), int(data["dim"])
    if dim == 2 and not data.get("layer_group"):  # written before layer groups: a plane-group number
        from sccop.symmetry.groups import PLANE_GROUPS

        number = PLANE_GROUPS[number][1]
    grid = get_grid(get_group(number, dim), tuple(data["divisions"]), z_frac)
    orbits = tuple(Orbit(e, int(s)) for e, s in zip(data["elements"], data["sites"]))
    return SymmetricStructure(grid=grid, lattice=np.asarray(data["lattice"], dtype=float), orbits=orbits)


def structure_row(uid: str, structure, **values) -> tuple:
    """The row of a grid structure (a sample or an annealing result): its conventional cell, its grid
    description and its group."""
    return (uid, structure.to_atoms(primitive=False), {"symmetric": symmetric_data(structure)}, {
        "spacegroup": structure.spacegroup, "wyckoff": "".join(structure.wyckoff_labels()), "status": "ok", **values,
    })


__all__ = ["SINGLE_POINT", "RELAXATION", "sample_uid", "seed_uid", "user_seed_uid", "arrangement_uid", "anneal_uid", "label_uid", "relax_uid", "screen_uid", "refine_uid",
           "rerank_uid", "rerank_prefix", "random_uid", "random_index", "ranking_energy", "evaluations", "row_spacegroup", "symmetric_data",
           "from_symmetric_data", "structure_row"]
