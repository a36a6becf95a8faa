"""A user's seed structures (`--seeds FILE_OR_DIR`): read, checked against the composition, and described
for the sampler.

Seeds are labelled (single points) and relaxed before anything is sampled, as rows seed/user/K,
label:seed/user/K and relax:label:seed/user/K, so they enter the ranking like any relaxed structure. Each
relaxed seed then seeds the sampler: `seed_samples` structures drawn on its symmetrised lattice, in
its space group, with its own Wyckoff assignment when the sampler's tables know it (a random
assignment of the group otherwise), from round 0 on.
"""

from __future__ import annotations

from pathlib import Path

from ase import Atoms

from sccop.errors import SccopInputError

SEED_SUFFIXES = {".cif", ".vasp", ".poscar", ".extxyz", ".xyz", ".db", ".json", ".traj"}


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and (p.suffix.lower() in SEED_SUFFIXES
                                                                       or p.name.upper().startswith(("POSCAR", "CONTCAR"))))
        if not found:
            raise SccopInputError(f"seed folder {path} holds no structure file (CIF, POSCAR, extxyz, ASE database)")
        return found
    if not path.exists():
        raise SccopInputError(f"seeds {path} do not exist")
    return [path]


def _read(path: Path) -> list[Atoms]:
    from ase.io import read

    try:
        if path.suffix.lower() == ".db":
            from ase.db import connect

            with connect(path) as db:
                return [row.toatoms() for row in db.select()]
        found = read(path, index=":")
    except Exception as exc:  # noqa: BLE001 - a reader's complaint, in one line
        raise SccopInputError(f"cannot read seed structures from {path}: {exc}") from None
    return found if isinstance(found, list) else [found]


def read_seeds(path: str | Path, composition, layer_height: float | None = None) -> list[tuple[str, Atoms]]:
    """(source, structure) of every seed at `path` (a file of one or more structures, a folder of files, or
    an ASE database); each must have the composition's reduced formula. `layer_height`: a 2D search's cell
    height, to which each seed is made a layer (c its normal, sccop.symmetry.analysis.as_layer)."""
    from sccop.symmetry.analysis import as_layer

    from pymatgen.core import Composition

    want = Composition(dict(composition.counts)).reduced_formula
    out = []
    for file in _files(Path(path).expanduser()):
        structures = _read(file)
        for k, atoms in enumerate(structures):
            name = f"seed {file}{f' #{k}' if len(structures) > 1 else ''}"
            if layer_height is not None and len(atoms) and atoms.pbc[0] and atoms.pbc[1]:
                try:
                    atoms = as_layer(atoms, layer_height)
                except SccopInputError as exc:
                    raise SccopInputError(f"{name} is not a layer with c its normal: {exc}") from None
            elif len(atoms) == 0 or not atoms.pbc.all():
                raise SccopInputError(f"{name} is not a periodic crystal")
            got = Composition(atoms.get_chemical_formula()).reduced_formula
            if got != want:
                raise SccopInputError(f"seed {file}{f' #{k}' if len(structures) > 1 else ''} is {got}, not {want}")
            out.append((f"{file.name}{f'#{k}' if len(structures) > 1 else ''}", atoms))
    if not out:
        raise SccopInputError(f"no seed structure in {path}")
    return out


def seed_assignment(atoms: Atoms, group) -> tuple | None:
    """The seed's Wyckoff assignment ((element, index of the group's position), ...) in the sampler's tables
    (sorted), from spglib on its conventional standard cell at 0.1 A; None when it cannot be told."""
    from sccop.symmetry.analysis import wyckoff_orbits

    orbits = wyckoff_orbits(atoms)
    if orbits is None or orbits[0] != group.number:
        return None
    index = {w.label: w.index for w in group.wyckoffs}
    try:
        return tuple(sorted((element, index[label]) for element, label in orbits[1]))
    except KeyError:
        return None


__all__ = ["SEED_SUFFIXES", "read_seeds", "seed_assignment"]
