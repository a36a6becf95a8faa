"""The ledger: every backend call is made once, written with its row schema, read back on resume, and
never attached to another structure."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from sccop.calls.fingerprint import fingerprint
from sccop.calls.ledger import CallItem, CallSpec, Ledger
from sccop.calls.rows import RELAXATION, SINGLE_POINT
from sccop.calls.store import ReplayMismatch, Store
from sccop.config import BackendConfig, RelaxConfig


class Counting:
    """atoms -> EMT, counting the calculators made (one per structure and call)."""

    def __init__(self):
        self.made = 0

    def __call__(self, atoms):
        self.made += 1
        return EMT()


def items(*lattices, prefix="label"):
    return [CallItem(f"{prefix}:{a}", bulk("Cu", "fcc", a=a), {"round": 0, "parent": f"s{a}"}) for a in lattices]


def spec(kind=SINGLE_POINT, counted=True, calculator=None):
    stage = {SINGLE_POINT: "label", RELAXATION: "relax"}[kind] if counted else "refine"
    return CallSpec(stage, kind, BackendConfig(name="emt"), RelaxConfig(), counted=counted, calculator=calculator)


def test_calls_are_made_once_and_read_back(tmp_path):
    store = Store(tmp_path / "run.db")
    calc = Counting()
    ledger = Ledger(store, chunk=2)
    first = ledger.run(spec(calculator=calc), items(3.5, 3.6, 3.7))
    assert first.made == 3 and first.complete and calc.made == 3 and ledger.calls == 3
    assert list(first.energies) == ["label:3.5", "label:3.6", "label:3.7"]
    row = store.get("label:3.6")
    assert row.backend_call == 1 and row.calls == 2 and row.stage == "label" and row.parent == "s3.6"
    assert row.fingerprint == fingerprint(bulk("Cu", "fcc", a=3.6)) and row.energy_per_atom == first.energies["label:3.6"]
    again = Ledger(store, chunk=2).run(spec(calculator=calc), items(3.7, 3.5, 3.8))
    assert calc.made == 4 and again.made == 1  # only the new one
    assert list(again.energies) == ["label:3.7", "label:3.5", "label:3.8"]  # item order
    assert again.energies["label:3.5"] == first.energies["label:3.5"] and store.count(backend_call=1) == 4


def test_a_stored_call_is_never_given_to_another_structure(tmp_path):
    store = Store(tmp_path / "run.db")
    Ledger(store).run(spec(), items(3.6))
    other = [CallItem("label:3.6", bulk("Cu", "fcc", a=3.9), {})]
    before = (tmp_path / "run.db").read_bytes()
    with pytest.raises(ReplayMismatch, match="label:3.6 .*the cell differs"):
        Ledger(store).run(spec(), other)
    assert (tmp_path / "run.db").read_bytes() == before


def test_a_limit_and_a_stop_leave_items_undone(tmp_path):
    store = Store(tmp_path / "run.db")
    ledger = Ledger(store, chunk=1)
    cut = ledger.run(spec(), items(3.5, 3.6, 3.7), limit=2)
    assert cut.made == 2 and not cut.complete and not cut.stopped and list(cut.energies) == ["label:3.5", "label:3.6"]
    stopped = ledger.run(spec(), items(3.5, 3.6, 3.7, 3.8, 3.9), stop=lambda: True)
    assert stopped.made == 1 and stopped.stopped and not stopped.complete  # 3.7 made, then the clock said stop
    last = ledger.run(spec(), items(3.8), stop=lambda: True)
    assert last.stopped and last.complete  # the clock ran out with the last chunk: nothing was left undone


def test_relaxations_keep_their_input_group_and_cost(tmp_path):
    store = Store(tmp_path / "run.db")
    start = bulk("Cu", "fcc", a=3.8)
    outcome = Ledger(store).run(spec(RELAXATION), [CallItem("relax:a", start, {"parent": "label:a"})])
    row = store.get("relax:a")
    assert row.stage == "relax" and row.spacegroup == 225 and row.steps > 0
    assert outcome.evaluations == 1 + row.steps
    assert np.allclose(row.data["input"]["cell"], start.cell.array)
    assert abs(np.linalg.norm(row.cell[0]) - start.cell.lengths()[0]) > 0.01  # the row holds the relaxed cell
    assert row.fingerprint == fingerprint(start)


def test_calls_after_the_search_are_not_counted(tmp_path):
    store = Store(tmp_path / "run.db")
    ledger = Ledger(store)
    ledger.run(spec(), items(3.6))
    ledger.run(spec(RELAXATION, counted=False), items(3.7, prefix="refine"))
    row = store.get("refine:3.7")
    assert row.refine_call == 1 and row.get("backend_call") is None and row.get("calls") is None
    assert ledger.calls == 1 and Ledger(store).calls == 1


class Losing:
    """An executor whose every task is lost (as Dask reports a worker that died after its retries)."""

    def map(self, fn, chunks):
        for k, _ in enumerate(chunks):
            yield k, OSError("worker died")


def test_a_lost_task_is_recorded_as_failed_calls(tmp_path):
    store = Store(tmp_path / "run.db")
    outcome = Ledger(store, Losing(), chunk=2).run(spec(), items(3.5, 3.6, 3.7))
    assert outcome.made == 3 and outcome.energies == {"label:3.5": None, "label:3.6": None, "label:3.7": None}
    rows = store.rows(status="failed")
    assert len(rows) == 3 and all("task lost" in r.reason and "worker died" in r.reason for r in rows)
