"""Reference energies of the elements on the Materials Project (PBE) scale, for the energy guard.

`reference_energy_per_atom(numbers)` is the mean of the atoms' element energies: CHGNet 0.3.0's AtomRef,
the linear composition model CHGNet fitted to MPtrj (element_energies.json, written by
scripts/element_energies.py). Every CHGNet energy in sccop's dev and medium benches but one lies within -1.3 and
+14 eV/atom of it; SevenNet's unphysical answers (docs/benchmarks.md) lie thousands of eV below.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

TABLE_FILE = Path(__file__).with_name("element_energies.json")


@lru_cache(maxsize=1)
def element_energies() -> np.ndarray:
    """Energy per atom (eV) by atomic number (index 0 unused); NaN where the table has none."""
    from ase.data import atomic_numbers

    table = json.loads(TABLE_FILE.read_text())["energies"]
    values = np.full(119, np.nan)
    for symbol, energy in table.items():
        values[atomic_numbers[symbol]] = energy
    return values


def reference_energy_per_atom(numbers) -> float | None:
    """The mean element energy of these atoms (eV/atom); None when an element has no reference."""
    numbers = np.asarray(numbers, dtype=int)
    if not len(numbers) or numbers.min() < 1 or numbers.max() >= 119:
        return None
    values = element_energies()[numbers]
    return None if np.isnan(values).any() else float(values.mean())
