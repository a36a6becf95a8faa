"""The reference as the row's own backend sees it: read only to score a finished method, never by a search.

A bench row's reference structure is relaxed with the row's backend and relaxation settings (one call,
in its own database beside the method's folder, so a rerun reads it back), and the method's answer is
measured against that energy: did the search reach the backend's minimum at the reference (`reached`:
best <= reference + REACHED_MEV meV/atom), how far above or below it ended (`gap_mev`), what it spent
until it first got there, and, for a row it missed, whose miss it was:

- search: the backend puts the reference lower than anything the search found (the search's miss);
- backend: the search found something the backend puts lower than the reference (the backend's miss:
  no search on this backend can answer with the reference);
- tie: within REACHED_MEV of each other, yet another structure (the backend cannot tell them apart).

A layer's reference (dim 2) is read as a layer: periodic in a and b, c its normal, re-centred and padded
to the same cell height as the search's layers.
"""

from __future__ import annotations

from pathlib import Path

from sccop.calls.ledger import CallItem, CallSpec, Ledger
from sccop.calls.rows import RELAXATION, evaluations, ranking_energy, row_spacegroup
from sccop.calls.store import open_store
from sccop.config import RunConfig
from sccop.symmetry.analysis import as_layer

REACHED_MEV = 5.0  # meV/atom: the search reached the reference's energy when its best is at most this far above


def reference_uid(path: Path) -> str:
    return f"reference:{Path(path).name}"


def layer_height(formula: str, config: RunConfig) -> float:
    """The c length of the search's layers for `formula`: vacuum plus the sampler's thickness window."""
    from sccop.composition import parse_composition
    from sccop.sampling.sampler import layer_thickness

    return config.sampler.vacuum + (layer_thickness(parse_composition(formula), config.sampler) or 0.0)


def reference_atoms(path: Path, config: RunConfig, formula: str):
    """The reference structure (ASE Atoms), as a layer when the search is 2D."""
    from ase.io import read

    atoms = read(str(path))
    if config.sampler.dim == 2:
        atoms = as_layer(atoms, layer_height(formula, config))
    return atoms


def relax_reference(path: Path, formula: str, config: RunConfig, folder: Path, calculator=None) -> dict:
    """The reference relaxed by `config`'s backend (read back when `folder` holds it already):
    reference_energy_per_atom (what the search ranks: the enthalpy under pressure), reference_spacegroup,
    and reference_reason when the relaxation failed."""
    atoms = reference_atoms(path, config, formula)
    Path(folder).mkdir(parents=True, exist_ok=True)
    store = open_store(folder, config, "reference.db")
    ledger = Ledger(store, None, chunk=1)
    spec = CallSpec("reference", RELAXATION, config.backend, config.relax, counted=False, calculator=calculator)
    uid = reference_uid(path)
    ledger.run(spec, [CallItem(uid, atoms, {"reference": Path(path).name})])
    row = store.get(uid)
    if row.get("status") != "ok":
        return {"reference_energy_per_atom": None, "reference_reason": row.get("reason")}
    return {"reference_energy_per_atom": round(ranking_energy(row), 6), "reference_spacegroup": row_spacegroup(row)}


def reach_scores(store, best: float | None, reference_energy: float | None, matched: bool | None) -> dict:
    """Whether and when a method's calls reached the reference's energy: reached, gap_mev (best minus
    reference, meV/atom), calls, evaluations and minutes until its first relaxation at or below
    reference + REACHED_MEV, and miss_cause when the answer is not the reference (`matched`: its best
    structure matches the reference; None when no structure is known: the energies alone decide)."""
    if best is None or reference_energy is None:
        return {}
    gap = (best - reference_energy) * 1000.0
    out = {"reached": bool(gap <= REACHED_MEV), "gap_mev": round(gap, 1)}
    limit = reference_energy + REACHED_MEV / 1000.0
    rows = sorted(store.rows(backend_call=1), key=lambda r: r.calls)
    spent = 0
    for r in rows:
        spent += evaluations(r)
        energy = ranking_energy(r)
        if r.get("stage") == "relax" and energy is not None and energy <= limit:
            out.update(calls_to_reached=int(r.calls), evaluations_to_reached=spent,
                       minutes_to_reached=None if r.get("minutes") is None else round(float(r.minutes), 2))
            break
    if not out["reached"]:
        out["miss_cause"] = "search"
    elif matched is False:
        out["miss_cause"] = "backend" if gap < -REACHED_MEV else "tie"
    return out


__all__ = ["REACHED_MEV", "reference_uid", "layer_height", "reference_atoms", "relax_reference",
           "reach_scores"]
