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
    from ase.io.formats import filetype, ioformats

    fmt = "extxyz" if path.suffix in (".xyz", ".extxyz") else filetype(path, read=False)
    if len(structures) > 1 and ioformats[fmt].single:
        # POSCAR and friends hold one structure: write NAME_0000.ext, NAME_0001.ext ... beside each other.
        for i, atoms in enumerate(structures):
            write(path.with_name(f"{path.stem}_{i:04d}{path.suffix}"), atoms, format=fmt)
        return
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
