"""Composition features for the space-group model: element fractions, statistics of element properties
over the composition (fraction-weighted mean, mean absolute deviation, min, max), the number of elements
and norms of the fractions. Element data from pymatgen's periodic table (installed with it; no network).
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np

MAX_Z = 103  # element fractions are kept for H..Lr; heavier elements only enter the statistics
PROPERTIES = ("Z", "row", "group", "electronegativity", "radius", "mass", "mendeleev", "melting_point",
              "ionisation", "metal", "block_s", "block_p", "block_d", "block_f")
STATISTICS = ("mean", "deviation", "min", "max")
NORMS = (2, 3, 5, 10)
FEATURE_NAMES = tuple(
    [f"fraction_Z{z}" for z in range(1, MAX_Z + 1)]
    + [f"{p}_{s}" for p in PROPERTIES for s in STATISTICS]
    + ["elements"] + [f"norm_{p}" for p in NORMS]
)


@lru_cache(maxsize=None)
def element_table() -> tuple[dict[str, int], np.ndarray]:
    """({symbol: row index}, array [elements, PROPERTIES]) for every element pymatgen knows; a property it
    lacks for an element is the median over the elements that have it."""
    from pymatgen.core.periodic_table import Element

    symbols, rows = [], []
    for element in Element:
        if element.Z > 118:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = [element.Z, element.row, element.group, _number(lambda: element.X), _number(lambda: element.atomic_radius),
                      float(element.atomic_mass), _number(lambda: element.mendeleev_no),
                      _number(lambda: element.melting_point), _number(lambda: element.ionization_energy),
                      float(element.is_metal)] + [float(element.block == b) for b in "spdf"]
        symbols.append(element.symbol)
        rows.append(values)
    table = np.array(rows, dtype=float)
    for j in range(table.shape[1]):
        missing = ~np.isfinite(table[:, j])
        table[missing, j] = np.median(table[~missing, j])
    return {s: i for i, s in enumerate(symbols)}, table


def _number(get) -> float:
    try:
        value = get()
        value = float(value) if value is not None else math.nan
    except (AttributeError, TypeError, ValueError, KeyError):
        return math.nan
    return value if math.isfinite(value) and value != 0.0 else math.nan  # pymatgen gives 0 for "unknown"


def parse_counts(formula: str) -> dict[str, float]:
    """{element: amount} of a formula such as 'Li4MnCo2O7' or 'K3TbSi3(HO5)2' (pymatgen's parser; a
    repeated element adds up). ValueError names what could not be read."""
    from pymatgen.core import Composition

    index, _ = element_table()
    try:
        counts = {str(k): float(v) for k, v in Composition(formula).get_el_amt_dict().items()}
    except Exception as exc:  # noqa: BLE001 - pymatgen reports a bad formula in several ways
        raise ValueError(f"cannot read {formula!r} as a formula ({exc})") from None
    unknown = [s for s in counts if s not in index]
    if unknown:
        raise ValueError(f"unknown element {', '.join(unknown)} in {formula!r}")
    if not counts or any(v <= 0 for v in counts.values()):
        raise ValueError(f"cannot read {formula!r} as a formula of elements and positive amounts")
    return counts


def composition_features(counts: dict[str, float]) -> np.ndarray:
    """The feature vector (FEATURE_NAMES) of one composition {element: amount}."""
    index, table = element_table()
    symbols = list(counts)
    amounts = np.array([counts[s] for s in symbols], dtype=float)
    fractions = amounts / amounts.sum()
    properties = table[[index[s] for s in symbols]]
    out = np.zeros(len(FEATURE_NAMES))
    for s, f in zip(symbols, fractions):
        z = index[s] + 1
        if z <= MAX_Z:
            out[z - 1] += f
    mean = fractions @ properties
    deviation = fractions @ np.abs(properties - mean)
    stats = np.stack([mean, deviation, properties.min(axis=0), properties.max(axis=0)], axis=1)  # [property, stat]
    k = MAX_Z
    out[k:k + stats.size] = stats.ravel()
    k += stats.size
    out[k] = len(symbols)
    out[k + 1:] = [float((fractions ** p).sum() ** (1.0 / p)) for p in NORMS]
    return out


def feature_matrix(formulas) -> np.ndarray:
    """Features of many formulas, one row each."""
    return np.stack([composition_features(parse_counts(f)) for f in formulas])


__all__ = ["FEATURE_NAMES", "PROPERTIES", "composition_features", "feature_matrix", "parse_counts", "element_table"]
