"""A chemical prior for orderings: Pauling's electrostatic valence rule.

Each cation gives each of its first-shell neighbours a bond strength of its oxidation state over its
coordination number; in a stable ionic or tetrahedral structure the strengths reaching an anion add up
to the anion's charge (the octet rule of the vacancy compounds: around each Se of CuIn5Se8 the cations
give 2). An arrangement's deviation is the sum over anions of (received - |charge|)^2: vacancies
(charge 0) and misplaced cations raise it. It costs nothing to compute, so it ranks every candidate
before the backend has labelled any: round 0 labels the arrangements of lowest deviation (ties in a
seeded random order), where the network, which knows nothing yet, would label at random.

Oxidation states: pymatgen's most likely guess for the template's composition (vacancies 0). When there
is none (an alloy such as CuAu), there is no prior and round 0 stays random.
"""

from __future__ import annotations

import numpy as np

from sccop.ordering.template import VACANCY, Template

SHELL = 1.15  # a site's first shell: neighbours within this factor of its nearest-neighbour distance


def oxidation_states(template: Template) -> dict[str, float] | None:
    """element -> oxidation state (Vac 0) from pymatgen's guess for the whole composition of one arrangement;
    None when pymatgen has no guess (or only zeros, as for a metal)."""
    from collections import Counter

    from pymatgen.core import Composition

    counts = Counter(template.atoms[i].symbol for i in template.fixed)
    for sub in template.sublattices:
        for species, n in sub.counts:
            if species != VACANCY:
                counts[species] += n
    try:
        guesses = Composition(dict(counts)).oxi_state_guesses(max_sites=-1)
    except Exception:  # noqa: BLE001 - pymatgen cannot guess for some compositions
        return None
    if not guesses or not any(v for v in guesses[0].values()):
        return None
    return {**{el: float(v) for el, v in guesses[0].items()}, VACANCY: 0.0}


def first_shells(template: Template) -> list[np.ndarray]:
    """Per template site, its first-shell neighbours (indices into template.atoms, one per periodic image)."""
    from ase.neighborlist import neighbor_list

    atoms = template.atoms
    i, j, d = neighbor_list("ijd", atoms, 6.0)
    shells = []
    for site in range(len(atoms)):
        mine = i == site
        if not mine.any():
            shells.append(np.empty(0, dtype=np.int64))
            continue
        nearest = d[mine].min()
        shells.append(j[mine][d[mine] <= SHELL * nearest])
    return shells


class ValencePrior:
    """The deviation from Pauling's rule of arrangements on one template; `available` False without
    oxidation states."""

    def __init__(self, template: Template):
        self.template = template
        self.states = oxidation_states(template)
        self.available = self.states is not None
        if not self.available:
            return
        n = len(template.atoms)
        self.shells = first_shells(template)
        self.coordination = np.array([max(len(s), 1) for s in self.shells], dtype=float)
        fixed = np.zeros(n)
        for i in template.fixed:
            fixed[i] = self.states.get(template.atoms[i].symbol, 0.0)
        self.fixed_charges = fixed
        self.ordered = np.array(template.ordered, dtype=np.int64)
        self.code_charges = np.array([self.states.get(s, 0.0) for s in template.species])

    def describe(self) -> str:
        return ", ".join(f"{el} {v:+g}" for el, v in sorted(self.states.items()) if el != VACANCY)

    def deviation(self, codes: np.ndarray) -> np.ndarray:
        """Per arrangement (rows of `codes`), the sum over anions of (bond strength received - |charge|)^2."""
        codes = np.atleast_2d(np.asarray(codes, dtype=np.int64))
        charges = np.tile(self.fixed_charges, (len(codes), 1))
        charges[:, self.ordered] = self.code_charges[codes]
        strength = np.where(charges > 0, charges / self.coordination, 0.0)  # what each cation gives a neighbour
        out = np.zeros(len(codes))
        for site, shell in enumerate(self.shells):
            anion = charges[:, site] < 0
            if not anion.any() or not len(shell):
                continue
            received = strength[:, shell].sum(axis=1)
            out += np.where(anion, (received + charges[:, site]) ** 2, 0.0)
        return out

    def lowest(self, codes: np.ndarray, n: int, rng: np.random.Generator) -> list[int]:
        """Indices of the `n` rows of lowest deviation, ties in a random order drawn from `rng`."""
        deviation = np.round(self.deviation(codes), 9)
        order = np.lexsort((rng.random(len(deviation)), deviation))
        return [int(k) for k in order[:n]]


__all__ = ["SHELL", "oxidation_states", "first_shells", "ValencePrior"]
