"""Reference energies of the elements on the Materials Project (PBE) scale, for the energy guard.

`on_table_scale(config)` tells whether a backend's energies are on that scale: CHGNet, and SevenNet's
7net-0, 7net-l3i5 and 7net-mf-0 at its PBE fidelity (all trained on PBE/PBE+U energies of MPtrj); not
7net-mf-0's R2SCAN fidelity (several eV/atom lower), a checkpoint of one's own, DFT totals or EMT.

`element_reference_per_atom(numbers)` is the mean of the atoms' element energies: CHGNet 0.3.0's AtomRef,
the linear composition model CHGNet fitted to MPtrj (element_energies.json, written by
scripts/element_energies.py). Every successful CHGNet energy in sccop's bench folders but one lies within
-1.3 and +14 eV/atom of it; SevenNet's holes (docs/benchmarks.md) lay 4.6 to 10^5 eV/atom below it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from sccop.backends import Backend, parse_backend
from sccop.backends.ml import SEVENNET_DEFAULT

TABLE_FILE = Path(__file__).with_name("element_energies.json")
# SevenNet models whose energies are on Materials Project's PBE scale (at modal PBE where they have several).
PBE_SEVENNET_MODELS = ("7net-0", "7net-l3i5", "7net-mf-0")


def on_table_scale(config) -> bool:
    """Whether the backend of `config` (a BackendConfig) gives energies on this table's (PBE) scale."""
    backend = parse_backend(config.name)
    if backend is Backend.CHGNET:
        return True
    if backend is Backend.SEVENNET:
        model = config.model or SEVENNET_DEFAULT
        return model in PBE_SEVENNET_MODELS and (config.modal is None or str(config.modal).upper() == "PBE")
    return False


@lru_cache(maxsize=1)
def element_energies() -> np.ndarray:
    """Energy per atom (eV) by atomic number (index 0 unused); NaN where the table has none."""
    from ase.data import atomic_numbers

    table = json.loads(TABLE_FILE.read_text())["energies"]
    values = np.full(119, np.nan)
    for symbol, energy in table.items():
        values[atomic_numbers[symbol]] = energy
    return values


def element_reference_per_atom(numbers) -> float | None:
    """The mean element energy of these atoms (eV/atom); None when an element has no reference."""
    numbers = np.asarray(numbers, dtype=int)
    if not len(numbers) or numbers.min() < 1 or numbers.max() >= 119:
        return None
    values = element_energies()[numbers]
    return None if np.isnan(values).any() else float(values.mean())
