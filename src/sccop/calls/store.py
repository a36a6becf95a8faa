"""The run's ASE database: the single source of truth of a run, written by one process only.

Rows follow sccop.calls.rows. A uid is written once: writing it again with the same structure (a
resumed run replaying what it did) keeps the row; writing it with another structure raises
ReplayMismatch before anything of the batch is written. SQLite by default; ASE's PostgreSQL URLs
(postgresql://...) work the same way. The resolved config and the program version are the database
metadata, with the driver's cursor (sccop.loop.cursor).
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


class Store:
    """An ASE database of one run (see the module docstring)."""

    def __init__(self, url: str | Path):
        from ase.db import connect

        self.url = str(url)
        try:
            self.db = connect(self.url, type="db") if not self.url.startswith("postgresql") else connect(self.url)
            self._uids: dict[str, int] = {
                row.get("uid"): row.id for row in self.db.select(include_data=False) if row.get("uid") is not None
            }
        except Exception as exc:  # noqa: BLE001 - sqlite3 and ASE report a broken file in many ways
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise SccopInputError(f"{self.url} is not a readable run database ({first[:160]}); move it away to start "
                                  "afresh, or use a new --out") from None

    @property
    def metadata(self) -> dict:
        return self.db.metadata

    @metadata.setter
    def metadata(self, value: dict) -> None:
        self.db.metadata = value

    def update_metadata(self, **values) -> None:
        """Set metadata keys; nothing is written when they hold these values already. The values are
        copied (ASE keeps the dict it was given, so a caller's later change must not reach it)."""
        old = self.db.metadata
        if any(old.get(k) != v for k, v in values.items()):
            self.db.metadata = json.loads(json.dumps({**old, **values}))

    def __contains__(self, uid: str) -> bool:
        return uid in self._uids

    def __len__(self) -> int:
        return len(self._uids)

    def get(self, uid: str):
        return self.db.get(id=self._uids[uid])

    def rows(self, **selection):
        return list(self.db.select(**selection))

    def count(self, **selection) -> int:
        return self.db.count(**selection)

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
        raise ReplayMismatch(f"{uid} in {self.url} was made for another structure than this run would give it now "
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
        for k, v in list(clean.items()):
            if isinstance(v, np.generic):
                clean[k] = v.item()
        calc = atoms.calc
        atoms = atoms.copy()
        atoms.set_constraint()
        atoms.calc = calc  # a single-point calculator's energy, forces and stress go into the row
        self._uids[uid] = self.db.write(atoms, key_value_pairs={"uid": uid, **clean}, data=data or {})


__all__ = ["Store", "ReplayMismatch", "YEAR_MINUTES"]
