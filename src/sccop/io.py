"""Reading and writing structures: extxyz, CIF/POSCAR through ASE, and ASE databases (.db)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms

from sccop.errors import SccopInputError


def _db_key_values(info: dict) -> dict:
    """ASE db key-value pairs accept str, int, float and bool only."""
    out = {}
    for key, value in info.items():
        if isinstance(value, (bool, int, float, str)):
            out[key] = value
    return out


def output_format(path: str | Path) -> str:
    """The format a file name asks for: "db" for an ASE database, else ASE's name for it (extxyz, cif ...);
    SccopInputError when ASE cannot tell."""
    from ase.io.formats import filetype, ioformats

    path = Path(path)
    if path.suffix == ".db":
        return "db"
    if path.suffix in (".xyz", ".extxyz"):
        return "extxyz"
    try:
        fmt = filetype(path, read=False)
    except Exception:  # noqa: BLE001 - ASE's UnknownFileTypeError and friends
        fmt = None
    if fmt not in ioformats or not ioformats[fmt].can_write:
        raise SccopInputError(f"cannot tell which format to write {path.name} in: end it in .extxyz, .cif, .db, "
                              ".vasp or POSCAR")
    return fmt


def write_structures(structures: list[Atoms], path: str | Path) -> None:
    """Write to an ASE database when the name ends in .db, else to any format ASE infers (extxyz...)."""
    path = Path(path)
    fmt = output_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "db":
        from ase.db import connect

        with connect(path, append=False) as db:
            for atoms in structures:
                db.write(atoms, key_value_pairs=_db_key_values(atoms.info))
        return
    from ase.io import write
    from ase.io.formats import ioformats

    if len(structures) > 1 and ioformats[fmt].single:
        # POSCAR and friends hold one structure: write NAME_0000.ext, NAME_0001.ext ... beside each other.
        for i, atoms in enumerate(structures):
            write(path.with_name(f"{path.stem}_{i:04d}{path.suffix}"), atoms, format=fmt)
        return
    write(path, structures, format=fmt)


def read_structures(path: str | Path) -> list[Atoms]:
    """Every structure in a file or database, with its info keys. A missing, unreadable, empty or broken
    input, or a structure with a non-finite or degenerate cell, is an SccopInputError naming it."""
    path = Path(path)
    if not path.exists():
        raise SccopInputError(f"input {path} does not exist")
    if not path.is_file():
        raise SccopInputError(f"input {path} is not a file")
    if path.stat().st_size == 0:
        raise SccopInputError(f"input {path} is empty")
    try:
        structures = _read(path)
    except Exception as exc:  # noqa: BLE001 - any reader error is bad input for the user
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SccopInputError(f"cannot read {path}: {first[:200]}") from None
    if not structures:
        raise SccopInputError(f"{path} holds no structures")
    for i, atoms in enumerate(structures):
        problem = structure_problem(atoms)
        if problem:
            raise SccopInputError(f"structure {i} in {path} {problem}")
    return structures


def structure_problem(atoms: Atoms) -> str | None:
    """What makes a structure unusable, in words: no atoms, non-finite numbers, a flat periodic cell."""
    if len(atoms) == 0:
        return "has no atoms"
    if not np.all(np.isfinite(atoms.positions)) or not np.all(np.isfinite(atoms.cell.array)):
        return "has a non-finite position or cell vector"
    if atoms.pbc.all() and abs(np.linalg.det(atoms.cell.array)) < 1e-6:
        return "is periodic but its cell has no volume"
    return None


def _read(path: Path) -> list[Atoms]:
    if path.suffix == ".db":
        from ase.db import connect

        out = []
        for row in connect(path).select():
            atoms = row.toatoms()
            atoms.info.update(row.key_value_pairs)
            out.append(atoms)
        return out
    from ase.io import read

    fmt = "extxyz" if path.suffix in (".xyz", ".extxyz") else None
    structures = read(path, index=":", format=fmt)
    for atoms in structures:
        # extxyz hands an `energy` key to a SinglePointCalculator; keep it visible in info as well.
        if atoms.calc is not None and "energy" in atoms.calc.results:
            atoms.info.setdefault("energy", float(atoms.calc.results["energy"]))
    return structures
