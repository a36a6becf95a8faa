"""Space groups and layer groups as sccop uses them, read from PyXtal's tables.

A 3D structure lives in one of the 230 space groups (standard setting, hexagonal axes for R groups).
A 2D layer lives in one of the 80 layer groups (PyXtal's numbering and settings): c is the layer normal,
with vacuum along it, and every operation maps z to +z or -z about the layer's middle plane (z = 0 in the
group's own coordinates; sccop puts that plane at the middle of the cell). The 17 plane groups are the
layer groups whose operations all keep z (`PLANE_GROUPS`): a flat layer is sampled in those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from sccop.errors import SccopInputError

# Plane group number -> (symbol, the layer group number that has exactly its operations, 2D lattice system):
# the layer groups whose operations all keep z, in which a flat layer is sampled.
PLANE_GROUPS: dict[int, tuple[str, int, str]] = {
    1: ("p1", 1, "oblique"),
    2: ("p2", 3, "oblique"),
    3: ("pm", 11, "rectangular"),
    4: ("pg", 12, "rectangular"),
    5: ("cm", 13, "rectangular"),
    6: ("p2mm", 23, "rectangular"),
    7: ("p2mg", 24, "rectangular"),
    8: ("p2gg", 25, "rectangular"),
    9: ("c2mm", 26, "rectangular"),
    10: ("p4", 49, "square"),
    11: ("p4mm", 55, "square"),
    12: ("p4gm", 56, "square"),
    13: ("p3", 65, "hexagonal"),
    14: ("p3m1", 69, "hexagonal"),
    15: ("p31m", 70, "hexagonal"),
    16: ("p6", 73, "hexagonal"),
    17: ("p6mm", 77, "hexagonal"),
}

# Primitive basis vectors (rows) in units of the conventional ones, per centring letter.
CENTRING_TO_PRIMITIVE: dict[str, np.ndarray] = {
    "P": np.eye(3),
    "A": np.array([[1.0, 0, 0], [0, 0.5, 0.5], [0, -0.5, 0.5]]),
    "C": np.array([[0.5, -0.5, 0], [0.5, 0.5, 0], [0, 0, 1.0]]),
    "I": np.array([[-0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.5, 0.5, -0.5]]),
    "F": np.array([[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]),
    "R": np.array([[2 / 3, 1 / 3, 1 / 3], [-1 / 3, 1 / 3, 1 / 3], [-1 / 3, -2 / 3, 1 / 3]]),
}


@dataclass(frozen=True)
class WyckoffSite:
    """One Wyckoff position of a group.

    `projection` (3x4 affine) maps a general point onto the position's representative subspace, so a
    point p lies on that subspace when projection(p) == p modulo lattice translations.
    """

    index: int
    label: str
    multiplicity: int
    dof: int
    projection: np.ndarray

    @property
    def fixed(self) -> bool:
        return self.dof == 0


@dataclass(frozen=True)
class GroupInfo:
    """A group with everything the sampler needs. Multiplicities are per conventional cell."""

    number: int
    dim: int
    symbol: str
    lattice_system: str
    centring: str
    centring_factor: int
    rotations: np.ndarray  # (K, 3, 3) integer rotation parts, fractional coordinates
    translations: np.ndarray  # (K, 3) translation parts, fractional coordinates
    wyckoffs: tuple[WyckoffSite, ...]
    denominators: tuple[int, int, int]  # grid divisions per axis must be multiples of these
    tied_axes: tuple[tuple[int, ...], ...]  # axes that operations mix, so their divisions must be equal

    def to_primitive_matrix(self) -> np.ndarray:
        return CENTRING_TO_PRIMITIVE[self.centring]


def _denominator(x: float, limit: int = 48) -> int:
    return Fraction(float(x) % 1.0).limit_denominator(limit).denominator


def point_group_order(group: GroupInfo) -> int:
    """Order of the group's point group: its operations per lattice point (1 for P1, 48 for Fm-3m)."""
    return len(group.rotations) // group.centring_factor


def group_numbers(dim: int) -> range:
    """Space groups 1-230 (dim 3) or layer groups 1-80 (dim 2)."""
    return range(1, 231) if dim == 3 else range(1, 81)


def flat_layer_groups() -> tuple[int, ...]:
    """The layer groups whose operations all keep z: the 17 plane groups, in which a flat layer is sampled."""
    return tuple(sorted(layer for _, layer, _ in PLANE_GROUPS.values()))


def layer_lattice_system(number: int) -> str:
    """The 2D lattice system of layer group `number` (1-7 oblique, 8-48 rectangular, 49-64 square, 65-80
    hexagonal)."""
    if number <= 7:
        return "oblique"
    if number <= 48:
        return "rectangular"
    if number <= 64:
        return "square"
    return "hexagonal"


def group_kind(dim: int) -> str:
    return "space group" if dim == 3 else "layer group"


@lru_cache(maxsize=None)
def get_group(number: int, dim: int = 3) -> GroupInfo:
    """GroupInfo for space group `number` (dim=3, 1-230) or layer group `number` (dim=2, 1-80)."""
    import warnings

    from pyxtal.symmetry import Group

    if dim not in (2, 3):
        raise SccopInputError(f"dim must be 2 or 3, got {dim}")
    if number not in group_numbers(dim):
        kind = group_kind(dim)
        raise SccopInputError(f"{kind} {number} does not exist (valid: 1-{group_numbers(dim)[-1]})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dim == 3:
            group = Group(number)
            symbol = group.symbol
            lattice_system = group.lattice_type
            centring = symbol[0]
        else:
            group = Group(number, dim=2)
            symbol = group.symbol
            lattice_system = layer_lattice_system(number)
            centring = "C" if symbol.startswith("c") else "P"
    ops = group.Wyckoff_positions[0].ops
    affine = np.array([op.affine_matrix for op in ops])
    rotations = np.rint(affine[:, :3, :3]).astype(int)
    translations = affine[:, :3, 3] % 1.0
    wyckoffs = []
    for i, wp in enumerate(group.Wyckoff_positions):
        projection = np.array(wp.ops[0].affine_matrix[:3, :])
        # In a layer, `dof` is the freedom in the plane: a position with none (0, 0, z) can still hold one
        # orbit per height of the layer (sccop.symmetry.grid counts them).
        dof = int(wp.get_dof()) if dim == 3 else int(np.linalg.matrix_rank(projection[:2, :2]))
        wyckoffs.append(
            WyckoffSite(index=i, label=wp.get_label(), multiplicity=int(wp.multiplicity), dof=dof, projection=projection)
        )
    denominators = [1, 1, 1]
    for axis in range(3):
        values = list(translations[:, axis]) + [w.projection[axis, 3] for w in wyckoffs]
        for v in values:
            denominators[axis] = math.lcm(denominators[axis], _denominator(v))
    tied = _tied_axes(rotations)
    for axes in tied:
        common = math.lcm(*(denominators[a] for a in axes))
        for a in axes:
            denominators[a] = common
    if dim == 2:
        denominators[2] = 1
    return GroupInfo(
        number=number,
        dim=dim,
        symbol=symbol,
        lattice_system=lattice_system,
        centring=centring,
        centring_factor=int(round(1.0 / abs(np.linalg.det(CENTRING_TO_PRIMITIVE[centring])))),
        rotations=rotations,
        translations=translations,
        wyckoffs=tuple(wyckoffs),
        denominators=tuple(denominators),
        tied_axes=tied,
    )


def _tied_axes(rotations: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """Groups of axes that some rotation mixes (union-find over off-diagonal entries)."""
    parent = [0, 1, 2]

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for rot in rotations:
        for i in range(3):
            for j in range(3):
                if i != j and rot[i, j] != 0:
                    parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(3):
        groups.setdefault(find(i), []).append(i)
    return tuple(tuple(g) for g in groups.values() if len(g) > 1)


def parse_groups(text: str | None, dim: int = 3) -> list[int]:
    """Parse ``"1-230"``, ``"225,221"`` or ``"195-230,1"`` into sorted group numbers, validating each."""
    valid = group_numbers(dim)
    if text is None or str(text).strip() == "":
        return list(valid)
    kind = group_kind(dim)
    numbers: set[int] = set()
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part[1:]:
                lo_s, hi_s = part.split("-", 1) if not part.startswith("-") else (part, "")
                lo, hi = int(lo_s), int(hi_s)
            else:
                lo = hi = int(part)
        except ValueError:
            raise SccopInputError(f"cannot read {kind} list {text!r}: {part!r} is not a number or range") from None
        for n in (lo, hi):
            if n not in valid:
                raise SccopInputError(f"{kind} {n} does not exist (valid: 1-{valid[-1]})")
        if hi < lo:
            raise SccopInputError(f"{kind} range {part!r} is empty")
        numbers.update(range(lo, hi + 1))
    if not numbers:
        raise SccopInputError(f"no {kind}s given in {text!r}")
    return sorted(numbers)
