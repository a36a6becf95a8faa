"""The run's ASE database: the single source of truth of a run, written by one process only.

Rows follow sccop.calls.rows. A uid is written once: writing it again with the same structure (a
resumed run replaying what it did) keeps the row; writing it with another structure raises
ReplayMismatch before anything of the batch is written. The resolved config and the program version are
the run's metadata, with the driver's cursor (sccop.loop.cursor).

A run folder's SQLite file (DIR/sccop.db) holds one run, its metadata in ASE's metadata. A shared server
(a postgresql:// URL) holds many: every row of a run carries its `run` id, every read selects it, and the
run's metadata is the data of its own row (uid `__run__`), so no run reads or overwrites another's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from ase import Atoms

from sccop.calls.fingerprint import difference, fingerprint, from_geometry
from sccop.errors import SccopInputError

YEAR_MINUTES = 365.25 * 24 * 60  # ASE database row times (ctime) are in years since 2000
# Stages whose stored atoms are the structure the row was made for (a relaxation's are its result).
_INPUT_IS_STORED = ("sample", "anneal", "label")


class ReplayMismatch(SccopInputError):
    """A uid already in the database would be given to another structure: a resumed run did not replay
    what the stored run did (another library version, a changed input). Nothing is written."""


RUN_ROW = "__run__"


class Store:
    """An ASE database of one run (see the module docstring). `run`: the run's id on a shared server
    (None: the database holds this run only)."""

    def __init__(self, url: str | Path, run: str | None = None):
        from ase.db import connect

        self.url = str(url)
        self.run = run
        self._where = {} if run is None else {"run": run}
        try:
            self.db = connect(self.url, type="db") if not self.url.startswith("postgresql") else connect(self.url)
            self._uids: dict[str, int] = {
                row.get("uid"): row.id for row in self.db.select(include_data=False, **self._where)
                if row.get("uid") is not None
            }
        except ModuleNotFoundError as exc:
            raise SccopInputError(f"{self.shown_url} needs the PostgreSQL driver ({exc.name} is missing): "
                                  "pip install 'sccop[postgres]'") from None
        except Exception as exc:  # noqa: BLE001 - sqlite3, psycopg2 and ASE report a broken database in many ways
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            where = "move it away to start afresh, or use a new --out" if run is None else "check the server and the URL"
            raise SccopInputError(f"{self.shown_url} is not a readable run database ({first[:160]}); {where}") from None

    @property
    def shown_url(self) -> str:
        """The URL without a password, should one have been written into it."""
        import re

        return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", self.url)

    @property
    def metadata(self) -> dict:
        if self.run is None:
            return self.db.metadata
        return dict(self.db.get(id=self._uids[RUN_ROW]).data.get("metadata", {})) if RUN_ROW in self._uids else {}

    @metadata.setter
    def metadata(self, value: dict) -> None:
        value = json.loads(json.dumps(value))  # ASE keeps the dict it is given: a caller's later change must not reach it
        if self.run is None:
            self.db.metadata = value
        elif RUN_ROW in self._uids:
            self.db.update(self._uids[RUN_ROW], data={"metadata": value})
        else:
            self._uids[RUN_ROW] = self.db.write(Atoms(), key_value_pairs={"uid": RUN_ROW, "run": self.run},
                                                data={"metadata": value})

    def update_metadata(self, **values) -> None:
        """Set metadata keys; nothing is written when they hold these values already."""
        old = self.metadata
        if any(old.get(k) != v for k, v in values.items()):
            self.metadata = {**old, **values}

    def __contains__(self, uid: str) -> bool:
        return uid in self._uids and uid != RUN_ROW

    def __len__(self) -> int:
        return len(self._uids) - (RUN_ROW in self._uids)

    def get(self, uid: str):
        return self.db.get(id=self._uids[uid])

    def rows(self, **selection):
        return [row for row in self.db.select(**self._where, **selection) if row.get("uid") != RUN_ROW]

    def count(self, **selection) -> int:
        if not selection:
            return len(self)
        return self.db.count(**self._where, **selection)

    def stored_input(self, row) -> Atoms | None:
        """The structure a stored row was made for, or None when the row does not keep it (a relaxation
        written before inputs were kept)."""
        if "input" in row.data:
            return from_geometry(row.data["input"])
        if row.get("stage") in _INPUT_IS_STORED:
            return row.toatoms()
        return None

    def check_same(self, uid: str, atoms: Atoms, print_: str | None = None):
        """The stored row `uid`; ReplayMismatch when it was made for another structure than `atoms`
        (`print_`: the fingerprint of `atoms`, when known)."""
        row = self.get(uid)
        new = print_ or fingerprint(atoms)
        old = row.get("fingerprint")
        stored = None
        if old is None:  # written before fingerprints: compare with the structure it keeps, if it keeps one
            stored = self.stored_input(row)
            if stored is None:
                return row
            old = fingerprint(stored)
        if old == new:
            return row
        stored = stored if stored is not None else self.stored_input(row)
        what = difference(stored, atoms) if stored is not None else "its fingerprint differs"
        if what is None:  # the same structure within the tolerance; only the rounding of the hash moved
            return row
        raise ReplayMismatch(f"{uid} in {self.shown_url} was made for another structure than this run would give it now "
                             f"({what}); nothing was written: resume with the program version and inputs that made "
                             "the folder, or use a new --out")

    def put(self, uid: str, atoms: Atoms, data: dict | None = None, **values) -> int:
        """Write a row once (`values` may carry its `fingerprint`; default the fingerprint of `atoms`). A uid
        present already is kept when it was made for the same structure, else ReplayMismatch."""
        self.put_many([(uid, atoms, data, values)])
        return self._uids[uid]

    def put_many(self, rows: list[tuple]) -> None:
        """Several `put`s in one transaction: (uid, atoms, data, values) tuples. Every row is checked
        before any is written."""
        new = []
        for uid, atoms, data, values in rows:
            print_ = values.get("fingerprint") or fingerprint(atoms)
            if uid in self._uids:
                self.check_same(uid, from_geometry(data["input"]) if data and "input" in data else atoms, print_)
            else:
                new.append((uid, atoms, data, {**values, "fingerprint": print_}))
        with self.db:
            for uid, atoms, data, values in new:
                self._write(uid, atoms, data, values)

    def _write(self, uid: str, atoms: Atoms, data: dict | None, values: dict) -> None:
        clean = {k: v for k, v in values.items() if v is not None}
        if self.run is not None:
            clean["run"] = self.run
        for k, v in list(clean.items()):
            if isinstance(v, np.generic):
                clean[k] = v.item()
        calc = atoms.calc
        atoms = atoms.copy()
        atoms.set_constraint()
        atoms.calc = calc  # a single-point calculator's energy, forces and stress go into the row
        self._uids[uid] = self.db.write(atoms, key_value_pairs={"uid": uid, **clean}, data=data or {})


def open_store(folder: str | Path, config, name: str = "sccop.db") -> Store:
    """The store of the run in `folder`: DIR/`name` by default, or the server of `config.store.url`, where the
    run is `config.store.run` (default: the folder's absolute path, and `name` for a second database such
    as random search's)."""
    folder = Path(folder)
    url = config.store.url
    if url is None:
        return Store(folder / name)
    run = config.store.run or str(folder.resolve())
    return Store(url, run=run if name == "sccop.db" else f"{run}:{name}")


__all__ = ["Store", "ReplayMismatch", "YEAR_MINUTES", "RUN_ROW", "open_store"]
