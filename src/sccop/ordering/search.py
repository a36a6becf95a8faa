"""Ordering on a fixed lattice: SCCOP's loop over the arrangements of a template.

Round 0 labels distinct arrangements with the backend (single points on the template's geometry): those
closest to Pauling's electrostatic valence rule (sccop.ordering.valence) when oxidation states can be
guessed, else random ones. Each later round trains the ensemble (warm start) on every label so far, scores the
candidates, and labels the `per_round` lowest by the lower bound mean - kappa * spread that are not
labelled yet. The candidates are every distinct arrangement when there are at most `ENUMERATE`
before symmetry (scored exhaustively by the network), else the arrangements that annealing chains
visit (swaps of two species on one sublattice, Metropolis on the network's prediction, half of the
chains from the lowest labels and half from random arrangements). The walk stops after `rounds`, when
every candidate is labelled, when the best label has not improved for `patience` rounds, or on the
call budget (convergence: the best label unchanged for `patience` rounds while the network expects
nothing lower); then the `relax_top` lowest labels are relaxed (atoms only with relax_cell false).

An arrangement is named by its canonical form (sccop.ordering.arrangement.key): its row is
order/KEY, its label label:order/KEY and its relaxation relax:label:order/KEY. Every draw comes from
a generator seeded by (seed, round, stage), and training is deterministic, so running the same command
again walks the same rounds, reading every stored call back (no call is made twice and none is
attached to another arrangement: the ledger checks each stored row's structure).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from sccop.calls.execution import check_queue
from sccop.calls.ledger import CallItem, CallSpec, Ledger
from sccop.calls.rows import RELAXATION, SINGLE_POINT, arrangement_uid, label_uid, relax_uid
from sccop.calls.rundir import Clock, program_version, run_folder
from sccop.config import RunConfig
from sccop.errors import SccopInputError
from sccop.loop.randomness import stage_rng
from sccop.ordering.arrangement import (
    Graphs,
    canonical_many,
    count_arrangements,
    distinct_arrangements,
    from_key,
    key,
    random_codes,
    to_atoms,
)
from sccop.ordering.template import VACANCY, Template, load_template
from sccop.ordering.valence import ValencePrior

log = logging.getLogger("sccop.search")

ENUMERATE = 200_000  # arrangements before symmetry up to which every distinct one is a candidate


@dataclass
class OrderingResult:
    out: Path
    rounds: int
    calls: int
    best_energy: float | None  # the lowest relaxed energy per atom (or labelled, when nothing relaxed)
    stopped: str  # rounds, exhausted, converged or budget
    history: list[float | None] = field(default_factory=list)  # the best label after each round
    candidates: list = field(default_factory=list)
    distinct: int | None = None  # distinct arrangements, when enumerated
    first_best_call: int | None = None  # the call that labelled the lowest label first


def template_of(config: RunConfig) -> Template:
    cfg = config.ordering
    if not cfg.template:
        raise SccopInputError("no template given (--template FILE)")
    atoms_range = None
    if config.atoms:
        low, _, high = str(config.atoms).partition("-")
        atoms_range = (int(low), int(high or low))
    return load_template(cfg.template, config.composition, cfg.sites, cfg.supercell, atoms_range)


def per_round(config: RunConfig, candidates: int | None) -> int:
    """Labels per round: `ordering.labels`, fewer on a small exhaustive space (5% of it, at least 2)."""
    n = config.ordering.labels
    if candidates is not None:
        n = min(n, max(2, math.ceil(0.05 * candidates)))
    return n


class OrderingSearch:
    """One ordering run in DIR. Building it reads the template and checks the composition against it; `run()`
    takes DIR's lock, then writes."""

    def __init__(self, config: RunConfig, out: str | Path, *, force: bool = False, progress: bool = True,
                 calculator=None):
        from sccop.loop.driver import checked_inputs

        self.config = config = checked_inputs(config, out, calculator)
        self.out = Path(out)
        self.force = force
        self.progress = progress
        self.calculator = calculator
        self.template = template_of(config)

    @property
    def elements(self) -> list[str]:
        fixed = {self.template.atoms[i].symbol for i in self.template.fixed}
        return sorted((set(self.template.species) | fixed) - {VACANCY})

    def run(self) -> OrderingResult:
        from sccop.backends import check_backend

        check_backend(self.config.backend, self.elements)
        check_queue(self.config.execution)
        with run_folder(self.config, self.out, self.force, mode="ordering") as (store, executor):
            return OrderingWalk(self, store, executor).run()


class OrderingWalk:
    def __init__(self, search: OrderingSearch, store, executor):
        self.config = search.config
        self.template = search.template
        self.out = search.out
        self.progress = search.progress
        self.calculator = search.calculator
        self.store = store
        self.clock = Clock(store.metadata.get("seconds", 0.0))
        self.ledger = Ledger(store, executor, chunk=self.config.search.chunk, clock=self.clock, progress=self.progress)
        self.graphs = Graphs(self.template, self.config.graph)
        self.labels: dict[str, float | None] = {}  # arrangement key -> label energy (None: failed)
        self.ensemble = None

    def rng(self, round_: int, stage: str):
        return stage_rng(self.config.seed, round_, stage, 0)

    def room(self) -> int | None:
        """New label calls the budget leaves (the last relaxations' calls kept back)."""
        budget = self.config.search.budget_calls
        if budget is None:
            return None
        return max(0, budget - self.config.search.relax_top - self.ledger.calls)

    # ---- candidates --------------------------------------------------------------------------------
    def random_distinct(self, n: int, rng, exclude: set[str]) -> list[np.ndarray]:
        picks, seen = [], set(exclude)
        for _ in range(50 * n):
            if len(picks) == n:
                break
            codes = canonical_many(self.template, random_codes(self.template, rng)[None])[0]
            k = key(codes)
            if k not in seen:
                seen.add(k)
                picks.append(codes)
        return picks

    def initial(self, n: int, pool: np.ndarray | None, prior) -> list[np.ndarray]:
        """Round 0's picks: random distinct arrangements, or with the valence prior the `n` of lowest
        deviation among every distinct one (or, beyond enumeration, among 50 n random ones)."""
        rng = self.rng(0, "initial")
        if prior is None:
            return self.random_distinct(n, rng, set())
        candidates = pool if pool is not None else np.array(self.random_distinct(50 * n, rng, set()))
        return [candidates[k] for k in prior.lowest(candidates, n, rng)]

    def predict(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.ensemble.predict([self.graphs(c) for c in codes])

    def annealed(self, rng) -> np.ndarray:
        """The arrangements the annealing chains visit (canonical, unique)."""
        cfg = self.config.ordering
        lowest = [from_key(k) for k in self.lowest_labels()]
        starts = [lowest[k % len(lowest)] for k in range(cfg.chains // 2)] if lowest else []
        starts += [random_codes(self.template, rng) for _ in range(cfg.chains - len(starts))]
        chains = np.array(starts, dtype=np.int64)
        energy = self.predict(chains)[0]
        spans = self._spans()
        visited = [chains.copy()]
        for step in range(cfg.steps):
            proposals = np.array([self._swap(c, spans, rng) for c in chains])
            new = self.predict(proposals)[0]
            t = cfg.t0 * 0.99**step
            accept = rng.random(len(chains)) < np.exp(-np.maximum(new - energy, 0.0) / t)
            chains[accept], energy[accept] = proposals[accept], new[accept]
            visited.append(proposals)
        return np.unique(canonical_many(self.template, np.concatenate(visited)), axis=0)

    def _spans(self) -> list[tuple[int, int]]:
        out, start = [], 0
        for sub in self.template.sublattices:
            end = start + len(sub.sites)
            if len(sub.counts) > 1:
                out.append((start, end))
            start = end
        return out

    @staticmethod
    def _swap(codes: np.ndarray, spans, rng) -> np.ndarray:
        sizes = np.array([e - s for s, e in spans], dtype=float)
        s, e = spans[int(rng.choice(len(spans), p=sizes / sizes.sum()))]
        new = codes.copy()
        i = s + int(rng.integers(e - s))
        others = np.flatnonzero(codes[s:e] != codes[i]) + s
        j = int(others[rng.integers(len(others))])
        new[i], new[j] = codes[j], codes[i]
        return new

    # ---- calls -------------------------------------------------------------------------------------
    def label(self, picks: list[np.ndarray], round_: int) -> bool:
        """Label `picks` (their arrangement rows written first); False when the budget cut it short."""
        built = [(c, key(c), *to_atoms(self.template, c)) for c in picks]
        self.store.put_many([
            (arrangement_uid(k), atoms, {"ordering": {"codes": [int(x) for x in c], "vacancies": vacancies.tolist()}},
             {"stage": "arrangement", "status": "ok", "round": round_})
            for c, k, atoms, vacancies in built if arrangement_uid(k) not in self.store])
        items = [CallItem(label_uid(arrangement_uid(k)), atoms, {"round": round_, "parent": arrangement_uid(k), "arrangement": k})
                 for _, k, atoms, _ in built]
        spec = CallSpec("label", SINGLE_POINT, self.config.backend, self.config.relax, calculator=self.calculator)
        outcome = self.ledger.run(spec, items, limit=self.room(), desc=f"round {round_}: labelling ({self.config.backend.name})")
        for item, (_, k, _, _) in zip(items, built):
            if item.uid in outcome.energies:
                self.labels[k] = outcome.energies[item.uid]
        return outcome.complete

    def relax(self, round_: int) -> None:
        picks = self.lowest_labels()[: self.config.search.relax_top]
        items = [CallItem(relax_uid(label_uid(arrangement_uid(k))), to_atoms(self.template, from_key(k))[0],
                          {"round": round_, "parent": label_uid(arrangement_uid(k)), "arrangement": k}) for k in picks]
        spec = CallSpec("relax", RELAXATION, self.config.backend, self.config.relax, calculator=self.calculator)
        self.ledger.run(spec, items, desc=f"relaxing ({self.config.backend.name})")

    # ---- the walk ----------------------------------------------------------------------------------
    def run(self) -> OrderingResult:
        from sccop.model.train import train_ensemble

        config, template = self.config, self.template
        log.info("sccop %s: ordering %s on %s, backend %s, seed %d", program_version(), config.composition,
                 template.describe(), config.backend.name, config.seed)
        total = count_arrangements(template)
        pool = distinct_arrangements(template) if total <= ENUMERATE else None
        if pool is not None:
            log.info("%d arrangements before symmetry, %d distinct: every one is a candidate", total, len(pool))
        else:
            log.info("%d arrangements before symmetry: candidates from %d annealing chains a round", total,
                     config.ordering.chains)
        n = per_round(config, None if pool is None else len(pool))
        prior = ValencePrior(template) if config.ordering.prior == "valence" else None
        if prior is not None and not prior.available:
            log.info("no oxidation states guessed for %s: round 0 labels random arrangements", config.composition)
            prior = None
        elif prior is not None:
            log.info("round 0 labels the arrangements closest to Pauling's valence rule (%s)", prior.describe())
        history: list[float | None] = []
        stopped, round_ = "rounds", 0
        for round_ in range(config.ordering.rounds):
            if round_ == 0:
                picks = self.initial(max(n, 4), pool, prior)
            else:
                ok = {k: e for k, e in self.labels.items() if e is not None}
                if len(ok) < 4:
                    log.warning("round %d: only %d usable labels, too few to train", round_, len(ok))
                    stopped = "labels"
                    break
                keys = sorted(ok)
                self.ensemble, _ = train_ensemble([self.graphs(from_key(k)) for k in keys], np.array([ok[k] for k in keys]),
                                                  config.train, self.rng(round_, "train"), previous=self.ensemble,
                                                  model=config.model, graph=config.graph)
                candidates = pool if pool is not None else self.annealed(self.rng(round_, "anneal"))
                fresh = np.array([c for c in candidates if key(c) not in self.labels])
                if len(fresh) == 0:
                    stopped = "exhausted"
                    break
                mean, spread = self.predict(fresh)
                expected = float(mean.min())
                order = np.lexsort(([key(c) for c in fresh], mean - config.ordering.kappa * spread))
                picks = [fresh[i] for i in order[:n]]
            if not self.label(picks, round_):
                stopped = "budget"
                history.append(self.best_label())
                break
            history.append(self.best_label())
            log.info("round %d: %d labels, best %s eV/atom", round_, len(self.labels),
                     "none" if history[-1] is None else f"{history[-1]:.4f}")
            if round_ > 0 and self.converged(history, expected):
                stopped = "converged"
                break
            if pool is not None and len(self.labels) >= len(pool):
                stopped = "exhausted"
                break
        self.relax(round_)
        return self.finish(stopped, round_, history, None if pool is None else len(pool))

    def converged(self, history: list, expected: float) -> bool:
        """The best label unchanged (within `tolerance`) for `patience` rounds, and the network expecting
        nothing lower among the arrangements not labelled yet."""
        from sccop.loop.driver import converged

        cfg = self.config.search
        return (history[-1] is not None and converged(history, cfg.tolerance, cfg.patience)
                and expected > history[-1] + cfg.tolerance)

    def lowest_labels(self) -> list[str]:
        """Keys of the ok labels, lowest energy first (ties by key)."""
        return sorted((k for k, e in self.labels.items() if e is not None), key=lambda k: (self.labels[k], k))

    def best_label(self) -> float | None:
        lowest = self.lowest_labels()
        return self.labels[lowest[0]] if lowest else None

    def finish(self, stopped: str, round_: int, history, distinct) -> OrderingResult:
        from sccop.answer.refine import write_answer

        self.store.update_metadata(seconds=self.clock.seconds(), stopped=stopped,
                                   history=[None if h is None else float(h) for h in history])
        candidates = write_answer(self.store, self.out, self.config, ledger=self.ledger, calculator=self.calculator,
                                  progress=self.progress)
        labels = sorted(self.store.rows(stage="label", status="ok"), key=lambda r: (r.get("energy_per_atom"), r.uid))
        first = int(labels[0].get("calls")) if labels else None
        best = min([c.energy for c in candidates], default=self.best_label())
        log.info("ordering stopped (%s) after round %d: %d backend calls, best label %s eV/atom", stopped, round_,
                 self.ledger.calls, "none" if self.best_label() is None else f"{self.best_label():.4f}")
        return OrderingResult(out=self.out, rounds=round_ + 1, calls=self.ledger.calls, best_energy=best, stopped=stopped,
                              history=history, candidates=candidates, distinct=distinct, first_best_call=first)


def order(composition: str, template: str | Path, out: str | Path = "sccop-order", *, sites: str | None = None,
          supercell: str | None = None, config: RunConfig | None = None, calculator=None, force: bool = False,
          progress: bool = False, **settings) -> OrderingResult:
    """Order `composition` (with Vac for vacancies) on the sites of `template` from Python:
    `order("Cu1In5Vac2Se8", "CuInSe2.cif", "runs/cis", sites="Cu,In")`."""
    config = config or RunConfig()
    config = replace(config, composition=composition, **settings,
                     ordering=replace(config.ordering, template=str(template), sites=sites, supercell=supercell))
    return OrderingSearch(config, out, force=force, progress=progress, calculator=calculator).run()


__all__ = ["ENUMERATE", "OrderingSearch", "OrderingResult", "order", "per_round", "template_of"]
