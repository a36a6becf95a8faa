"""The search driver: composition in, ranked low-energy structures out.

Per round r:
  sample a pool (plus samples on the lattices of the best relaxed structures so far)
  -> round 0: backend labels of a random initial set
  -> `iterations` times: train the ensemble (warm start) on every label so far, score the pool,
     partition the landscape, anneal from region representatives (exploration) and the lowest labels
     (exploitation), select diverse low-energy candidates, label them with the backend
     (with `relax_each` > 0, the lowest unique labels not relaxed yet are relaxed after each labelling)
  -> relax the lowest unique labelled structures with the backend.
With `label_with = "relaxation"` every label is a relaxation labelled with its relaxed energy (the
network learns where structures relax to), and the round's end has nothing left to relax.
The walk stops on rounds, convergence (the best relaxed energy unchanged within `tolerance` for
`patience` rounds), the call budget or the time budget; a budget stop first relaxes the best labels
with the calls kept back for it (or a little past the time budget).

Each step of the walk is a phase with a key (r0/pool, r0/label/0, r0/relax_each/0, r0/learn/0,
r0/label/1, r0/relax_end ...). Its backend calls go through the ledger (sccop.calls.ledger), its
structures into the store, and once it is finished whole the cursor records it. Resuming walks the same
phases: finished ones are restored from the store (no sampling, training or annealing again), the
first unfinished one and all after it run, reading back every call stored already.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from sccop.answer.refine import write_answer
from sccop.calls.execution import check_queue
from sccop.calls.ledger import CallSpec, Ledger
from sccop.calls.rows import (RELAXATION, SINGLE_POINT, from_symmetric_data, ranking_energy, relax_uid, screen_uid,
                              user_seed_uid)
from sccop.calls.rundir import Clock, program_version, run_folder
from sccop.calls.store import Store
from sccop.config import RunConfig
from sccop.errors import SccopInputError
from sccop.loop.budget import Budget
from sccop.loop.cursor import Cursor
from sccop.loop.labels import initial_picks, label_calls, path_labels, relax_calls, relax_picks, screen_calls, screened
from sccop.loop.learning import learn, save_landscape
from sccop.loop.pool import pool_rows, sample_pool, seeded_samples
from sccop.loop.randomness import stage_rng
from sccop.loop.seeds import read_seeds
from sccop.loop.state import SearchState
from sccop.loop.training import load_ensemble, save_ensemble, train

log = logging.getLogger("sccop.search")


@dataclass
class SearchResult:
    out: Path
    rounds: int
    calls: int
    best_energy: float | None  # the lowest energy per atom relaxed (the first backend's)
    stopped: str  # rounds, budget, time or converged
    history: list[float | None] = field(default_factory=list)
    candidates: list = field(default_factory=list)  # the final structures (sccop.answer.candidates.Candidate), ranked
    succeeded: int = 0  # counted backend calls that succeeded (all of the store's)
    failure: str | None = None  # the most common reason of the failed ones


def calculator_name(calculator) -> str:
    """How config.toml names an ASE calculator given from Python: its class (or function) path."""
    kind = calculator if callable(calculator) and not hasattr(calculator, "calculate") else type(calculator)
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', type(kind).__name__)}"


def with_calculator(config: RunConfig, calculator) -> RunConfig:
    """The config of a run whose energies come from `calculator`: backend `ase`, naming its class."""
    if calculator is None:
        return config
    return replace(config, backend=replace(config.backend, name="ase", calculator=calculator_name(calculator)))


def checked_inputs(config: RunConfig, out: str | Path, calculator) -> RunConfig:
    """The config a run in `out` uses (`with_calculator`), after the checks every mode shares: a composition,
    a folder name, and a Python calculator for a run whose energies come from one."""
    if not config.composition:
        raise SccopInputError("no composition given")
    if not str(out).strip():
        raise SccopInputError("the run folder is empty: give a folder name")
    if config.backend.name == "ase" and calculator is None:
        raise SccopInputError(f"this run's energies come from an ASE calculator given from Python "
                              f"({config.backend.calculator}); resume it from Python with that calculator")
    return with_calculator(config, calculator)


def budget_stop(outcome, cut: str) -> str | None:
    """Why a ledger outcome ended the walk: `time` when the clock ran out after a chunk, `cut` (labels or
    budget) when the call budget left items undone, None when neither."""
    if outcome.stopped:
        return "time"
    return None if outcome.complete else cut


def converged(history: list, tolerance: float, patience: int) -> bool:
    values = [h for h in history if h is not None]
    if len(values) <= patience:
        return False
    return abs(values[-1] - values[-1 - patience]) < tolerance


class Search:
    """One search in DIR (see the module docstring). Building it checks the inputs and writes nothing;
    `run()` takes DIR's lock, then writes. `calculator` (an ASE calculator, or atoms -> calculator)
    replaces the backend, and DIR/config.toml names it; `rerank_calculator` replaces the re-ranking
    backend's calculator."""

    def __init__(self, config: RunConfig, out: str | Path, *, force: bool = False, progress: bool = True,
                 calculator=None, rerank_calculator=None):
        from sccop.composition import cell_sizes, parse_composition
        from sccop.sampling.sampler import Sampler

        self.config = config = checked_inputs(config, out, calculator)
        self.out = Path(out)
        self.force = force
        self.progress = progress
        self.calculator = calculator
        self.rerank_calculator = rerank_calculator
        self.composition = parse_composition(config.composition)
        self.formula_units = cell_sizes(self.composition, config.atoms, config.formula_units)
        if config.refine.rerank:
            from sccop.backends import parse_backend

            parse_backend(config.refine.rerank)  # a misspelt re-ranker fails now, not after the search
        self.sampler = Sampler(self.composition, self.formula_units, config.sampler)
        height = self.sampler.c_length if config.sampler.dim == 2 else None
        self.seeds = read_seeds(config.search.seeds, self.composition, height) if config.search.seeds else []

    def run(self) -> SearchResult:
        """Run (or resume) the search; one process at a time in DIR."""
        from sccop.backends import check_backend

        check_backend(self.config.backend, self.composition.elements)  # before anything is written
        check_queue(self.config.execution)
        if self.config.refine.rerank and self.rerank_calculator is None:
            from sccop.answer.ranking import rerank_backend

            check_backend(rerank_backend(self.config), self.composition.elements)
        with run_folder(self.config, self.out, self.force) as (store, executor):
            log.info("sccop %s: %s (reduced formula %s), %s formula unit(s) per cell, backend %s, seed %d",
                     program_version(), self.config.composition, self.composition.formula,
                     ", ".join(map(str, self.formula_units)), self.config.backend.name, self.config.seed)
            log.info("%s", self.sampler.prior_note)
            (self.out / "models").mkdir(exist_ok=True)
            walk = Walk(self, store, executor)
            stopped, round_ = walk.run()
            return walk.finish(stopped, round_)


class Walk:
    """One walk of the search's phases over a store (built and used by Search.run)."""

    def __init__(self, search: Search, store: Store, executor):
        self.config = search.config
        self.out = search.out
        self.progress = search.progress
        self.calculator = search.calculator
        self.rerank_calculator = search.rerank_calculator
        self.sampler = search.sampler
        self.seeds = search.seeds
        self.store = store
        self.clock = Clock(store.metadata.get("seconds", 0.0))
        self.ledger = Ledger(store, executor, chunk=self.config.search.chunk, clock=self.clock, progress=self.progress)
        # Every counted call ever made counts, including relaxations this walk may not reach (those of
        # a budget stop whose best labels changed once the budget was raised).
        unreached = {r.uid for r in store.rows(backend_call=1, stage="relax", include_data=False)}
        self.budget = Budget(self.config.search, self.ledger, self.clock, unreached)
        self.cursor = Cursor(store)
        self.state = SearchState()

    # ---- helpers -----------------------------------------------------------------------------------
    def rng(self, round_: int, stage: str, iteration: int = 0):
        return stage_rng(self.config.seed, round_, stage, iteration)

    def spec(self, kind: str, frames: int = 0) -> CallSpec:
        stage = "label" if kind == SINGLE_POINT else "relax"
        return CallSpec(stage, kind, self.config.backend, self.config.relax, calculator=self.calculator, frames=frames)

    def calls(self, kind: str, items, desc: str, timed: bool = True, frames: int = 0, spec: CallSpec | None = None):
        """The ledger's outcome for `items` within the budget (and, when `timed`, the time budget); the
        walk has now reached every stored item. `frames`: path structures kept per relaxation; `spec`:
        how the calls are made, when not `self.spec(kind, frames)`."""
        limit = self.budget.room(single_points=kind == SINGLE_POINT)
        stop = self.budget.time_up if timed else None
        outcome = self.ledger.run(spec or self.spec(kind, frames), items, limit=limit, stop=stop,
                                  desc=f"{desc} ({self.config.backend.name})")
        self.budget.reached(outcome.energies)
        return outcome

    def relaxed_structures(self, uids) -> dict:
        """The stored relaxed structures of the ok relaxations among `uids`."""
        return {u: self.store.get(u).toatoms() for u in uids}

    def add_relaxed_labels(self, energies: dict, picks: list[str] | None) -> None:
        """The relaxations of labels (uid -> energy, None when failed) into the state, with the structures
        on their paths that the network learns from (`learn_frames`)."""
        rows = {u: self.store.get(u) for u, e in energies.items() if e is not None}  # each row read once
        self.state.add_relaxations(energies, {u: row.toatoms() for u, row in rows.items()}, picks)
        if self.config.search.learn_frames:
            for uid, row in rows.items():
                self.state.add_frames(path_labels(uid, row, self.config))

    def trained(self, round_: int, iteration: int) -> bool:
        return self._model(round_, iteration).exists()

    def _model(self, round_: int, iteration: int) -> Path:
        return self.out / "models" / f"r{round_}_i{iteration}.pt"

    @property
    def relaxation_labels(self) -> bool:
        return self.config.search.label_with == "relaxation"

    # ---- phases ------------------------------------------------------------------------------------
    def seeds_phase(self) -> str | None:
        """A user's seed structures: labelled, then relaxed, before round 0 samples (read back on resume; a
        seed file changed since is refused by the ledger's structure check). Returns a budget stop, or None."""
        from sccop.calls.ledger import CallItem
        from sccop.calls.rows import label_uid

        if not self.seeds:
            return None
        uids = [user_seed_uid(k) for k in range(len(self.seeds))]
        self.store.put_many([(uid, atoms, {}, {"stage": "seed", "status": "ok", "round": 0, "source": name})
                             for uid, (name, atoms) in zip(uids, self.seeds) if uid not in self.store])
        labels = self.calls(SINGLE_POINT, [CallItem(label_uid(uid), atoms, {"round": 0, "iteration": 0, "parent": uid,
                                                                            "seed": name})
                                           for uid, (name, atoms) in zip(uids, self.seeds)], "seeds: labelling")
        if budget_stop(labels, "labels"):
            return budget_stop(labels, "labels")
        atoms_of = dict(zip(uids, (atoms for _, atoms in self.seeds)))
        ok = [u for u, e in labels.energies.items() if e is not None]
        relaxed = self.calls(RELAXATION, [CallItem(relax_uid(u), atoms_of[u.removeprefix("label:")], {"round": 0, "parent": u})
                                          for u in ok], "seeds: relaxing")
        done = dict(relaxed.energies)
        self.state.add_relaxations(done, self.relaxed_structures(u for u, e in done.items() if e is not None))
        self.state.user_seeds = [u for u, e in done.items() if e is not None]
        log.info("seeds: %d read, %d labelled, %d relaxed (best %s eV/atom)", len(self.seeds), len(ok),
                 len(self.state.user_seeds), "none" if not self.state.user_seeds else
                 f"{min(done[u] for u in self.state.user_seeds):.4f}")
        return budget_stop(relaxed, "budget")

    def pool_phase(self, round_: int) -> None:
        key = f"r{round_}/pool"
        record = self.cursor.restore(key)
        if record is not None:
            structures = {u: from_symmetric_data(self.store.get(u).data["symmetric"]) for u in record["uids"]}
        else:
            start = time.perf_counter()
            structures = sample_pool(self.sampler, self.config, round_, self.progress)
            seeded, parents = seeded_samples(self.state, self.config, self.sampler, round_, self.rng(round_, "seed"))
            structures.update(seeded)
            self.store.put_many(pool_rows(structures, parents, round_))
            self.cursor.finished(key, {"uids": list(structures), "seconds": round(time.perf_counter() - start, 2)})
        self.state.add_structures(structures, pool=True)

    def label_phase(self, round_: int, iteration: int, picks: list[str]) -> str | None:
        """Label `picks`; returns the budget stop that cut it short (labels, budget or time), or None."""
        key = f"r{round_}/label/{iteration}"
        relaxation = self.relaxation_labels
        items = label_calls(self.state, self.config, picks, round_, iteration)
        record = self.cursor.restore(key)
        if record is not None:
            energies = {item.uid: self.ledger.stored_energy(item.uid) for item in items}
            self.budget.reached(energies)
            stop = None
        else:
            kind = RELAXATION if relaxation else SINGLE_POINT
            outcome = self.calls(kind, items, f"round {round_}: {'relaxing' if relaxation else 'labelling'}")
            energies = outcome.energies
            stop = budget_stop(outcome, "budget" if relaxation else "labels")
            if stop is None:
                self.cursor.finished(key, {})
        self.state.add_labels([(item.uid, item.values["parent"], energies[item.uid]) for item in items
                               if item.uid in energies], relaxation,
                              self.relaxed_structures(u for u, e in energies.items() if e is not None) if relaxation else None)
        return stop

    def relax_phase(self, round_: int, key: str | None, count: int | None = None) -> str | None:
        """Relax the `count` lowest unique labels not relaxed yet (default `relax_top`, at the round's
        end; a count is also held to the label limit). With `search.screen` S > 1, S x count labels are
        screened first and the count lowest after their screens relaxed from there, all within the same
        limit. `key`: the phase's cursor key (None: a budget stop's last relaxations, never restored and
        not held to the time budget). Returns the budget stop that cut it short, or None."""
        record = self.cursor.restore(key) if key is not None else None
        if record is not None:
            picks = record["picks"]
            energies = {relax_uid(u): self.ledger.stored_energy(relax_uid(u)) for u in picks}
            self.budget.reached(energies)
            self.add_relaxed_labels(energies, record.get("screened", picks))
            return None
        if count is not None:  # relaxations during a round leave the calls kept for the round's end alone
            limit = self.budget.label_limit()
            if limit is not None:
                count = min(count, limit - self.budget.calls)
        else:
            count, limit = self.config.search.relax_top, self.config.search.budget_calls
        wanted = count * self.config.search.screen
        if limit is not None:  # screens leave the calls for the relaxations that follow them
            wanted = min(wanted, max(count, limit - self.budget.calls - count))
        picks = relax_picks(self.state, wanted, self.config.landscape.family_cap)
        starts, screened_picks = None, []
        if len(picks) > count > 0:
            screening = self.screen_phase(round_, picks, count, timed=key is not None)
            if screening is None:
                return "time"
            picks, starts, screened_picks = screening
        outcome = self.calls(RELAXATION, relax_calls(self.state, picks, round_, starts), f"round {round_}: relaxing",
                             timed=key is not None, frames=self.config.search.learn_frames)
        done = outcome.complete and not outcome.stopped
        # Screened labels not chosen are done with too: a later phase would only read their screens back.
        handled = picks + [u for u in screened_picks if u not in picks]
        self.add_relaxed_labels(outcome.energies, handled if done else None)
        if done and key is not None:
            self.cursor.finished(key, {"picks": picks, **({"screened": handled} if screened_picks else {})})
        return budget_stop(outcome, "budget")

    def screen_phase(self, round_: int, picks: list[str], count: int, timed: bool):
        """Screen `picks` (relaxations of `search.screen_steps` steps, stage screen); returns the `count`
        lowest after their screens, the structures their relaxations start from, and the picks screened,
        or None when the clock stopped the screens."""
        spec = CallSpec("screen", RELAXATION, self.config.backend,
                        replace(self.config.relax, steps=self.config.search.screen_steps), calculator=self.calculator)
        outcome = self.calls(RELAXATION, screen_calls(self.state, picks, round_), f"round {round_}: screening",
                             timed=timed, spec=spec)
        if outcome.stopped:
            return None
        done = [u for u in picks if screen_uid(u) in outcome.energies]
        chosen = screened(picks, outcome.energies, count)
        log.info("round %d: screened %d labels for %d steps, relaxing the lowest %d", round_, len(done),
                 self.config.search.screen_steps, len(chosen))
        return chosen, {u: self.store.get(screen_uid(u)).toatoms() for u in chosen}, done

    def train_phase(self, round_: int, iteration: int) -> None:
        path = self._model(round_, iteration)
        if path.exists():
            self.state.ensemble = load_ensemble(path, self.config)
            return
        labels = f"{len(self.state.labels)} labels" + (f" and {len(self.state.frames)} path structures"
                                                       if self.state.frames else "")
        ensemble, report = train(self.state, self.config, self.rng(round_, "train", iteration),
                                 progress=f"round {round_}: training on {labels}" if self.progress else None)
        save_ensemble(path, ensemble, report)
        self.state.ensemble = ensemble

    def learn_phase(self, round_: int, iteration: int) -> list[str]:
        key = f"r{round_}/learn/{iteration}"
        record = self.cursor.restore(key)
        if record is not None:
            annealed = {u: from_symmetric_data(self.store.get(u).data["symmetric"]) for u in record["annealed"]}
            self.state.add_structures(annealed)
            return list(record["picks"])
        start = time.perf_counter()
        learned = learn(self.state, self.config, lambda stage: self.rng(round_, stage, iteration), round_, iteration,
                        self.progress)
        save_landscape(self.out / "landscape", round_, iteration, learned.landscape)
        self.store.put_many(learned.rows)
        self.state.add_structures(learned.annealed)
        self.cursor.finished(key, {"annealed": list(learned.annealed), "picks": learned.picks,
                                   "seconds": round(time.perf_counter() - start, 2)})
        return learned.picks

    # ---- the walk ----------------------------------------------------------------------------------
    def run(self) -> tuple[str, int]:
        """Walk the phases; returns (why it stopped, the last round it was in)."""
        cfg = self.config.search
        state = self.state
        round_ = 0
        for round_ in range(cfg.rounds):
            if self.budget.time_up():
                return self.stop("time", round_)
            if round_ > 0 and self.budget.labels_spent(self.trained(round_, 0)):
                return self.stop("labels", round_ - 1)  # the last round that ran: its best labels get the calls left
            state.round_relaxed = set()
            if round_ == 0:
                stop = self.seeds_phase()
                if stop:
                    return self.stop(stop, round_)
            self.pool_phase(round_)
            if round_ == 0:
                stop = self.label_phase(0, 0, initial_picks(state, self.config, self.rng(0, "initial")))
                stop = stop or self.relax_phase(0, "r0/relax_each/0", cfg.relax_each)
                if stop:
                    return self.stop(stop, round_)
            for iteration in range(cfg.iterations):
                if len(state.labels) < 4:
                    log.warning("round %d: only %d usable labels, too few to train", round_, len(state.labels))
                    break
                if self.budget.labels_spent(self.trained(round_, iteration)):
                    return self.stop("labels", round_)
                self.train_phase(round_, iteration)
                picks = self.learn_phase(round_, iteration)
                stop = self.label_phase(round_, iteration + 1, picks)
                if not stop and iteration < cfg.iterations - 1:  # after the last one, the round's end relaxes
                    stop = self.relax_phase(round_, f"r{round_}/relax_each/{iteration + 1}", cfg.relax_each)
                if stop:
                    return self.stop(stop, round_)
            stop = self.relax_phase(round_, f"r{round_}/relax_end")
            if stop:
                return self.stop(stop, round_)
            best = state.best()
            state.history.append(best)
            log.info("round %d: %d backend calls, best %s eV/atom", round_, self.budget.calls,
                     "none yet" if best is None else f"{best:.4f}")
            if converged(state.history, cfg.tolerance, cfg.patience):
                return "converged", round_
        return "rounds", round_

    def stop(self, kind: str, round_: int) -> tuple[str, int]:
        """A budget stop in `round_`: after the label budget or the clock ran out, the best labels are
        relaxed with the calls kept back (or a little over the time budget)."""
        if kind in ("labels", "time"):
            self.relax_phase(round_, None)
        self.state.history[round_:] = [self.state.best()]  # the stopped round's entry
        stopped = "time" if kind == "time" else "budget"
        log.info("stopping: the %s budget is used (%d calls, %.1f min)", "time" if kind == "time" else "call",
                 self.budget.calls, self.clock.minutes())
        return stopped, round_

    def finish(self, stopped: str, round_: int) -> SearchResult:
        """The answer: outputs of the relaxed structures, then refinement, re-ranking and outputs again."""
        history = [None if h is None else float(h) for h in self.state.history]
        self.store.update_metadata(seconds=self.clock.seconds(), stopped=stopped, history=history)
        relaxed = {row.uid: ranking_energy(row) for row in self.store.rows(stage="relax", status="ok")}
        candidates = write_answer(self.store, self.out, self.config, ledger=self.ledger, calculator=self.calculator,
                                  rerank_calculator=self.rerank_calculator, progress=self.progress)
        best = min([c.energy for c in candidates] + list(relaxed.values()), default=None)
        reasons = Counter(str(r.get("reason")) for r in self.store.rows(backend_call=1, status="failed", include_data=False))
        return SearchResult(out=self.out, rounds=round_ + 1, calls=self.budget.calls, best_energy=best, stopped=stopped,
                            history=self.state.history, candidates=candidates,
                            succeeded=self.store.count(backend_call=1, status="ok"),
                            failure=reasons.most_common(1)[0][0] if reasons else None)


def search(composition: str | None = None, out: str | Path = "sccop-run", *, config: RunConfig | None = None,
           calculator=None, force: bool = False, progress: bool = False, **settings) -> SearchResult:
    """Run (or resume) a search from Python: `search("NaCl", "runs/NaCl", atoms="2-8")`.

    `config`: a RunConfig (default RunConfig()); `composition` and top-level `settings` (atoms,
    formula_units, seed) override its fields. `calculator`: any ASE calculator (or a function atoms ->
    calculator) instead of the configured backend; DIR/config.toml then names its class.
    """
    config = config or RunConfig()
    if composition is not None:
        settings["composition"] = composition
    return Search(replace(config, **settings), out, force=force, progress=progress, calculator=calculator).run()


__all__ = ["Search", "SearchResult", "search", "with_calculator", "calculator_name"]
