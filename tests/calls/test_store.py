"""The run's store: a uid is written once, for one structure; a replay that would give it to another
structure is refused with a one-line reason, before anything of the batch is written."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from sccop.calls.fingerprint import difference, fingerprint, from_geometry, geometry
from sccop.calls.store import ReplayMismatch, Store
from sccop.errors import SccopInputError


def test_fingerprint_follows_the_structure_not_its_representation():
    fcc = bulk("Cu", "fcc", a=3.61)
    assert fingerprint(fcc) == fingerprint(fcc.copy())
    moved = fcc.copy()
    moved.positions += 1e-9  # replay noise far below the rounding
    assert fingerprint(moved) == fingerprint(fcc)
    wrapped = fcc.copy()
    wrapped.positions += fcc.cell[0]  # the same atom one lattice vector away
    assert fingerprint(wrapped) == fingerprint(fcc)
    assert fingerprint(bulk("Cu", "fcc", a=3.62)) != fingerprint(fcc)
    assert fingerprint(bulk("Au", "fcc", a=3.61)) != fingerprint(fcc)
    assert fingerprint(fcc).startswith("fp-")  # never a string ASE would read as a number
    assert fingerprint(from_geometry(geometry(fcc))) == fingerprint(fcc)


def test_difference_says_what_differs():
    a = bulk("NaCl", "rocksalt", a=5.64)
    assert difference(a, a.copy()) is None
    assert "Cl4Na4 (8 atoms) is stored, ClNa (2 atoms) now" in difference(bulk("NaCl", "rocksalt", a=5.64, cubic=True), a)
    swapped = a.copy()
    swapped.numbers = swapped.numbers[::-1]
    assert "another order" in difference(a, swapped)
    assert "the cell differs by up to" in difference(a, bulk("NaCl", "rocksalt", a=5.7))
    shifted = a.copy()
    shifted.positions[1] += [0.3, 0, 0]
    assert difference(a, shifted) == "atom 1 (Cl) sits 0.3 A away from where it was"
    tiny = a.copy()
    tiny.positions[1] += 1e-6
    assert difference(a, tiny) is None


def test_a_uid_is_written_once_and_never_for_another_structure(tmp_path):
    store = Store(tmp_path / "run.db")
    fcc, bcc = bulk("Cu", "fcc", a=3.61), bulk("Cu", "bcc", a=2.87, cubic=True)
    store.put("label:a", fcc, stage="label", status="ok")
    store.put("label:a", fcc.copy(), stage="label", status="ok")  # a replay: kept as it is
    assert len(store) == 1 and store.get("label:a").fingerprint == fingerprint(fcc)
    before = (tmp_path / "run.db").read_bytes()
    with pytest.raises(ReplayMismatch) as error:
        store.put_many([("label:b", bcc, {}, {"stage": "label"}), ("label:a", bcc, {}, {"stage": "label"})])
    message = str(error.value)
    assert "label:a" in message and "Cu (1 atoms) is stored, Cu2 (2 atoms) now" in message
    assert "\n" not in message and isinstance(error.value, SccopInputError)  # one line, exit status 2
    assert (tmp_path / "run.db").read_bytes() == before and "label:b" not in store  # nothing of the batch written


def test_a_relaxation_is_checked_against_its_input_not_its_result(tmp_path):
    store = Store(tmp_path / "run.db")
    start, relaxed = bulk("Cu", "fcc", a=3.7), bulk("Cu", "fcc", a=3.61)
    store.put("relax:a", relaxed, {"input": geometry(start)}, fingerprint=fingerprint(start), stage="relax")
    store.check_same("relax:a", start)
    with pytest.raises(ReplayMismatch, match="the cell differs"):
        store.check_same("relax:a", relaxed)


def test_rows_written_before_fingerprints_are_checked_where_they_keep_their_structure(tmp_path):
    store = Store(tmp_path / "run.db")
    fcc = bulk("Cu", "fcc", a=3.61)
    store.db.write(fcc, key_value_pairs={"uid": "label:old", "stage": "label"})  # an older version's row
    store.db.write(fcc, key_value_pairs={"uid": "relax:old", "stage": "relax"})
    store = Store(tmp_path / "run.db")
    store.check_same("label:old", fcc.copy())
    with pytest.raises(ReplayMismatch, match="label:old"):
        store.check_same("label:old", Atoms("Cu", cell=np.eye(3) * 2.5, pbc=True))
    store.check_same("relax:old", Atoms("Cu", cell=np.eye(3) * 2.5, pbc=True))  # its input is not kept: trusted


def test_metadata_is_written_only_when_it_changes(tmp_path):
    store = Store(tmp_path / "run.db")
    store.update_metadata(config={"seed": 1})
    before = (tmp_path / "run.db").stat().st_mtime_ns, (tmp_path / "run.db").read_bytes()
    store.update_metadata(config={"seed": 1})
    assert ((tmp_path / "run.db").stat().st_mtime_ns, (tmp_path / "run.db").read_bytes()) == before
    store.update_metadata(seconds=2.0)
    assert store.metadata == {"config": {"seed": 1}, "seconds": 2.0}
