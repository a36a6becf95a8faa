"""The ledger: every backend call of a run goes through it, whoever asks (the search loop, the
refinement, random search).

A call is an item (uid, the structure to submit, the row's own values) under a CallSpec (which stage,
single point or relaxation, which backend and relaxation settings, whether a budget counts it). An
item whose uid is stored already is read back instead of computed, after checking that the stored row
was made for the same structure (sccop.calls.store.ReplayMismatch otherwise). New calls run in
chunks on the executor; each chunk is written in one transaction before the next is taken, so a crash
loses at most the chunks in flight.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

from ase import Atoms

from sccop.calls.execution import InProcess
from sccop.calls.fingerprint import fingerprint, geometry
from sccop.calls.rows import RELAXATION, SINGLE_POINT, evaluations, ranking_energy
from sccop.config import BackendConfig, RelaxConfig
from sccop.relaxation import EnergyResult, describe_error, enthalpy_per_atom, relax_many, single_points
from sccop.symmetry.analysis import spacegroup

log = logging.getLogger(__name__)


class CallItem(NamedTuple):
    uid: str
    atoms: Atoms
    values: dict


@dataclass(frozen=True)
class CallSpec:
    """How a batch of items is computed and recorded. `counted`: a budget counts these calls (row keys
    backend_call, calls, minutes); otherwise they are made after the search (refine_call). `calculator`:
    an ASE calculator (or atoms -> calculator) used instead of the backend's. `frames`: structures of each
    relaxation's path kept in its row (data["frames"], see sccop.relaxation.path_frames)."""

    stage: str
    kind: str
    backend: BackendConfig
    relax: RelaxConfig
    counted: bool = True
    calculator: object = None
    frames: int = 0

    def __post_init__(self):
        if self.kind not in (SINGLE_POINT, RELAXATION):
            raise ValueError(f"unknown call kind {self.kind!r}")


@dataclass
class Outcome:
    """What one `Ledger.run` gave: `energies` (uid -> energy per atom, None for a failed call) for every
    item read back or computed, in item order; `made`: new calls; `evaluations`: their energy-and-force
    evaluations; `complete`: every item has its result; `stopped`: `stop` asked to stop after a chunk."""

    energies: dict[str, float | None] = field(default_factory=dict)
    made: int = 0
    evaluations: int = 0
    complete: bool = True
    stopped: bool = False




def _call_chunk(kind: str, backend, relax_config, calculator, frames: int, atoms: list) -> list[EnergyResult]:
    """One chunk of backend calls (runs here or on a Dask worker)."""
    if kind == SINGLE_POINT:
        return single_points(atoms, backend, relax_config, calculator=calculator)
    return relax_many(atoms, backend, relax_config, calculator=calculator, frames=frames)


class Ledger:
    """The backend calls of one store. `calls`: the counted calls made so far (those in the store when
    it was opened, plus new ones); `clock`: the run's clock (sccop.calls.rundir.Clock), whose minutes
    counted rows carry and whose seconds go into the metadata after every chunk."""

    def __init__(self, store, executor=None, *, chunk: int = 8, clock=None, progress: bool = False):
        self.store = store
        self.executor = executor or InProcess()
        self.chunk = max(1, int(chunk))
        self.clock = clock
        self.progress = progress
        self.calls = store.count(backend_call=1)

    def stored_energy(self, uid: str) -> float | None:
        return ranking_energy(self.store.get(uid))

    def run(self, spec: CallSpec, items: list[CallItem], *, limit: int | None = None, stop=None,
            desc: str = "") -> Outcome:
        """Results of `items`: stored ones read back, at most `limit` new ones computed (in item order),
        the rest left out (`complete` False). `stop()`, asked after each chunk, ends the run early."""
        from tqdm import tqdm

        outcome = Outcome()
        todo = []
        for item in items:
            if item.uid in self.store:
                outcome.energies[item.uid] = ranking_energy(self.store.check_same(item.uid, item.atoms))
            else:
                todo.append(item)
        if limit is not None and len(todo) > limit:
            todo, outcome.complete = todo[: max(0, limit)], False
        chunks = [todo[k : k + self.chunk] for k in range(0, len(todo), self.chunk)]
        call = partial(_call_chunk, spec.kind, spec.backend, spec.relax, spec.calculator, spec.frames)
        results_of: dict[str, float | None] = {}
        done = 0
        with tqdm(total=len(todo), desc=desc, unit="structure", disable=not self.progress or not todo, leave=False) as bar:
            for k, results in self.executor.map(call, [[item.atoms for item in part] for part in chunks]):
                part = chunks[k]
                if isinstance(results, BaseException):  # the task was lost even after its retries
                    results = [EnergyResult(status="failed", atoms=item.atoms, reason=f"task lost: {describe_error(results)}")
                               for item in part]
                rows = [self._row(spec, item, result) for item, result in zip(part, results)]
                self.store.put_many(rows)
                for (uid, _, _, values), result in zip(rows, results):
                    results_of[uid] = ranking_energy(values)
                    outcome.evaluations += evaluations(values)
                if self.clock is not None:
                    self.store.update_metadata(seconds=self.clock.seconds())
                outcome.made += len(part)
                done += len(part)
                bar.update(len(part))
                if stop is not None and stop():
                    outcome.stopped = True
                    if done < len(todo):
                        outcome.complete = False
                        break
        # Item order, whatever order the chunks finished in.
        outcome.energies = {item.uid: outcome.energies.get(item.uid, results_of.get(item.uid)) for item in items
                            if item.uid in outcome.energies or item.uid in results_of}
        return outcome

    def _row(self, spec: CallSpec, item: CallItem, result: EnergyResult) -> tuple:
        enthalpy = enthalpy_per_atom(result, spec.relax.pressure)
        values = {
            **item.values, "stage": spec.stage, "status": result.status, "reason": result.reason,
            "energy_per_atom": result.energy_per_atom if result.ok else None,
            "enthalpy_per_atom": enthalpy if result.ok and enthalpy != result.energy_per_atom else None,
            "backend": spec.backend.name, "converged": bool(result.converged),
            "steps": int(result.steps), "seconds": round(float(result.seconds), 3), "fingerprint": fingerprint(item.atoms),
        }
        if spec.counted:
            self.calls += 1
            values.update(backend_call=1, calls=self.calls)
            if self.clock is not None:
                values["minutes"] = round(self.clock.minutes(), 3)
        else:
            values["refine_call"] = 1
        data = {}
        if spec.kind == RELAXATION:
            data["input"] = geometry(item.atoms)
            if result.ok:
                values["spacegroup"] = spacegroup(result.atoms)
            if result.info.get("frames"):
                data["frames"] = result.info["frames"]
        if not result.ok:
            log.warning("%s %s failed: %s", spec.stage, item.uid, result.reason)
        # The final structure with its single-point calculator: the row keeps energy and forces.
        return (item.uid, result.atoms, data, values)


__all__ = ["CallItem", "CallSpec", "Outcome", "Ledger"]
