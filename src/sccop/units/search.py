"""Rigid units: SCCOP's loop over crystals of clusters or molecules, then its two relaxation steps.

Round 0 labels `initial` random unit crystals (sccop.units.placement) with backend single points (or, with
`label_with = "rigid"`, short rigid-unit relaxations labelled with their final energy). Each
later round trains the ensemble (warm start) on every label so far, on asymmetric-unit graphs of the
crystals (one node per orbit of atoms: sccop.graph.symmetry_graph), samples a new pool, anneals from the
pool's lowest predictions (unit shifts and turns that keep each site's symmetry, cell scaling, free-atom
swaps; Metropolis on the network), and labels the `labels` lowest by mean - kappa * spread. The walk
stops after `rounds`, on the call budget, or when the best label has not improved for `patience` rounds.
Then SCCOP's two steps: the lowest label of each of the `rigid_top` lowest groups, every unit turned and
the cell strained a little (`rigid_turn`, `rigid_strain`: sccop.rigid.perturbed), is relaxed with every
unit rigid (stage `rigid`, sccop.rigid), and the `free_top` lowest of those again with every atom free
(stage `relax`, what the answer ranks). DIR/units.csv says, for each free relaxation, whether its units
survived: every distance inside each unit within 10% of the unit's own.

Names: the k-th pick of round r is unit/rR/K; its label label:unit/rR/K, its rigid relaxation
rigid:label:..., its free one relax:rigid:label:.... Every draw comes from a generator seeded by (seed,
round, stage) and training is deterministic, so running the command again walks the same rounds and
reads every stored call back (the ledger checks that a stored row holds the same structure).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from sccop.calls.execution import check_queue
from sccop.calls.fingerprint import fingerprint
from sccop.calls.ledger import CallItem, CallSpec, Ledger
from sccop.calls.rows import RELAXATION, SINGLE_POINT, label_uid, relax_uid
from sccop.calls.rundir import Clock, program_version, run_folder
from sccop.composition import cell_sizes, parse_composition
from sccop.config import RunConfig
from sccop.errors import SccopInputError
from sccop.graph import symmetry_graph
from sccop.loop.randomness import stage_rng
from sccop.rigid import perturbed, unit_indices
from sccop.units.library import UnitPlan, parse_units
from sccop.units.placement import UnitCrystal, UnitSampler, to_atoms

log = logging.getLogger("sccop.search")

SURVIVED = 0.10  # largest relative change of a distance inside a unit that still counts as the unit kept


@dataclass
class UnitsResult:
    out: Path
    rounds: int
    calls: int
    best_energy: float | None
    stopped: str
    history: list = field(default_factory=list)
    candidates: list = field(default_factory=list)
    survival: list = field(default_factory=list)  # DIR/units.csv rows


def plan_of(config: RunConfig) -> UnitPlan:
    """The units and free atoms of the run's cell (one cell size: --atoms N or --formula-units N)."""
    if not config.units.spec:
        raise SccopInputError("no units given (--units B12, \"B12:2\", CO2, a file ...)")
    composition = parse_composition(config.composition)
    sizes = cell_sizes(composition, config.atoms, config.formula_units)
    if len(sizes) != 1:
        raise SccopInputError(f"a search with units takes one cell size: give --atoms N or --formula-units N "
                              f"(now {sizes[0]}-{sizes[-1]} formula units)")
    return parse_units(config.units.spec, composition.scaled(sizes[0]))


def unit_distortion(atoms, reference) -> float:
    """Largest relative change of a distance inside any unit (tags above 0) between two structures with the
    same atoms. The distances are taken as the positions stand, not by minimum image: sccop places a unit's
    atoms whole and no relaxation wraps them, while in a cell of one or two icosahedra the minimum image of
    a pair inside a unit can be an atom of the next unit."""
    after, before = atoms.get_all_distances(), reference.get_all_distances()
    worst = 0.0
    for idx in unit_indices(atoms):
        if len(idx) < 2:
            continue
        a, b = after[np.ix_(idx, idx)], before[np.ix_(idx, idx)]
        mask = b > 1e-6
        worst = max(worst, float(np.abs(a[mask] - b[mask]).max() / b[mask].min()))
    return worst


class UnitsSearch:
    """One rigid-unit run in DIR. Building it checks the units against the composition; `run()` takes DIR's
    lock, then writes."""

    def __init__(self, config: RunConfig, out: str | Path, *, force: bool = False, progress: bool = True,
                 calculator=None):
        from sccop.loop.driver import checked_inputs

        self.config = config = checked_inputs(config, out, calculator)
        self.out = Path(out)
        self.force, self.progress, self.calculator = force, progress, calculator
        self.plan = plan_of(config)

    def run(self) -> UnitsResult:
        from sccop.backends import check_backend

        check_backend(self.config.backend, parse_composition(self.config.composition).elements)
        check_queue(self.config.execution)
        sampler = UnitSampler(self.plan, spacegroups=self.config.sampler.spacegroups,
                              distance_factor=self.config.sampler.distance_factor,
                              volume_rule=self.config.sampler.volume_window, seed=self.config.seed,
                              symmetry_bias=self.config.sampler.symmetry_bias)
        with run_folder(self.config, self.out, self.force, mode="units") as (store, executor):
            return UnitsWalk(self, sampler, store, executor).run()


class UnitsWalk:
    def __init__(self, search: UnitsSearch, sampler: UnitSampler, store, executor):
        self.config = search.config
        self.plan = search.plan
        self.sampler = sampler
        self.out = search.out
        self.progress = search.progress
        self.calculator = search.calculator
        self.store = store
        self.clock = Clock(store.metadata.get("seconds", 0.0))
        self.ledger = Ledger(store, executor, chunk=self.config.search.chunk, clock=self.clock, progress=self.progress)
        self.labels: dict[str, float | None] = {}  # label uid -> energy per atom (None: failed)
        self.graphs: dict[str, object] = {}
        self.structures: dict[str, object] = {}  # label uid -> Atoms
        self.ensemble = None

    def rng(self, round_: int, stage: str):
        return stage_rng(self.config.seed, round_, stage, 0)

    def structure_rng(self, round_: int, stage: str, atoms):
        """A stage's generator for one structure, seeded by the run's seed and the structure itself: the same
        structure gets the same draws whatever else the stage handles (so a resumed run's call inputs match)."""
        return stage_rng(self.config.seed, round_, stage, int(fingerprint(atoms)[3:], 16))

    def room(self) -> int | None:
        budget = self.config.search.budget_calls
        if budget is None:
            return None
        kept = self.config.units.rigid_top + self.config.units.free_top
        return max(0, budget - kept - self.ledger.calls)

    # ---- candidates ----------------------------------------------------------------------------------
    def predict(self, crystals: list[UnitCrystal]) -> tuple[np.ndarray, np.ndarray]:
        graphs = [symmetry_graph(to_atoms(c, self.sampler.units), self.config.graph) for c in crystals]
        return self.ensemble.predict(graphs)

    def annealed(self, pool: list[UnitCrystal], rng) -> list[UnitCrystal]:
        """The pool's lowest predictions and the crystals their annealing chains visit."""
        cfg = self.config.units
        if not pool or cfg.chains == 0:
            return pool
        mean, _ = self.predict(pool)
        starts = [pool[i] for i in np.argsort(mean, kind="stable")[: cfg.chains]]
        energy = np.sort(mean)[: cfg.chains].copy()
        chains = list(starts)
        visited = list(pool)
        for step in range(cfg.steps):
            proposals = [self.sampler.moved(c, rng) for c in chains]
            live = [k for k, p in enumerate(proposals) if p is not None]
            if not live:
                continue
            new, _ = self.predict([proposals[k] for k in live])
            t = cfg.t0 * 0.98**step
            for k, e in zip(live, new):
                if rng.random() < np.exp(-max(float(e) - energy[k], 0.0) / t):
                    chains[k], energy[k] = proposals[k], float(e)
                    visited.append(proposals[k])
        return visited

    # ---- calls ---------------------------------------------------------------------------------------
    def label(self, picks: list[UnitCrystal], round_: int) -> bool:
        items = []
        for k, crystal in enumerate(picks):
            uid = label_uid(f"unit/r{round_}/{k}")
            atoms = to_atoms(crystal, self.sampler.units)
            self.structures[uid] = atoms
            items.append(CallItem(uid, atoms, {"round": round_, "units": self.plan.describe(),
                                              "wyckoffs": crystal.wyckoffs(), "spacegroup": crystal.group.number}))
        cfg = self.config
        if cfg.units.label_with == "rigid":
            rigid = replace(cfg.relax, rigid_units=True, steps=cfg.units.label_steps)
            spec = CallSpec("label", RELAXATION, cfg.backend, rigid, calculator=self.calculator)
        else:
            spec = CallSpec("label", SINGLE_POINT, cfg.backend, cfg.relax, calculator=self.calculator)
        outcome = self.ledger.run(spec, items, limit=self.room(), desc=f"round {round_}: labelling ({cfg.backend.name})")
        for item in items:
            if item.uid in outcome.energies:
                self.labels[item.uid] = outcome.energies[item.uid]
                if outcome.energies[item.uid] is not None:
                    self.graphs[item.uid] = symmetry_graph(item.atoms, self.config.graph)
        return outcome.complete

    def lowest(self) -> list[str]:
        return sorted((k for k, e in self.labels.items() if e is not None), key=lambda k: (self.labels[k], k))

    def best_label(self) -> float | None:
        lowest = self.lowest()
        return self.labels[lowest[0]] if lowest else None

    def labelled(self, uid: str):
        """The structure a label's energy belongs to: the sampled crystal, or where its rigid label relaxed to
        (with the crystal's unit tags)."""
        if self.config.units.label_with != "rigid":
            return self.structures[uid]
        atoms = self.store.get(uid).toatoms()
        atoms.set_tags(self.structures[uid].get_tags())
        return atoms

    def relax(self, round_: int) -> list[dict]:
        """SCCOP's two steps: rigid relaxations of the lowest labels (continued from where a rigid label
        stopped), then free ones of the lowest of those."""
        cfg = self.config
        structure = functools.cache(self.labelled)  # read (for rigid labels, from the store) only where looked at
        picks = distinct_labels(self.lowest(), structure, cfg.units.rigid_top)
        rigid = replace(cfg.relax, rigid_units=True)
        items = [CallItem(f"rigid:{uid}", perturbed(structure(uid), cfg.units.rigid_turn, cfg.units.rigid_strain,
                                                    self.structure_rng(round_, "rigid", structure(uid))),
                          {"round": round_, "parent": uid}) for uid in picks]
        spec = CallSpec("rigid", RELAXATION, cfg.backend, rigid, calculator=self.calculator)
        outcome = self.ledger.run(spec, items, desc=f"rigid units ({cfg.backend.name})")
        done = sorted((u for u, e in outcome.energies.items() if e is not None), key=lambda u: (outcome.energies[u], u))
        chosen = done[: cfg.units.free_top]
        frees = [CallItem(relax_uid(uid), self.store.get(uid).toatoms(), {"round": round_, "parent": uid})
                 for uid in chosen]
        spec = CallSpec("relax", RELAXATION, cfg.backend, cfg.relax, calculator=self.calculator)
        outcome = self.ledger.run(spec, frees, desc=f"free relaxation ({cfg.backend.name})")
        rows = []
        for item in frees:
            row = self.store.get(item.uid)
            if row.get("status") != "ok":
                continue
            after = row.toatoms()
            after.set_tags(item.atoms.get_tags())
            distortion = unit_distortion(after, item.atoms)
            rows.append({"uid": item.uid, "rigid_energy_per_atom": round(float(outcome_energy(self.store, item.values["parent"])), 6),
                         "energy_per_atom": round(float(row.get("energy_per_atom")), 6),
                         "units_survived": distortion <= SURVIVED, "largest_distortion": round(distortion, 4)})
        return rows

    # ---- the walk ------------------------------------------------------------------------------------
    def run(self) -> UnitsResult:
        from sccop.loop.driver import converged
        from sccop.model.train import train_ensemble

        cfg = self.config
        log.info("sccop %s: %s as %s, %d groups with a place for every unit, backend %s, seed %d", program_version(),
                 cfg.composition, self.plan.describe(), len(self.sampler.options), cfg.backend.name, cfg.seed)
        history: list[float | None] = []
        stopped, round_ = "rounds", 0
        for round_ in range(cfg.units.rounds):
            rng = self.rng(round_, "sample")
            if round_ == 0:
                picks = self.sampler.sample(cfg.units.initial, rng)
            else:
                keys = sorted(self.graphs)
                if len(keys) < 4:
                    log.warning("round %d: only %d usable labels, too few to train", round_, len(keys))
                    stopped = "labels"
                    break
                self.ensemble, _ = train_ensemble([self.graphs[k] for k in keys], np.array([self.labels[k] for k in keys]),
                                                  cfg.train, self.rng(round_, "train"), previous=self.ensemble,
                                                  model=cfg.model, graph=cfg.graph)
                pool = self.sampler.sample(cfg.units.samples, rng)
                candidates = self.annealed(pool, self.rng(round_, "anneal"))
                if not candidates:
                    stopped = "exhausted"
                    break
                mean, spread = self.predict(candidates)
                picks = distinct_picks(candidates, mean, mean - cfg.units.kappa * spread, cfg.units.labels)
            if not picks:
                raise SccopInputError(f"no crystal of {self.plan.describe()} met the distance rule in "
                                      f"{200 * cfg.units.initial} attempts (try a smaller [sampler] distance_factor)")
            complete = self.label(picks, round_)
            history.append(self.best_label())
            log.info("round %d: %d labels, best %s eV/atom", round_, len(self.labels),
                     "none" if history[-1] is None else f"{history[-1]:.4f}")
            if not complete:
                stopped = "budget"
                break
            if round_ > 0 and converged(history, cfg.search.tolerance, cfg.search.patience):
                stopped = "converged"
                break
        survival = self.relax(round_)
        return self.finish(stopped, round_, history, survival)

    def finish(self, stopped: str, round_: int, history, survival) -> UnitsResult:
        import csv
        import io

        from sccop.answer.refine import write_answer
        from sccop.calls.rundir import write_text

        self.store.update_metadata(seconds=self.clock.seconds(), stopped=stopped,
                                   history=[None if h is None else float(h) for h in history])
        candidates = write_answer(self.store, self.out, self.config, ledger=self.ledger, calculator=self.calculator,
                                  progress=self.progress)
        if survival:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(survival[0]))
            writer.writeheader()
            writer.writerows(survival)
            write_text(self.out / "units.csv", buffer.getvalue())
        best = min([c.energy for c in candidates], default=self.best_label())
        log.info("units search stopped (%s) after round %d: %d backend calls, best %s eV/atom", stopped, round_,
                 self.ledger.calls, "none" if best is None else f"{best:.4f}")
        return UnitsResult(out=self.out, rounds=round_ + 1, calls=self.ledger.calls, best_energy=best, stopped=stopped,
                           history=history, candidates=candidates, survival=survival)


def first_distinct(order, key, n: int) -> list:
    """The first `n` items of `order` with a `key` not seen before (key computed only for the items looked at)."""
    picks, seen = [], set()
    for item in order:
        k = key(item)
        if k in seen:
            continue
        seen.add(k)
        picks.append(item)
        if len(picks) == n:
            break
    return picks


def distinct_picks(candidates: list[UnitCrystal], mean: np.ndarray, score: np.ndarray, n: int) -> list[UnitCrystal]:
    """The `n` lowest by `score`, one per (group, predicted energy to 1 meV/atom): annealing chains revisit
    the same crystal, and a label spent twice teaches nothing."""
    order = np.argsort(score, kind="stable")
    chosen = first_distinct(order, lambda i: (candidates[i].group.number, round(float(mean[i]), 3)), n)
    return [candidates[i] for i in chosen]


def distinct_labels(lowest: list[str], structure_of, n: int) -> list[str]:
    """The `n` lowest labels, one per space group (at 0.1 A) of `structure_of(uid)`: the labels of one group
    are mostly near copies of one packing (a simple-cubic B12 at five volumes), which relax to one structure,
    and relaxing them all spends the step on one candidate."""
    from sccop.symmetry.analysis import spacegroup

    return first_distinct(lowest, lambda uid: spacegroup(structure_of(uid)), n)


def outcome_energy(store, uid: str) -> float:
    return float(store.get(uid).get("energy_per_atom"))


def search_units(composition: str, units: str, out: str | Path = "sccop-units", *, config: RunConfig | None = None,
                 calculator=None, force: bool = False, progress: bool = False, **settings) -> UnitsResult:
    """A rigid-unit search from Python: `search_units("B12", "B12", "runs/alpha-B", atoms="12")`."""
    config = config or RunConfig()
    config = replace(config, composition=composition, **settings, units=replace(config.units, spec=units))
    return UnitsSearch(config, out, force=force, progress=progress, calculator=calculator).run()


__all__ = ["SURVIVED", "UnitsResult", "UnitsSearch", "plan_of", "search_units", "unit_distortion"]
