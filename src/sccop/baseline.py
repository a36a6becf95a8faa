"""Random symmetric search, the baseline `sccop bench` compares against (what AIRSS or PyXtal plus an ML
potential do): sample symmetric structures, relax every one with the backend, keep the lowest.

It uses sccop's own sampler and relaxation settings: no network, no landscape, no annealing. Its backend
calls are all relaxations, while most of a search's are single points, so per call it spends more
compute; `sccop bench` reports energy-and-force evaluations beside calls for that reason. Every
relaxation goes through the ledger (sccop.calls.ledger) into DIR/random.db (stage relax, uid random/I,
parent_spacegroup the sampled group), chunk by chunk, on the executor given; structure I depends only
on (seed, I), so a resumed run skips the rows already written and goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sccop.calls.ledger import CallItem, CallSpec, Ledger
from sccop.calls.rows import RELAXATION, evaluations, random_index, random_uid, ranking_energy
from sccop.calls.rundir import Clock, exclusive
from sccop.calls.store import open_store
from sccop.config import RunConfig, config_changes, to_dict
from sccop.errors import SccopInputError

log = logging.getLogger(__name__)


@dataclass
class BaselineResult:
    out: Path
    calls: int
    best_energy: float | None
    stopped: str


def random_search(
    config: RunConfig,
    out: str | Path,
    *,
    budget_calls: int | None = None,
    budget_minutes: float | None = None,
    budget_evaluations: int | None = None,
    calculator=None,
    executor=None,
    progress: bool = False,
    force: bool = False,
) -> BaselineResult:
    """Sample and relax structures of `config.composition` with `config.atoms` atoms until a budget is used:
    relaxations (`budget_calls`), minutes, or energy-and-force evaluations (`budget_evaluations`: a
    relaxation costs its optimizer steps plus one; the run stops at the first chunk that reaches it).

    Without a budget it stops after `config.search.samples` relaxations. Energies are per atom, or
    enthalpies per atom under `config.relax.pressure`, as in the search. An existing DIR made with other
    sampler, backend or relax settings is refused unless `force`. One process at a time in DIR.
    """
    from sccop.composition import cell_sizes, parse_composition
    from sccop.sampling.sampler import Sampler

    if not config.composition:
        raise SccopInputError("no composition given")
    composition = parse_composition(config.composition)
    sampler = Sampler(composition, cell_sizes(composition, config.atoms, config.formula_units), config.sampler)
    log.info("random search: %s", sampler.prior_note)
    if calculator is None:
        from sccop.backends import check_backend

        check_backend(config.backend, composition.elements)
    out = Path(out)
    with exclusive(out, "a random search"):
        store = open_store(out, config, "random.db")
        settings = {key: value for key, value in to_dict(config).items() if key in ("composition", "atoms", "formula_units",
                                                                                   "seed", "sampler", "backend", "relax")}
        old = store.metadata.get("settings")
        if old is not None and old != settings and not force:
            changes = config_changes(old, settings)
            raise SccopInputError(f"{out} holds a random search with other settings ({'; '.join(changes)}); "
                                  "use another folder or force")
        store.update_metadata(settings=settings)
        if budget_calls is None and budget_minutes is None and budget_evaluations is None:
            budget_calls = config.search.samples
        clock = Clock(store.metadata.get("seconds", 0.0))
        ledger = Ledger(store, executor, chunk=config.search.chunk, clock=clock)
        spec = CallSpec("relax", RELAXATION, config.backend, config.relax, calculator=calculator)
        stopped = _relax_samples(sampler, config, ledger, spec, clock, budget_calls, budget_minutes, budget_evaluations,
                                 progress)
        energies = [ranking_energy(r) for r in store.rows(backend_call=1, status="ok")]
        return BaselineResult(out=out, calls=ledger.calls, best_energy=min(energies, default=None), stopped=stopped)


def _relax_samples(sampler, config, ledger, spec, clock, budget_calls, budget_minutes, budget_evaluations,
                   progress) -> str:
    """Relax chunks of new samples until a budget is used; returns why it stopped."""
    from tqdm import tqdm

    own = ledger.store.rows(backend_call=1)  # refinement rows (sccop.answer.refine) may sit beside them
    spent = sum(evaluations(r) for r in own)
    index = max((random_index(r.uid) + 1 for r in own), default=0)
    stopped = "budget"
    failures_in_a_row = 0
    bar = tqdm(total=budget_calls, initial=ledger.calls, desc="random search", unit="relaxation", disable=not progress)
    while True:
        calls = ledger.calls
        if budget_calls is not None and calls >= budget_calls:
            break
        if budget_minutes is not None and clock.minutes() >= budget_minutes:
            stopped = "time"
            break
        if budget_evaluations is not None and spent >= budget_evaluations:
            break
        size = ledger.chunk if budget_calls is None else min(ledger.chunk, budget_calls - calls)
        if budget_evaluations is not None and calls:  # about as many as the evaluations left pay for
            size = max(1, min(size, -(-(budget_evaluations - spent) * calls // spent)))
        found = sampler.sample(size, config.seed, start=index)
        index += size
        if not found:
            failures_in_a_row += 1
            if failures_in_a_row >= 5:  # the sampler cannot place this composition: nothing more will come
                stopped = "sampler gave up"
                log.warning("random search: the sampler made no structure in %d tries", 5 * size)
                break
            continue
        failures_in_a_row = 0
        items = [CallItem(random_uid(i), s.to_atoms(), {"parent_spacegroup": s.spacegroup}) for i, s in found]
        outcome = ledger.run(spec, items)
        spent += outcome.evaluations
        bar.update(outcome.made)
    bar.close()
    return stopped


__all__ = ["random_search", "BaselineResult"]
