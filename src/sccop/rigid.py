"""Rigid units in a relaxation: an ASE constraint that moves each unit (the atoms sharing a tag above 0)
as a rigid body.

Forces are projected onto each unit's rigid motions (its net force shared equally, and the rotation its
torque drives through its inertia tensor, unit masses), and every new set of positions is projected back
onto a rigid copy of the unit (the best rotation and shift, by Kabsch), so the unit's shape is kept
exactly whatever the optimizer or the cell filter does; the stress a cell filter sees leaves out the
units' internal virial. ASE's FixBondLengths, the other way to do it,
does not converge on an icosahedron: its 66 pair constraints are more than a rigid body's 30.
"""

from __future__ import annotations

import numpy as np


def _kabsch(reference: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The rotation R minimising |reference @ R.T - target| (both centred)."""
    h = reference.T @ target
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def unit_indices(atoms) -> list[np.ndarray]:
    """The atom indices of each unit: the atoms sharing a tag above 0, one array per tag in increasing order."""
    tags = atoms.get_tags()
    return [np.flatnonzero(tags == t) for t in np.unique(tags[tags > 0])]


class RigidUnits:
    """ASE constraint: each group of atoms with the same tag above 0 stays rigid (see the module docstring)."""

    def __init__(self, atoms):
        self.groups = unit_indices(atoms)
        self.shapes = []
        for idx in self.groups:
            p = atoms.positions[idx]
            self.shapes.append(p - p.mean(axis=0))

    def get_removed_dof(self, atoms) -> int:
        removed = 0
        for shape in self.shapes:
            rigid = 5 if np.linalg.matrix_rank(shape, tol=1e-3) < 2 else 6
            removed += max(0, 3 * len(shape) - min(rigid, 3 * len(shape)))
        return removed

    def adjust_positions(self, atoms, new: np.ndarray) -> None:
        for idx, shape in zip(self.groups, self.shapes):
            centre = new[idx].mean(axis=0)
            rotation = _kabsch(shape, new[idx] - centre)
            new[idx] = shape @ rotation.T + centre

    def adjust_forces(self, atoms, forces: np.ndarray) -> None:
        for idx in self.groups:
            r = atoms.positions[idx] - atoms.positions[idx].mean(axis=0)
            f = forces[idx]
            net = f.sum(axis=0)
            torque = np.cross(r, f).sum(axis=0)
            inertia = (r * r).sum() * np.eye(3) - r.T @ r
            omega = np.linalg.pinv(inertia) @ torque
            forces[idx] = net / len(idx) + np.cross(omega, r)

    def adjust_stress(self, atoms, stress: np.ndarray) -> None:
        """The stress of a strain that moves the units' centres but keeps their shapes: the units' internal
        virial, sum over their atoms of f_i (x) (r_i - centre), is taken out of the backend's stress (Voigt,
        eV/A^3), or a cell filter would keep pulling at bonds the constraint holds."""
        forces = atoms.get_forces(apply_constraint=False)
        internal = np.zeros((3, 3))
        for idx in self.groups:
            r = atoms.positions[idx] - atoms.positions[idx].mean(axis=0)
            internal += forces[idx].T @ r
        internal = 0.5 * (internal + internal.T) / atoms.get_volume()
        full = np.array([[stress[0], stress[5], stress[4]], [stress[5], stress[1], stress[3]],
                         [stress[4], stress[3], stress[2]]]) + internal
        stress[:] = [full[0, 0], full[1, 1], full[2, 2], full[1, 2], full[0, 2], full[0, 1]]

    def adjust_momenta(self, atoms, momenta: np.ndarray) -> None:
        self.adjust_forces(atoms, momenta)

    def index_shuffle(self, atoms, ind) -> None:
        raise NotImplementedError("RigidUnits does not follow a reordering of the atoms")

    def todict(self) -> dict:
        return {"name": "RigidUnits", "kwargs": {}}

    def __repr__(self) -> str:
        return f"RigidUnits({len(self.groups)} units)"


def perturbed(atoms, turn: float, strain: float, rng):
    """A copy of `atoms` with each unit (atoms sharing a tag above 0) turned rigidly about its centre by a
    random angle (Gaussian, `turn` degrees), and the cell strained by a random symmetric strain (Gaussian
    components of `strain`) that moves unit centres and free atoms but keeps every unit's shape.

    A sampled crystal of units sits on a high-symmetry point: its forces and stress keep every symmetry of
    its group, so a rigid relaxation stays in that group even where a lower structure is a small turn
    away (an fcc packing of B12 in Fm-3 relaxes to -6.22 eV/atom; turned by a few degrees, to alpha-boron
    at -6.57, docs/benchmarks.md)."""
    from scipy.spatial.transform import Rotation

    out = atoms.copy()
    units = unit_indices(out)
    offsets = []
    for idx in units:
        p = out.positions[idx]
        axis = rng.normal(size=3)
        angle = np.radians(rng.normal(0.0, turn)) if turn > 0 else 0.0
        rotation = Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle)
        offsets.append(rotation.apply(p - p.mean(axis=0)))
    eps = rng.normal(0.0, strain, (3, 3)) if strain > 0 else np.zeros((3, 3))
    eps = 0.5 * (eps + eps.T)
    out.set_cell(out.cell.array @ (np.eye(3) + eps), scale_atoms=True)  # centres and free atoms follow the strain
    for idx, offset in zip(units, offsets):
        out.positions[idx] = out.positions[idx].mean(axis=0) + offset
    return out


__all__ = ["RigidUnits", "perturbed", "unit_indices"]
