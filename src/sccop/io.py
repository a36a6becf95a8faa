"""Reading and writing structures: extxyz, CIF/POSCAR through ASE, and ASE databases (.db)."""

from __future__ import annotations

from pathlib import Path

from ase import Atoms


def _db_key_values(info: dict) -> dict:
    """ASE db key-value pairs accept str, int, float and bool only."""
    out = {}
    for key, value in info.items():
        if isinstance(value, (bool, int, float, str)):
            out[key] = value
    return out


def write_structures(structures: list[Atoms], path: str | Path) -> None:
    """Write to an ASE database when the name ends in .db, else to any format ASE infers (extxyz...)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".db":
        from ase.db import connect

        with connect(path, append=False) as db:
            for atoms in structures:
                db.write(atoms, key_value_pairs=_db_key_values(atoms.info))
        return
    from ase.io import write

    fmt = "extxyz" if path.suffix in (".xyz", ".extxyz") else None
    write(path, structures, format=fmt)


def read_structures(path: str | Path) -> list[Atoms]:
    """Read every structure in a file or database, with its info keys."""
    path = Path(path)
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
