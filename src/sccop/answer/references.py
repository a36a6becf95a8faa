"""Elemental references, relaxed by the run's own backend, for formation energies in the answer.

Each element's chemical potential is the lowest energy per atom the backend gives among a few simple
forms of the element: its reference state as ASE knows it (ase.data.reference_states, when ase.build.bulk
can build it), fcc, bcc, hcp, simple cubic, diamond and graphite (AB-stacked honeycomb layers; relaxed,
cell included), and the dimer in a 10 A box (atoms only), for the molecular elements. That is an upper bound of the element's true ground
state (boron's alpha-B12 is not among them), so a formation energy is a lower bound of the true one
when the reference is not the ground state; the summary names the form each reference came from.

The calls go through the run's ledger after the search (stage `reference`, uid `element:El:form`,
`refine_call=1`), so a resumed run reads them back; `formation_energies` only reads the rows.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from ase import Atoms

from sccop.calls.ledger import CallItem, CallSpec, Ledger
from sccop.calls.rows import RELAXATION, ranking_energy
from sccop.config import RunConfig

FORMS = ("fcc", "bcc", "hcp", "sc", "diamond", "graphite")
DIMER_BOX = 10.0


def element_uid(element: str, form: str) -> str:
    return f"element:{element}:{form}"


def wanted(config: RunConfig) -> bool:
    """Whether the run reports formation energies: `refine.formation` on, or auto for a layer."""
    setting = config.refine.formation
    return setting == "on" or (setting == "auto" and config.sampler.dim == 2)


def element_forms(element: str) -> dict[str, Atoms]:
    """The forms of `element` a reference is chosen from (form name -> Atoms), nearest neighbours at twice
    its covalent radius to start."""
    from ase.build import bulk
    from ase.data import atomic_numbers, covalent_radii, reference_states

    z = atomic_numbers[element]
    d = 2.0 * float(covalent_radii[z])
    forms = {
        "fcc": bulk(element, "fcc", a=d * math.sqrt(2.0)),
        "bcc": bulk(element, "bcc", a=2.0 * d / math.sqrt(3.0)),
        "hcp": bulk(element, "hcp", a=d, c=d * math.sqrt(8.0 / 3.0)),
        "sc": bulk(element, "sc", a=d),
        "diamond": bulk(element, "diamond", a=4.0 * d / math.sqrt(3.0)),
        "graphite": graphite(element, d),
    }
    state = reference_states[z] if z < len(reference_states) else None
    if state and state.get("symmetry") not in (None, *FORMS, "diatom", "atom"):
        try:
            forms[f"reference-{state['symmetry']}"] = bulk(element)
        except Exception:  # noqa: BLE001 - a reference state ase.build.bulk cannot build
            pass
    dimer = Atoms([element, element], positions=[[0, 0, 0], [0, 0, d]], cell=[DIMER_BOX] * 3, pbc=True)
    dimer.center()
    forms["dimer"] = dimer
    return forms


def graphite(element: str, d: float) -> Atoms:
    """AB-stacked honeycomb layers of `element`, bonds `d` long, layers 2.36 d apart (graphite's ratio)."""
    from ase.geometry import cellpar_to_cell

    a, c = d * math.sqrt(3.0), 2 * 2.36 * d
    frac = [[0, 0, 0.25], [0, 0, 0.75], [1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]]
    return Atoms([element] * 4, scaled_positions=frac, cell=cellpar_to_cell([a, a, c, 90, 90, 120]), pbc=True)


def reference_calls(store, config: RunConfig, elements, calculator=None, executor=None, progress: bool = False) -> int:
    """Relax the forms of each element not relaxed yet (bulk forms with their cells, dimers atoms only);
    returns the number of new calls."""
    ledger = Ledger(store, executor, chunk=config.search.chunk, progress=progress)
    bulk_items, dimers = [], []
    for element in elements:
        for form, atoms in element_forms(element).items():
            item = CallItem(element_uid(element, form), atoms, {"element": element, "form": form})
            (dimers if form == "dimer" else bulk_items).append(item)
    plain = replace(config.relax, fix_symmetry=False, pressure=0.0, rattle=0.0)
    made = 0
    for items, relax in ((bulk_items, plain), (dimers, replace(plain, relax_cell=False))):
        spec = CallSpec("reference", RELAXATION, config.backend, relax, counted=False, calculator=calculator)
        made += ledger.run(spec, items, desc=f"elemental references ({config.backend.name})").made
    return made


def chemical_potentials(store, elements) -> dict[str, tuple[float, str]]:
    """element -> (lowest energy per atom among its relaxed forms, that form), for the elements whose forms
    are stored; elements none of whose forms relaxed are left out."""
    out: dict[str, tuple[float, str]] = {}
    for element in elements:
        best = None
        for form in element_forms(element):
            row = store.get(element_uid(element, form)) if element_uid(element, form) in store else None
            energy = None if row is None else ranking_energy(row)
            if energy is not None and (best is None or energy < best[0]):
                best = (float(energy), form)
        if best is not None:
            out[element] = best
    return out


def formation_energies(atoms: Atoms, energy_per_atom: float, potentials: dict[str, tuple[float, str]]) -> dict:
    """formation_energy_per_atom (eV/atom) and, for a layer, formation_energy_per_area (eV/A^2) of a
    structure against the chemical potentials; {} when an element has none."""
    symbols = atoms.get_chemical_symbols()
    if any(s not in potentials for s in symbols):
        return {}
    total = energy_per_atom * len(atoms) - sum(potentials[s][0] for s in symbols)
    out = {"formation_energy_per_atom": total / len(atoms)}
    if [bool(p) for p in atoms.pbc] == [True, True, False]:
        area = float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))
        out["area_per_atom"] = area / len(atoms)
        out["formation_energy_per_area"] = total / area
    return out


__all__ = ["FORMS", "element_uid", "wanted", "element_forms", "graphite", "reference_calls", "chemical_potentials",
           "formation_energies"]
