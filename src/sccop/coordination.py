"""`sccop analyze`: first-shell coordination patterns around one species in a run's top structures.

For each atom of the centre species, its first shell is every atom (and, in an ordering run, every
vacant site of the template) within (1 + `shell`) times the distance to its nearest neighbour. The
pattern is the shell's composition, e.g. Cu1In2Vac1 around Se; `k` is the sum of the shell's oxidation
states (given, or pymatgen's most likely guess for the composition; a vacancy counts 0), e.g. 7 for
Cu+ In3+ In3+ Vac. Vacant sites come from the run's arrangement rows (template coordinates, carried to
the relaxed cell in fractional coordinates), so the structure analysed is the relaxed one as relaxed,
in the template's cell.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms

from sccop.calls.rows import arrangement_uid
from sccop.errors import SccopInputError

VACANCY = "Vac"


@dataclass
class Pattern:
    rank: int
    energy: float
    counts: dict[str, int]  # pattern -> centres with it
    k: dict[str, float | None]  # pattern -> its k


def parse_oxidation(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    out = {}
    for part in text.split(","):
        element, _, value = part.partition("=")
        try:
            out[element.strip()] = float(value)
        except ValueError:
            raise SccopInputError(f"--oxidation {text!r}: write it as Cu=1,In=3,Se=-2") from None
    return out


def guess_oxidation(formula: str) -> dict[str, float] | None:
    from pymatgen.core import Composition

    try:
        guesses = Composition(formula).oxi_state_guesses(max_sites=-50)
    except Exception:  # noqa: BLE001 - no guess: k is left out
        return None
    return {str(k): float(v) for k, v in guesses[0].items()} if guesses else None


def shells(atoms: Atoms, vacancies: np.ndarray, center: str, shell: float = 0.2) -> list[list[str]]:
    """The first-shell species of each `center` atom (vacancies named Vac), every periodic image counted."""
    from ase.neighborlist import primitive_neighbor_list

    symbols = atoms.get_chemical_symbols() + [VACANCY] * len(vacancies)
    positions = np.concatenate([atoms.positions, np.asarray(vacancies, dtype=float).reshape(-1, 3)])
    centres = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == center]
    radius = 4.0
    while True:
        i, j, d = primitive_neighbor_list("ijd", atoms.pbc, np.asarray(atoms.cell[:]), positions, radius,
                                          self_interaction=False)
        if all(np.any(i == c) for c in centres) or radius > 12:
            break
        radius *= 1.5
    out = []
    for c in centres:
        mine = i == c
        if not mine.any():
            out.append([])
            continue
        cutoff = d[mine].min() * (1 + shell)
        out.append(sorted(symbols[k] for k in j[mine & (d <= cutoff)]))
    return out


def pattern_name(species: list[str]) -> str:
    counts = Counter(species)
    return "".join(f"{s}{counts[s]}" for s in sorted(counts, key=lambda s: (s == VACANCY, s)))


def vacancies_of(store, row, atoms: Atoms) -> np.ndarray:
    """The vacant sites of an ordering run's relaxation row, carried into its relaxed cell."""
    arrangement = row.get("arrangement")
    if not arrangement or arrangement_uid(arrangement) not in store:
        return np.zeros((0, 3))
    source = store.get(arrangement_uid(arrangement))
    cart = np.asarray(source.data.get("ordering", {}).get("vacancies", []), dtype=float).reshape(-1, 3)
    if not len(cart):
        return cart
    frac = np.linalg.solve(np.asarray(source.cell, dtype=float).T, cart.T).T
    return frac @ np.asarray(atoms.cell[:], dtype=float)


def analyze(out: str | Path, center: str, top: int = 5, oxidation: dict | None = None, shell: float = 0.2) -> list[Pattern]:
    """The patterns around `center` in the `top` best structures of the run in `out`; writes
    DIR/coordination.json (the report shows it)."""
    from dataclasses import replace

    from sccop.answer.ranking import AS_RELAXED, ranked
    from sccop.calls.rundir import load_config
    from sccop.calls.store import open_store
    from sccop.config import from_dict

    out = Path(out)
    if not (out / "config.toml").exists():
        raise SccopInputError(f"{out} is not a run folder (no config.toml)")
    config = from_dict(load_config(out / "config.toml"))
    store = open_store(out, config)
    candidates = ranked(store, replace(config, refine=AS_RELAXED), top=top)
    if not candidates:
        raise SccopInputError(f"{out} has no structure yet")
    elements = set().union(*(c.atoms.get_chemical_symbols() for c in candidates))
    if center not in elements:
        raise SccopInputError(f"--center {center}: the run's structures hold {', '.join(sorted(elements))}")
    oxidation = oxidation or guess_oxidation(candidates[0].atoms.get_chemical_formula())
    results = []
    for c in candidates:
        row = store.get(c.source)
        vacancies = vacancies_of(store, row, c.atoms)
        first = shells(c.atoms, vacancies, center, shell)
        found = [pattern_name(s) for s in first]
        ks = {}
        for name, species in zip(found, first):
            ks[name] = None if oxidation is None else sum(oxidation.get(s, 0.0) for s in species if s != VACANCY)
        results.append(Pattern(c.rank, c.energy, dict(Counter(found)), ks))
    payload = {"center": center, "oxidation": oxidation, "shell": shell,
               "structures": [{"rank": p.rank, "energy_per_atom": p.energy, "patterns": p.counts, "k": p.k} for p in results]}
    (out / "coordination.json").write_text(json.dumps(payload, indent=1))
    return results


__all__ = ["Pattern", "analyze", "shells", "pattern_name", "parse_oxidation", "guess_oxidation", "vacancies_of"]
