"""Compositions: parsing, cell sizes, element data and the volume (or area) window.

The volume window follows SCCOP: two estimates, a dense-packing one and a regression on atomic radius r,
Pauling electronegativity chi and electron affinity EA, each widened into a window. How they combine is
a rule (`WINDOW_RULES`): SCCOP's own rule is their intersection, or the dense window when they do not
overlap; the default `span` runs from the lower of the two lower ends to the higher of the two upper ends,
which holds open frameworks (diamond Si and C, SiO2) that both windows miss on their own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sccop.config import WINDOW_RULES
from sccop.errors import SccopInputError

MAX_CELL_ATOMS = 500  # the largest cell sccop samples: beyond it sampling and graphs do not finish in useful time


DEFAULT_ATOMS = 8  # see sccop.config.DEFAULT_CELL


@dataclass(frozen=True)
class Composition:
    """A reduced chemical formula with integer counts, elements in the order written, and how many
    reduced formula units the formula as written holds (`written`: 2 for Ga4Os2)."""

    counts: tuple[tuple[str, int], ...]
    written: int = 1

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(el for el, _ in self.counts)

    @property
    def formula(self) -> str:
        """The reduced formula as pymatgen writes it (Ca(HO)2 for Ca(OH)2), as outputs name structures."""
        from pymatgen.core import Composition as PmgComposition

        return PmgComposition(dict(self.counts)).reduced_formula

    @property
    def atoms_per_formula(self) -> int:
        return sum(n for _, n in self.counts)

    def scaled(self, formula_units: int) -> dict[str, int]:
        """Atom counts per element for `formula_units` reduced formula units."""
        return {el: n * formula_units for el, n in self.counts}


@dataclass(frozen=True)
class ElementData:
    """Per-element numbers the sampler needs (radius in Angstrom, EA in eV)."""

    symbol: str
    radius: float
    electronegativity: float
    electron_affinity: float


def parse_composition(text: str) -> Composition:
    """Parse a formula such as ``Mg2SiO4``, ``BC3`` or ``Ca(OH)2`` into a reduced integer composition.

    Raises SccopInputError naming the problem for unknown elements, empty, negative or fractional amounts.
    """
    from pymatgen.core import Composition as PmgComposition
    from pymatgen.core import Element

    if not isinstance(text, str):
        raise SccopInputError(f"a composition is a formula such as NaCl, got {text!r}")
    text = text.strip()
    if not text:
        raise SccopInputError("empty composition")
    zero = re.search(r"([A-Z][a-z]?)\s*0+(\.0*)?(?![\d.eE])", text)
    if zero:
        raise SccopInputError(f"composition {text!r} has zero {zero.group(1)}: leave the element out instead")
    try:
        comp = PmgComposition(text)
    except (ValueError, KeyError, OverflowError, TypeError) as exc:
        raise SccopInputError(f"cannot parse composition {text!r}: {exc}") from None
    if comp.num_atoms <= 0:
        raise SccopInputError(f"composition {text!r} has no atoms")
    counts: list[tuple[str, int]] = []
    for species, amount in comp.items():
        symbol = getattr(species, "symbol", str(species))
        if not Element.is_valid_symbol(symbol):
            raise SccopInputError(f"unknown element {symbol!r} in composition {text!r}")
        if not math.isfinite(amount) or amount <= 0:
            raise SccopInputError(f"composition {text!r} has a non-positive or infinite amount of {symbol}")
        if abs(amount - round(amount)) > 1e-8:
            raise SccopInputError(f"composition {text!r} has a fractional amount of {symbol} ({amount:g})")
        counts.append((symbol, int(round(amount))))
    # Reduce to the smallest whole formula: Na2Cl2 -> NaCl.
    divisor = 0
    for _, n in counts:
        divisor = math.gcd(divisor, n)
    reduced = Composition(tuple((el, n // divisor) for el, n in counts), written=divisor)
    if reduced.atoms_per_formula > MAX_CELL_ATOMS:
        raise SccopInputError(f"composition {text!r} has {reduced.atoms_per_formula} atoms per formula unit; sccop "
                              f"searches cells of at most {MAX_CELL_ATOMS} atoms")
    return reduced


def parse_range(text: str, what: str, limit: int | None = MAX_CELL_ATOMS) -> tuple[int, int]:
    """Parse ``"5-10"`` or ``"8"`` into an inclusive (low, high) range of positive integers, at most `limit`
    (a cell size by default; None: no limit)."""
    parts = str(text).strip().split("-")
    try:
        if len(parts) == 1:
            low = high = int(parts[0])
        elif len(parts) == 2:
            low, high = int(parts[0]), int(parts[1])
        else:
            raise ValueError
    except ValueError:
        raise SccopInputError(f"{what} must be N or A-B with whole numbers, got {text!r}") from None
    if low < 1 or high < low:
        raise SccopInputError(f"{what} range {text!r} must satisfy 1 <= A <= B")
    if limit is not None and high > limit:
        raise SccopInputError(f"{what} {text!r} asks for more than {limit}: sccop searches cells of at most "
                              f"{limit} atoms")
    return low, high


def formula_units_for(
    composition: Composition,
    *,
    atoms: tuple[int, int] | None = None,
    formula_units: tuple[int, int] | None = None,
) -> list[int]:
    """Whole numbers of formula units per primitive cell allowed by an atom range or a formula-unit range."""
    if atoms is not None and formula_units is not None:
        raise SccopInputError("give either an atom range or a formula-unit range, not both")
    per = composition.atoms_per_formula
    if formula_units is not None:
        if formula_units[1] * per > MAX_CELL_ATOMS:
            raise SccopInputError(f"{formula_units[1]} formula units of {composition.formula} are "
                                  f"{formula_units[1] * per} atoms; sccop searches cells of at most {MAX_CELL_ATOMS} atoms")
        return list(range(formula_units[0], formula_units[1] + 1))
    if atoms is None:
        atoms = (per, per)
    units = [z for z in range(1, atoms[1] // per + 1) if atoms[0] <= z * per <= atoms[1]]
    if not units:
        raise SccopInputError(
            f"no whole multiple of {composition.formula} ({per} atoms per formula unit) "
            f"has {atoms[0]}-{atoms[1]} atoms"
        )
    return units


def cell_sizes(composition: Composition, atoms: str | None = None, formula_units: str | None = None) -> list[int]:
    """Formula units per primitive cell from a config's `atoms` or `formula_units` text ("8", "4-8"); with
    neither, DEFAULT_CELL: the formula as written when it is not reduced, else up to DEFAULT_ATOMS atoms."""
    size = parse_range(atoms, "atoms") if atoms else None
    units = parse_range(formula_units, "formula_units", limit=None) if formula_units else None
    if size is None and units is None:
        if composition.written > 1:
            units = (composition.written, composition.written)
        else:
            size = (1, max(DEFAULT_ATOMS, composition.atoms_per_formula))
    return formula_units_for(composition, atoms=size, formula_units=units)


@lru_cache(maxsize=None)
def element_data(symbol: str) -> ElementData:
    """Radius (empirical atomic radius, falling back to the calculated one), Pauling X and EA from pymatgen."""
    import warnings

    from pymatgen.core import Element

    el = Element(symbol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        radius = el.atomic_radius or el.atomic_radius_calculated
        chi = el.X
        ea = el.electron_affinity
    if radius is None:
        raise SccopInputError(f"no atomic radius is known for {symbol}")
    chi = 0.0 if chi is None or math.isnan(chi) else float(chi)
    ea = 0.0 if ea is None or math.isnan(ea) else float(ea)
    return ElementData(symbol, float(radius), chi, ea)


def distance_limits(elements: list[str], factor: float) -> np.ndarray:
    """Matrix of the smallest allowed distances f (r_i + r_j) between the given elements (Angstrom)."""
    radii = np.array([element_data(el).radius for el in elements])
    return factor * (radii[:, None] + radii[None, :])


# SCCOP's window coefficients: (dense factor window, regression coefficients, regression window).
_WINDOW_3D = {"dense": (0.96, 2.66), "pred": (17.9984, -3.10083, 4.50924, -8.49767), "pred_win": (0.70, 2.21)}
_WINDOW_2D = {"dense": (1.06, 5.07), "pred": (3.19353, -0.0126031, 0.253931, 1.18601), "pred_win": (0.68, 2.99)}




def volume_window(counts: dict[str, int], dim: int = 3, rule: str = "span") -> tuple[float, float]:
    """Window for the cell volume (A^3, dim=3) or layer area (A^2, dim=2) of a cell holding `counts` atoms.

    `rule`: span (the smallest range holding both windows), sccop (their intersection, or the dense window
    when they do not overlap), dense or regression (one window alone).
    """
    (dense_lo, dense_hi), (pred_lo, pred_hi) = window_parts(counts, dim)
    if rule == "span":
        return min(dense_lo, pred_lo), max(dense_hi, pred_hi)
    if rule == "dense":
        return dense_lo, dense_hi
    if rule == "regression":
        return pred_lo, pred_hi
    if rule != "sccop":
        raise SccopInputError(f"unknown volume window rule {rule!r}; choose one of {', '.join(WINDOW_RULES)}")
    lo, hi = max(dense_lo, pred_lo), min(dense_hi, pred_hi)
    if lo >= hi:
        return dense_lo, dense_hi
    return lo, hi


def window_parts(counts: dict[str, int], dim: int = 3) -> tuple[tuple[float, float], tuple[float, float]]:
    """The dense-packing window and the regression window, before intersecting them."""
    data = [(element_data(el), n) for el, n in counts.items()]
    sum_r = sum(d.radius * n for d, n in data)
    sum_chi = sum(d.electronegativity * n for d, n in data)
    sum_ea = sum(d.electron_affinity * n for d, n in data)
    if dim == 3:
        dense = sum(4.0 / 3.0 * math.pi * d.radius**3 * n for d, n in data)
        coef = _WINDOW_3D
    elif dim == 2:
        dense = sum(0.5 * math.pi * d.radius**2 * n for d, n in data)
        coef = _WINDOW_2D
    else:
        raise SccopInputError(f"dim must be 2 or 3, got {dim}")
    c_r, c_chi, c_ea, c0 = coef["pred"]
    pred = c_r * sum_r + c_chi * sum_chi + c_ea * sum_ea + c0
    dense_lo, dense_hi = coef["dense"][0] * dense, coef["dense"][1] * dense
    pred_lo, pred_hi = coef["pred_win"][0] * pred, coef["pred_win"][1] * pred
    if pred_lo <= 0.0:
        # The linear regression can go negative for a few light atoms: it then has no lower end to offer.
        pred_lo, pred_hi = dense_lo, max(pred_hi, dense_hi)
    return (dense_lo, dense_hi), (pred_lo, pred_hi)
