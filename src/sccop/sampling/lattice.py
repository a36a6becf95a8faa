"""Lattices per crystal system inside a volume (3D) or area (2D) window.

Two generators, mixed by `uniform_share`:
- uniform: the volume is drawn uniformly from the window and the shape from simple ranges, narrow or
  wide (`shapes`: wide also draws long and flat tetragonal and hexagonal cells, and rhombohedral cells
  by their primitive angle, whose hexagonal axes can have c/a up to about 7);
- gamma: SCCOP's Gamma fits to lattice parameters of known crystals (numpy gamma(shape, scale)),
  redrawn until the volume lands in the window (bounded; the uniform generator takes over if not).
Parameters are for the conventional cell (hexagonal axes for trigonal and rhombohedral groups).
Layers (dim 2) use the uniform generator only: the Gamma fits describe 3D cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ase.geometry import cellpar_to_cell

# (shape, scale) of numpy's gamma distribution for each parameter, fitted by SCCOP.
GAMMA_FITS: dict[str, dict[str, tuple[float, float]]] = {
    "triclinic": {
        "a": (11.1407, 0.54363), "b": (14.9172, 0.423919), "c": (9.3193, 0.751272),
        "alpha": (19.6702, 5.48192), "beta": (21.638, 4.76449), "gamma": (6.80769, 12.8246),
    },
    "monoclinic": {"a": (8.93408, 0.731207), "b": (7.51874, 0.906048), "c": (9.99707, 0.837898)},
    "orthorhombic": {"a": (5.84602, 1.05456), "b": (6.95415, 0.93105), "c": (6.40244, 1.09067)},
    "tetragonal": {"a": (17.2155, 0.270062), "c": (11.6461, 0.691331)},
    "hexagonal": {"a": (35.5889, 0.137857), "c": (20.7842, 0.242435)},
    "cubic": {"a": (17.2494, 0.271047)},
}
# Monoclinic beta is bimodal: N(108.242, 8.771) with probability 0.85, else N(74.807, 4.974).
MONOCLINIC_BETA = ((0.85, 108.242, 8.771), (74.807, 4.974))
GAMMA_REDRAWS = 200
# Wide shapes: c / V^(1/3) of a tetragonal or hexagonal (primitive) cell, log-uniform; the primitive angle of a
# rhombohedral cell (degrees), uniform. 25 degrees gives c/a = 6.7 on hexagonal axes (Bi2Te3: 6.9), 110 a
# flattened cube.
WIDE_C_RATIO = (0.4, 2.6)
WIDE_RHOMBOHEDRAL_ANGLE = (25.0, 110.0)


@dataclass(frozen=True)
class LatticeSample:
    """Conventional cell parameters (Angstrom, degrees) and the generator that made them."""

    a: float
    b: float
    c: float
    alpha: float
    beta: float
    gamma: float
    generator: str

    @property
    def cellpar(self) -> tuple[float, float, float, float, float, float]:
        return (self.a, self.b, self.c, self.alpha, self.beta, self.gamma)

    def matrix(self) -> np.ndarray:
        return cellpar_to_cell(self.cellpar)


def cell_volume(a: float, b: float, c: float, alpha: float, beta: float, gamma: float) -> float:
    ca, cb, cg = (math.cos(math.radians(x)) for x in (alpha, beta, gamma))
    det = 1.0 - ca * ca - cb * cb - cg * cg + 2.0 * ca * cb * cg
    return a * b * c * math.sqrt(det) if det > 0 else 0.0


def _system_3d(lattice_system: str) -> str:
    return "hexagonal" if lattice_system in ("trigonal", "hexagonal") else lattice_system


def sample_lattice(
    lattice_system: str,
    window: tuple[float, float],
    rng: np.random.Generator,
    *,
    uniform_share: float = 0.8,
    dim: int = 3,
    c_length: float = 15.0,
    shapes: str = "narrow",
    rhombohedral: bool = False,
) -> LatticeSample:
    """A lattice of `lattice_system` whose volume (dim 3) or in-plane area (dim 2) lies in `window`.

    For dim 2 the systems are oblique, rectangular, square and hexagonal, and c = `c_length` is the
    vacuum-padded layer axis, perpendicular to the plane. `shapes`: the uniform generator's range of shapes
    (narrow or wide); `rhombohedral`: the group has an R lattice (on hexagonal axes), whose wide shapes are
    drawn by the primitive cell's angle.
    """
    if dim == 2:
        return _uniform_2d(lattice_system, window, rng, c_length)
    system = _system_3d(lattice_system)
    if rng.random() >= uniform_share:
        sample = _gamma_3d(system, window, rng)
        if sample is not None:
            return sample
    if shapes == "wide" and system in ("tetragonal", "hexagonal"):
        return _wide_axial(system, window, rng, rhombohedral)
    return _uniform_3d(system, window, rng)


def _wide_axial(system: str, window: tuple[float, float], rng: np.random.Generator, rhombohedral: bool) -> LatticeSample:
    """A tetragonal or hexagonal cell of uniform volume in `window` with a wide range of c/a: c / V^(1/3)
    log-uniform in WIDE_C_RATIO, or, for a rhombohedral lattice, the primitive angle uniform in
    WIDE_RHOMBOHEDRAL_ANGLE (the hexagonal axes of a primitive cell of edge r and angle x: a = 2 r sin(x/2),
    c = r sqrt(3 (1 + 2 cos x)))."""
    volume = rng.uniform(*window)
    gamma = 90.0 if system == "tetragonal" else 120.0
    if rhombohedral:
        x = math.radians(rng.uniform(*WIDE_RHOMBOHEDRAL_ANGLE))
        c_over_a = math.sqrt(3.0 * (1.0 + 2.0 * math.cos(x))) / (2.0 * math.sin(x / 2.0))
        a = (volume / (c_over_a * math.sin(math.radians(gamma)))) ** (1.0 / 3.0)
        return LatticeSample(a, a, c_over_a * a, 90.0, 90.0, gamma, "uniform")
    lo, hi = WIDE_C_RATIO
    c = math.exp(rng.uniform(math.log(lo), math.log(hi))) * volume ** (1.0 / 3.0)
    a = math.sqrt(volume / (c * math.sin(math.radians(gamma))))
    return LatticeSample(a, a, c, 90.0, 90.0, gamma, "uniform")


def _scaled(lengths: np.ndarray, angles: tuple[float, float, float], volume: float) -> tuple[float, float, float]:
    unit = cell_volume(*lengths, *angles)
    f = (volume / unit) ** (1.0 / 3.0)
    return tuple(float(x * f) for x in lengths)


def _uniform_3d(system: str, window: tuple[float, float], rng: np.random.Generator) -> LatticeSample:
    volume = rng.uniform(*window)
    root = volume ** (1.0 / 3.0)
    if system == "cubic":
        return LatticeSample(root, root, root, 90.0, 90.0, 90.0, "uniform")
    if system == "tetragonal":
        c = rng.uniform(0.5, 1.5) * root
        a = math.sqrt(volume / c)
        return LatticeSample(a, a, c, 90.0, 90.0, 90.0, "uniform")
    if system == "hexagonal":
        c = rng.uniform(0.5, 1.5) * root
        a = math.sqrt(volume / (c * math.sin(math.radians(120.0))))
        return LatticeSample(a, a, c, 90.0, 90.0, 120.0, "uniform")
    ratios = rng.uniform(0.5, 1.5, size=3)
    if system == "orthorhombic":
        angles = (90.0, 90.0, 90.0)
    elif system == "monoclinic":
        angles = (90.0, float(rng.uniform(90.0, 120.0)), 90.0)
    elif system == "triclinic":
        while True:  # angles U(60, 120) that form a valid cell (the acceptance rate is high)
            angles = tuple(float(x) for x in rng.uniform(60.0, 120.0, size=3))
            if cell_volume(1.0, 1.0, 1.0, *angles) > 0.2:
                break
    else:
        raise ValueError(f"unknown lattice system {system!r}")
    a, b, c = _scaled(ratios, angles, volume)
    return LatticeSample(a, b, c, *angles, "uniform")


def _gamma_3d(system: str, window: tuple[float, float], rng: np.random.Generator) -> LatticeSample | None:
    fit = GAMMA_FITS[system]

    def draw(name: str) -> float:
        shape, scale = fit[name]
        return float(rng.gamma(shape, scale))

    for _ in range(GAMMA_REDRAWS):
        if system == "cubic":
            a = draw("a")
            par = (a, a, a, 90.0, 90.0, 90.0)
        elif system == "tetragonal":
            a = draw("a")
            par = (a, a, draw("c"), 90.0, 90.0, 90.0)
        elif system == "hexagonal":
            a = draw("a")
            par = (a, a, draw("c"), 90.0, 90.0, 120.0)
        elif system == "orthorhombic":
            par = (draw("a"), draw("b"), draw("c"), 90.0, 90.0, 90.0)
        elif system == "monoclinic":
            (p, mu1, sd1), (mu2, sd2) = MONOCLINIC_BETA
            beta = rng.normal(mu1, sd1) if rng.random() < p else rng.normal(mu2, sd2)
            par = (draw("a"), draw("b"), draw("c"), 90.0, float(beta), 90.0)
        else:
            par = (draw("a"), draw("b"), draw("c"), draw("alpha"), draw("beta"), draw("gamma"))
        if window[0] <= cell_volume(*par) <= window[1] and min(par[3:]) > 30.0 and max(par[3:]) < 150.0:
            return LatticeSample(*par, "gamma")
    return None


def _uniform_2d(system: str, window: tuple[float, float], rng: np.random.Generator, c_length: float) -> LatticeSample:
    area = rng.uniform(*window)
    if system == "square":
        a = math.sqrt(area)
        return LatticeSample(a, a, c_length, 90.0, 90.0, 90.0, "uniform")
    if system == "hexagonal":
        a = math.sqrt(area / math.sin(math.radians(120.0)))
        return LatticeSample(a, a, c_length, 90.0, 90.0, 120.0, "uniform")
    gamma = float(rng.uniform(60.0, 120.0)) if system == "oblique" else 90.0
    ratio = rng.uniform(0.5, 1.5)
    b_over_a = ratio
    a = math.sqrt(area / (b_over_a * math.sin(math.radians(gamma))))
    return LatticeSample(a, a * b_over_a, c_length, 90.0, 90.0, gamma, "uniform")


# Cell parameters (indices into a, b, c, alpha, beta, gamma) that vary together in each lattice system;
# the rest stay. Angles fixed at 90 or 120 degrees by the system never vary; c of a layer never varies.
FREE_PARAMETERS: dict[str, tuple[tuple[int, ...], ...]] = {
    "cubic": ((0, 1, 2),),
    "tetragonal": ((0, 1), (2,)),
    "hexagonal": ((0, 1), (2,)),
    "trigonal": ((0, 1), (2,)),
    "orthorhombic": ((0,), (1,), (2,)),
    "monoclinic": ((0,), (1,), (2,), (4,)),
    "triclinic": ((0,), (1,), (2,), (3,), (4,), (5,)),
    "oblique": ((0,), (1,), (5,)),
    "rectangular": ((0,), (1,)),
    "square": ((0, 1),),
}


def strain_lattice(
    lattice: np.ndarray, lattice_system: str, size: float, rng: np.random.Generator, *, layer: bool = False
) -> np.ndarray:
    """A small random strain of `lattice` that keeps its lattice system (so every group operation holds).

    Each free length (or set of lengths tied by the system) is scaled by 1 + U(-size, size) and each free
    angle moved by U(-size, size) radians; the new cell comes from `cellpar_to_cell`, as sampled lattices do.
    """
    from ase.geometry import cell_to_cellpar

    par = np.array(cell_to_cellpar(lattice), dtype=float)
    for group in FREE_PARAMETERS[lattice_system]:
        if layer:  # a layer's c (its normal and vacuum) stays
            group = tuple(k for k in group if k != 2)
        eps = rng.uniform(-size, size)
        for k in group:
            par[k] = par[k] * (1.0 + eps) if k < 3 else par[k] + math.degrees(eps)
    return cellpar_to_cell(par)
