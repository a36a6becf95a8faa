"""Seating a rigid unit on a Wyckoff position: the position's site symmetry, and the unit's orientations
that keep it.

A unit whose centre sits on a Wyckoff position must be mapped onto itself by every operation of the
site-symmetry group, so its orientation Q (unit frame -> crystal frame) must satisfy
Q^T R Q in G_unit for every site operation R (Cartesian). The candidates align the unit's symmetry axes
with the site's: one site axis leaves a free rotation about it; two fix the orientation up to the
unit's own symmetry. Every candidate is checked directly (the rotated unit is invariant under each site
operation, atom by atom), so nothing rests on matching group tables. PyXtal does this for molecular
crystals, but it cannot seat an icosahedral unit on a special position (alpha-boron's B12 on -3m), so it
is done here.
"""

from __future__ import annotations

import numpy as np

from sccop.symmetry.groups import GroupInfo, WyckoffSite


def generic_point(site: WyckoffSite, rng: np.random.Generator | None = None) -> np.ndarray:
    """A point of the position with generic values of its free parameters (fractional)."""
    rng = rng or np.random.default_rng(7)
    x = rng.random(3) * 0.8 + 0.1
    return site.projection[:, :3] @ x + site.projection[:, 3]


def site_rotations(group: GroupInfo, site: WyckoffSite) -> np.ndarray:
    """(K, 3, 3) fractional rotation parts of the operations that fix a generic point of `site`."""
    p = generic_point(site)
    image = np.einsum("kij,j->ki", group.rotations, p) + group.translations
    delta = image - p
    fixed = np.abs(delta - np.round(delta)).max(axis=1) < 1e-6
    return group.rotations[fixed]


def cartesian(rotations: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Fractional rotations (acting on column vectors of fractional coordinates) in Cartesian form for a
    cell whose rows are the lattice vectors: R = A^T W A^-T."""
    a = np.asarray(cell, dtype=float)
    return np.einsum("ij,kjl,lm->kim", a.T, rotations, np.linalg.inv(a.T))


def _axis(op: np.ndarray) -> np.ndarray | None:
    """The axis of a rotation, rotoinversion or mirror (its proper part's fixed direction); None for the
    identity and the inversion."""
    proper = op * np.sign(np.linalg.det(op))
    if np.allclose(proper, np.eye(3), atol=1e-6):
        return None
    w, v = np.linalg.eig(proper)
    k = int(np.argmin(np.abs(w - 1.0)))
    axis = np.real(v[:, k])
    return axis / np.linalg.norm(axis)


def distinct_axes(ops: np.ndarray) -> list[np.ndarray]:
    axes: list[np.ndarray] = []
    for op in ops:
        a = _axis(op)
        if a is not None and not any(abs(abs(a @ b) - 1.0) < 1e-4 for b in axes):
            axes.append(a)
    return axes


def invariant(positions: np.ndarray, symbols: np.ndarray, ops: np.ndarray, tolerance: float = 0.05) -> bool:
    """Does every operation map the (centred) unit onto itself, atom for atom of the same element?"""
    for op in ops:
        moved = positions @ op.T
        d = np.linalg.norm(moved[:, None, :] - positions[None, :, :], axis=2)
        same = symbols[:, None] == symbols[None, :]
        if not (np.where(same, d, np.inf).min(axis=1) < tolerance).all():
            return False
    return True


def _align(u: tuple[np.ndarray, ...], v: tuple[np.ndarray, ...]) -> np.ndarray | None:
    """The rotation taking the vectors v (unit frame) onto u (crystal frame), by Kabsch; None if the
    angles between them differ."""
    if len(u) == 1:
        a, b = v[0], u[0]
        c = np.cross(a, b)
        s, cos = np.linalg.norm(c), float(a @ b)
        if s < 1e-9:
            return np.eye(3) if cos > 0 else _half_turn(a)
        k = c / s
        kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        return np.eye(3) + s * kx + (1 - cos) * kx @ kx
    if abs(float(u[0] @ u[1]) - float(v[0] @ v[1])) > 1e-3:
        return None
    p = np.array([v[0], v[1], np.cross(v[0], v[1])])
    q = np.array([u[0], u[1], np.cross(u[0], u[1])])
    h = p.T @ q
    x, _, yt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(yt.T @ x.T))
    return yt.T @ np.diag([1.0, 1.0, d]) @ x.T


def _half_turn(a: np.ndarray) -> np.ndarray:
    other = np.array([1.0, 0, 0]) if abs(a[0]) < 0.9 else np.array([0, 1.0, 0])
    n = np.cross(a, other)
    n /= np.linalg.norm(n)
    return 2 * np.outer(n, n) - np.eye(3)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def rotation_about(axis: np.ndarray, angle: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def orientations(unit_positions: np.ndarray, unit_symbols, unit_ops: np.ndarray, site_ops: np.ndarray,
                 limit: int = 24, unit_axes: list[np.ndarray] | None = None) -> tuple[list[np.ndarray], np.ndarray | None]:
    """(orientations Q that keep the unit invariant under `site_ops` (Cartesian), the axis about which
    each may still turn freely, or None when they are fixed). An empty list: the unit cannot sit there.
    `unit_axes`: distinct_axes(unit_ops), when the caller keeps them."""
    symbols = np.asarray(unit_symbols)
    site_axes = distinct_axes(site_ops)
    nontrivial = [op for op in site_ops if not np.allclose(op, np.eye(3), atol=1e-6)]
    if not nontrivial:
        return [np.eye(3)], None  # a general position: any orientation
    if not site_axes:  # the inversion alone
        ok = invariant(unit_positions, symbols, site_ops)
        return ([np.eye(3)] if ok else []), None
    unit_axes = distinct_axes(unit_ops) if unit_axes is None else unit_axes
    if len(unit_positions) == 1:
        return [np.eye(3)], None
    found: list[np.ndarray] = []

    def consider(q: np.ndarray | None) -> None:
        if q is None or any(np.abs(q - f).max() < 1e-6 for f in found):
            return
        if invariant(unit_positions @ q.T, symbols, site_ops):
            found.append(q)

    if len(site_axes) == 1:
        for v in unit_axes:
            for sign in (1.0, -1.0):
                consider(_align((site_axes[0],), (sign * v,)))
                if len(found) >= limit:
                    return found, site_axes[0]
        return found, site_axes[0]
    u = (site_axes[0], site_axes[1])
    for i, a in enumerate(unit_axes):
        for j, b in enumerate(unit_axes):
            if i == j:
                continue
            for sa in (1.0, -1.0):
                for sb in (1.0, -1.0):
                    consider(_align(u, (sa * a, sb * b)))
                    if len(found) >= limit:
                        return found, None
    return found, None


__all__ = ["cartesian", "distinct_axes", "generic_point", "invariant", "orientations", "random_rotation",
           "rotation_about", "site_rotations"]
