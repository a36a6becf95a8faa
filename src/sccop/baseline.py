"""Random symmetric search, the baseline `sccop bench` compares against (what AIRSS or PyXtal plus an ML
potential do): sample symmetric structures, relax every one with the backend, keep the lowest.

It uses sccop's own sampler and relaxation settings: no network, no landscape, no annealing. Its backend
calls are all relaxations, while most of a search's are single points, so per call it spends more
compute; `sccop bench` reports relaxation steps beside calls for that reason. Every relaxation is a row of DIR/random.db (stage
relax, uid random/I, energy_per_atom, spacegroup, status, reason, calls), written chunk by chunk;
structure I depends only on (seed, I), so a resumed run skips the rows already written and goes on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from sccop.config import RunConfig, config_changes, to_dict
from sccop.errors import SccopInputError

log = logging.getLogger(__name__)


@dataclass
class BaselineResult:
    out: Path
    calls: int
    best_energy: float | None
    stopped: str


def random_search(config: RunConfig, out: str | Path, **kw) -> BaselineResult:
    """See `_random_search`; one process at a time in DIR."""
    from sccop.store import exclusive

    Path(out).mkdir(parents=True, exist_ok=True)
    with exclusive(out, "a random search"):
        return _random_search(config, out, **kw)


def _random_search(
    config: RunConfig,
    out: str | Path,
    *,
    budget_calls: int | None = None,
    budget_minutes: float | None = None,
    budget_evaluations: int | None = None,
    calculator=None,
    progress: bool = False,
    force: bool = False,
) -> BaselineResult:
    """Sample and relax structures of `config.composition` with `config.atoms` atoms until a budget is used:
    relaxations (`budget_calls`), minutes, or energy-and-force evaluations (`budget_evaluations`: a
    relaxation costs its optimizer steps plus one; the run stops at the first chunk that reaches it).

    Without a budget it stops after `config.search.samples` relaxations. Energies are per atom, or
    enthalpies per atom under `config.relax.pressure`, as in the search. An existing DIR made with other
    sampler, backend or relax settings is refused unless `force`.
    """
    from tqdm import tqdm

    from sccop.composition import formula_units_for, parse_composition, parse_range
    from sccop.relax import enthalpy_per_atom, relax_many
    from sccop.sampling.sampler import Sampler
    from sccop.search import _spacegroup
    from sccop.store import Store

    if not config.composition:
        raise SccopInputError("no composition given")
    composition = parse_composition(config.composition)
    atoms = parse_range(config.atoms, "atoms") if config.atoms else None
    units = parse_range(config.formula_units, "formula_units") if config.formula_units else None
    sampler = Sampler(composition, formula_units_for(composition, atoms=atoms, formula_units=units), config.sampler)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store = Store(out / "random.db")
    settings = {key: value for key, value in to_dict(config).items() if key in ("composition", "atoms", "formula_units",
                                                                               "seed", "sampler", "backend", "relax")}
    old = store.metadata.get("settings")
    if old is not None and old != settings and not force:
        changes = config_changes(old, settings)
        raise SccopInputError(f"{out} holds a random search with other settings ({'; '.join(changes)}); "
                              "use another folder or force")
    store.metadata = {**store.metadata, "settings": settings}
    if budget_calls is None and budget_minutes is None and budget_evaluations is None:
        budget_calls = config.search.samples
    previous = float(store.metadata.get("seconds", 0.0))
    start = time.perf_counter()

    def minutes() -> float:
        return (previous + time.perf_counter() - start) / 60.0

    own = store.rows(backend_call=1)  # refinement rows (sccop.refine) may sit beside them
    calls = len(own)
    evaluations = sum(1 + int(r.get("steps") or 0) for r in own)
    index = max((int(r.uid.split("/")[1]) + 1 for r in own), default=0)
    chunk = max(1, config.search.chunk)
    stopped = "budget"
    failures_in_a_row = 0
    bar = tqdm(total=budget_calls, initial=calls, desc="random search", unit="relaxation", disable=not progress)
    while True:
        if budget_calls is not None and calls >= budget_calls:
            break
        if budget_minutes is not None and minutes() >= budget_minutes:
            stopped = "time"
            break
        if budget_evaluations is not None and evaluations >= budget_evaluations:
            break
        size = chunk if budget_calls is None else min(chunk, budget_calls - calls)
        if budget_evaluations is not None and calls:  # about as many as the evaluations left pay for
            size = max(1, min(size, -(-(budget_evaluations - evaluations) * calls // evaluations)))
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
        results = relax_many([s.to_atoms() for _, s in found], config.backend, config.relax, calculator=calculator)
        rows = []
        for (i, s), result in zip(found, results):
            calls += 1
            evaluations += 1 + int(result.steps)
            energy = enthalpy_per_atom(result, config.relax.pressure)
            rows.append((f"random/{i}", result.atoms, {}, {
                "stage": "relax", "status": result.status, "reason": result.reason, "energy_per_atom": energy,
                "backend_call": 1, "calls": calls, "backend": config.backend.name, "parent_spacegroup": s.spacegroup,
                "converged": bool(result.converged), "steps": int(result.steps), "seconds": round(float(result.seconds), 3),
                "minutes": round(minutes(), 3), **({"spacegroup": _spacegroup(result.atoms)} if result.ok else {}),
            }))
        store.put_many(rows)
        store.metadata = {**store.metadata, "seconds": minutes() * 60.0}
        bar.update(len(rows))
    bar.close()
    energies = [r.energy_per_atom for r in store.rows(backend_call=1, status="ok")]
    return BaselineResult(out=out, calls=calls, best_energy=min(energies, default=None), stopped=stopped)


__all__ = ["random_search", "BaselineResult"]
