"""The run's ASE database: the single source of truth of a search (one writer, the main process).

Every structure is a row with key-value pairs
    uid       a deterministic name, e.g. "r0/sample/17" (resume uses it: a row is written once)
    stage     sample, label (a backend single point), anneal, relax (also the labels of a search with
              label_with = "relaxation": uid relax:label:U, parent U, parent_spacegroup/parent_wyckoff U's)
    round, iteration, spacegroup, wyckoff (letters), predicted, energy_per_atom (backend, eV/atom;
              enthalpy per atom under pressure; the row's own `energy` is the backend's total energy),
    status    ok / failed, reason (failures), parent (the uid it came from),
    calls     backend calls made so far when the row was written (backend calls only; `minutes`: the
              run's elapsed minutes then, resumed runs adding to earlier ones)
and, for structures on a symmetry grid, `data["symmetric"]` (group, grid divisions, lattice, orbits),
from which `from_symmetric_data` rebuilds the SymmetricStructure. The resolved config and the program version are the database metadata.
SQLite by default; ASE's PostgreSQL URLs (postgresql://...) work the same way.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from ase import Atoms

YEAR_MINUTES = 365.25 * 24 * 60  # ASE database row times (ctime) are in years since 2000


@contextmanager
def exclusive(folder: str | Path, what: str):
    """Hold DIR/.lock while `what` (e.g. "a search") writes DIR: a second process on the same DIR gets an
    SccopInputError at once instead of writing the same rows beside the first. The lock (fcntl.flock) goes
    with the process, so a killed run leaves nothing to clean up."""
    import fcntl

    from sccop.errors import SccopInputError

    path = Path(folder) / ".lock"
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise SccopInputError(f"{folder} is in use by {holder}; wait for it or use another --out") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{what} (process {os.getpid()})")
        fh.flush()
        try:
            yield
        finally:
            fh.truncate(0)
            fcntl.flock(fh, fcntl.LOCK_UN)


def symmetric_data(structure) -> dict:
    """JSON-able description of a SymmetricStructure (see `from_symmetric_data`)."""
    grid = structure.grid
    return {
        "group": int(grid.group.number),
        "dim": int(grid.group.dim),
        "divisions": [int(x) for x in grid.divisions],
        "z_frac": None if grid.z_frac is None else [float(z) for z in grid.z_frac],
        "lattice": np.asarray(structure.lattice, dtype=float).tolist(),
        "elements": [o.element for o in structure.orbits],
        "sites": [int(o.site) for o in structure.orbits],
    }


def from_symmetric_data(data: dict):
    from sccop.sampling.structure import Orbit, SymmetricStructure
    from sccop.symmetry.grid import get_grid
    from sccop.symmetry.groups import get_group

    z_frac = None if data.get("z_frac") is None else tuple(data["z_frac"])
    grid = get_grid(get_group(int(data["group"]), int(data["dim"])), tuple(data["divisions"]), z_frac)
    orbits = tuple(Orbit(e, int(s)) for e, s in zip(data["elements"], data["sites"]))
    return SymmetricStructure(grid=grid, lattice=np.asarray(data["lattice"], dtype=float), orbits=orbits)


class Store:
    """An ASE database of one search (see the module docstring)."""

    def __init__(self, url: str | Path):
        from ase.db import connect

        self.url = str(url)
        self.db = connect(self.url, type="db") if not self.url.startswith("postgresql") else connect(self.url)
        self._uids: dict[str, int] = {
            row.get("uid"): row.id for row in self.db.select(include_data=False) if row.get("uid") is not None
        }

    @property
    def metadata(self) -> dict:
        return self.db.metadata

    @metadata.setter
    def metadata(self, value: dict) -> None:
        self.db.metadata = value

    def __contains__(self, uid: str) -> bool:
        return uid in self._uids

    def __len__(self) -> int:
        return len(self._uids)

    def get(self, uid: str):
        return self.db.get(id=self._uids[uid])

    def put(self, uid: str, atoms: Atoms, data: dict | None = None, **values) -> int:
        """Write a row once; a uid already present is left as it is (resume replays the same uids)."""
        if uid in self._uids:
            return self._uids[uid]
        clean = {k: v for k, v in values.items() if v is not None}
        for k, v in list(clean.items()):
            if isinstance(v, np.generic):
                clean[k] = v.item()
        calc = atoms.calc
        atoms = atoms.copy()
        atoms.set_constraint()
        atoms.calc = calc  # a single-point calculator's energy, forces and stress go into the row
        row_id = self.db.write(atoms, key_value_pairs={"uid": uid, **clean}, data=data or {})
        self._uids[uid] = row_id
        return row_id

    def put_many(self, rows: list[tuple]) -> None:
        """Several `put`s in one transaction: (uid, atoms, data, values) tuples."""
        with self.db:
            for uid, atoms, data, values in rows:
                self.put(uid, atoms, data, **values)

    def rows(self, **selection):
        return list(self.db.select(**selection))
