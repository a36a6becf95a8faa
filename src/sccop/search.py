"""The search loop: composition in, ranked low-energy structures out.

Per round r:
  sample a pool (plus samples on the lattices of the best relaxed structures so far)
  -> round 0: backend single points on a random initial set
  -> `iterations` times: train the ensemble (warm start) on every label so far, score the pool,
     partition the landscape, anneal from region representatives (exploration) and the lowest labels
     (exploitation), select diverse low-energy candidates, label them with the backend
     (with `relax_each` > 0, the lowest unique labels not relaxed yet are relaxed after each labelling)
  -> relax the lowest unique labelled structures with the backend.
With `label_with = "relaxation"` every label is a relaxation labelled with its relaxed energy (the
network learns where structures relax to), and the round's end has nothing left to relax.
Stops on rounds, the call budget, the time budget or convergence (the best relaxed energy unchanged
within `tolerance` for `patience` rounds).

Resume: every row has a deterministic uid and every random draw a seed derived from (seed, round,
stage), so running again replays the same decisions. A backend call whose row is already in the
database is read back instead of repeated, and trained ensembles are read from DIR/models. Calls are
written in chunks, so a crash (Ctrl-C, kill -9) loses at most the chunk in flight.
"""

from __future__ import annotations

import csv
import logging
import os
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from sccop.config import RunConfig, config_changes, to_dict
from sccop.errors import SccopInputError
from sccop.relax import EnergyResult, describe_error, enthalpy_per_atom, relax_many, single_points
from sccop.store import Store, symmetric_data

log = logging.getLogger("sccop.search")

STAGES = {"sample": 1, "initial": 2, "anneal": 3, "select": 4, "seed": 5, "partition": 6, "train": 7}


class BudgetExhausted(Exception):
    """The call or time budget is used up. `kind`: time, budget (all calls) or labels (the calls for
    single points, which leave `relax_top` calls for relaxing the best); `partial`: the energies of the
    calls made before it ran out."""

    def __init__(self, kind: str, partial: dict | None = None):
        super().__init__(kind)
        self.kind = kind
        self.partial = partial or {}


@dataclass
class SearchResult:
    out: Path
    rounds: int
    calls: int
    best_energy: float | None  # the lowest energy per atom relaxed (the first backend's)
    stopped: str  # rounds, budget, time or converged
    history: list[float | None] = field(default_factory=list)
    candidates: list = field(default_factory=list)  # the final structures (sccop.refine.Candidate), ranked


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sccop")
    except PackageNotFoundError:
        return "unknown"


def prepare_directory(config: RunConfig, out: Path, force: bool) -> None:
    """Create DIR, refuse a changed config (unless `force`; a changed `label_with` always), write
    DIR/config.toml."""
    import tomllib

    import tomli_w

    out.mkdir(parents=True, exist_ok=True)
    path = out / "config.toml"
    new = to_dict(config)
    if path.exists():
        old = tomllib.loads(path.read_text())
        changes = config_changes(old, new)
        kind = [c for c in changes if c.startswith("search.label_with:")]
        if kind:  # its trained models and seeded samples belong to the other kind of label
            raise SccopInputError(f"{out} holds a search with other labels ({kind[0]}), which --force cannot "
                                  "change; use a new --out")
        if changes and not force:
            raise SccopInputError(
                f"{out} holds a search with different settings ({'; '.join(changes)}); "
                "use the same settings to resume, a new --out, or --force to continue with the new ones"
            )
    path.write_text(tomli_w.dumps(new))


class Search:
    """One search in DIR (see the module docstring). `calculator` and `rerank_calculator` replace the
    backend's and the re-ranking backend's calculators (tests)."""

    def __init__(self, config: RunConfig, out: str | Path, *, force: bool = False, progress: bool = True, calculator=None,
                 rerank_calculator=None):
        from sccop.composition import formula_units_for, parse_composition, parse_range
        from sccop.sampling.sampler import Sampler

        self.config = config
        self.out = Path(out)
        self.progress = progress
        self.calculator = calculator
        self.rerank_calculator = rerank_calculator
        if not config.composition:
            raise SccopInputError("no composition given")
        self.composition = parse_composition(config.composition)
        atoms = parse_range(config.atoms, "atoms") if config.atoms else None
        units = parse_range(config.formula_units, "formula_units") if config.formula_units else None
        if atoms is None and units is None:
            atoms = (1, max(8, self.composition.atoms_per_formula))
        self.formula_units = formula_units_for(self.composition, atoms=atoms, formula_units=units)
        if config.refine.rerank:
            from sccop.backends import parse_backend

            parse_backend(config.refine.rerank)  # a misspelt re-ranker fails now, not after the search
        self.sampler = Sampler(self.composition, self.formula_units, config.sampler)
        prepare_directory(config, self.out, force)
        self.store = Store(self.out / "sccop.db")
        meta = self.store.metadata
        self.previous_seconds = float(meta.get("seconds", 0.0))
        self.store.metadata = {**meta, "config": to_dict(config), "version": _version()}
        (self.out / "models").mkdir(exist_ok=True)
        # Every backend call ever made counts, including those a resumed run does not read back (the
        # relaxations of a budget stop whose best labels changed once the budget was raised).
        calls = self.store.rows(backend_call=1)
        self.calls = len(calls)
        self.unreplayed = {r.uid for r in calls if r.get("stage") == "relax"}
        self.finishing = False  # set while the stopped run relaxes its best labels (no time check)
        self.start = time.perf_counter()
        self.structures: dict[str, object] = {}  # uid -> SymmetricStructure (pool, annealed)
        self.labels: dict[str, float] = {}  # label uid -> backend energy per atom (ok only)
        self.label_source: dict[str, str] = {}  # label uid -> structure uid
        self.relaxed: dict[str, float] = {}  # relax uid -> energy per atom (ok only)
        self.relaxed_parents: set[str] = set()  # label uids already sent to relaxation
        self.round_relaxed: set[str] = set()  # those of them sent in this round
        self.ensemble = None
        from sccop.execution import make_executor

        self.executor = make_executor(config.execution)

    # ---- bookkeeping -------------------------------------------------------------------------------
    def rng(self, round_: int, stage: str, iteration: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.config.seed, round_, STAGES[stage], iteration])

    def minutes(self) -> float:
        return (self.previous_seconds + time.perf_counter() - self.start) / 60.0

    def _check_time(self) -> None:
        limit = self.config.search.budget_minutes
        if limit is not None and self.minutes() >= limit and not self.finishing:
            raise BudgetExhausted("time")

    def _energy(self, result: EnergyResult) -> float | None:
        """Energy per atom, or enthalpy per atom under pressure."""
        return enthalpy_per_atom(result, self.config.relax.pressure)

    def _backend(self, kind: str, items: list[tuple[str, object, dict]], desc: str) -> dict[str, float | None]:
        """Backend calls for (uid, atoms, values) items, each made once ever; returns uid -> energy.

        Items already in the database are read back (resume). New calls run in chunks, each written to
        the database before the next starts. Raises BudgetExhausted when the call budget is used up.
        """
        from tqdm import tqdm

        out: dict[str, float | None] = {}
        todo = []
        for uid, atoms, values in items:
            if uid in self.store:
                row = self.store.get(uid)
                self.unreplayed.discard(uid)
                out[uid] = row.get("energy_per_atom") if row.get("status") == "ok" else None
            else:
                todo.append((uid, atoms, values))
        budget = self._label_budget() if kind == "label" else self.config.search.budget_calls
        exhausted = False
        if budget is not None and self.calls + len(todo) > budget:
            todo, exhausted = todo[: max(0, budget - self.calls)], True
        calls = call_chunks(self.executor, kind, self.config.backend, self.config.relax, self.calculator, todo,
                            self.config.search.chunk)
        with tqdm(total=len(todo), desc=desc, unit="structure", disable=not self.progress or not todo, leave=False) as bar:
            for part, results in calls:
                rows = []
                for (uid, _, values), result in zip(part, results):
                    self.calls += 1
                    energy = self._energy(result)
                    out[uid] = energy
                    final = result.atoms  # with its single-point calculator: the row keeps energy and forces
                    rows.append((uid, final, {}, {
                        **values, "stage": kind, "status": result.status, "reason": result.reason,
                        "energy_per_atom": energy, "backend_call": 1, "calls": self.calls, "backend": self.config.backend.name,
                        "converged": bool(result.converged), "steps": int(result.steps),
                        "seconds": round(float(result.seconds), 3), "minutes": round(self.minutes(), 3),
                        **({"spacegroup": _spacegroup(final)} if kind == "relax" and result.ok else {}),
                    }))
                    if not result.ok:
                        log.warning("%s %s failed: %s", kind, uid, result.reason)
                self.store.put_many(rows)
                self.store.metadata = {**self.store.metadata, "seconds": self.minutes() * 60.0}
                bar.update(len(part))
                try:
                    self._check_time()
                except BudgetExhausted as exc:
                    exc.partial = out
                    raise
        if exhausted:
            raise BudgetExhausted("labels" if kind == "label" else "budget", out)
        return out

    @property
    def relaxation_labels(self) -> bool:
        """Whether labels are relaxations (`search.label_with = "relaxation"`)."""
        return self.config.search.label_with == "relaxation"

    def _label_budget(self) -> int | None:
        """The calls single points (and relaxations during a round) may use: the budget less the calls
        kept for relaxing the best labels at the end, less the relaxations already made by an earlier,
        smaller budget that this run has not reached yet."""
        budget = self.config.search.budget_calls
        if budget is None or self.relaxation_labels:  # the labels are the relaxations
            return budget
        return budget - max(0, min(self.config.search.relax_top, budget // 2) - len(self.unreplayed))

    def _labels_spent(self, round_: int, iteration: int) -> bool:
        """True when the label budget is used up and the iteration was never trained (a resumed run
        replays the iterations it trained): its training, annealing and selection could label nothing."""
        limit = self._label_budget()
        return (limit is not None and self.calls >= limit
                and not (self.out / "models" / f"r{round_}_i{iteration}.pt").exists())

    # ---- stages ------------------------------------------------------------------------------------
    def sample_pool(self, round_: int) -> list[str]:
        """This round's pool (written as sample rows); returns their uids."""
        cfg = self.config.search
        found = self.sampler.sample(cfg.samples, self.config.seed, start=round_ * cfg.samples, progress=self.progress,
                                    desc=f"round {round_}: sampling")
        rows, uids = [], []
        for i, s in found:
            uid = f"r{round_}/sample/{i}"
            uids.append(uid)
            self.structures[uid] = s
            rows.append(self._structure_row(uid, s, round_, "sample"))
        rows += self._seeded(round_, uids)
        self.store.put_many(rows)
        return uids

    def _structure_row(self, uid, s, round_, stage, **values):
        return (uid, s.to_atoms(primitive=False), {"symmetric": symmetric_data(s)}, {
            "stage": stage, "round": round_, "spacegroup": s.spacegroup, "wyckoff": "".join(s.wyckoff_labels()),
            "status": "ok", **values,
        })

    def _seeded(self, round_: int, uids: list[str]) -> list[tuple]:
        """Samples on the symmetrised lattices of the best relaxed structures so far."""
        cfg = self.config.search
        if round_ == 0 or not self.relaxed or self.config.sampler.dim != 3:
            return []
        rng = self.rng(round_, "seed")
        allowed = {g.number: (g, zs) for g, zs in self.sampler.options}
        rows = []
        for parent in self._seed_parents():
            seed = _conventional_seed(self.store.get(parent).toatoms(), self.composition.atoms_per_formula)
            if seed is None or seed[0] not in allowed:
                continue
            number, z, lattice = seed
            group, zs = allowed[number]
            if z not in zs:
                continue
            for k in range(cfg.seed_samples):
                s = self.sampler.attempt(group, z, rng, lattice=lattice)
                if s is None:
                    continue
                uid = f"r{round_}/seed/{parent}/{k}"
                uids.append(uid)
                self.structures[uid] = s
                rows.append(self._structure_row(uid, s, round_, "sample", parent=parent))
        return rows

    def _seed_parents(self) -> list[str]:
        """The `seed_structures` lowest relaxed structures. With relaxation labels many relax into the same
        basin, so copies (StructureMatcher) are skipped; single-point runs keep the plain lowest (their
        round-end relaxations are already unique within a round), so their folders resume unchanged."""
        n = self.config.search.seed_structures
        ranked = sorted(self.relaxed, key=self.relaxed.get)
        if not self.relaxation_labels:
            return ranked[:n]
        from pymatgen.analysis.structure_matcher import StructureMatcher
        from pymatgen.io.ase import AseAtomsAdaptor

        from sccop.refine import merge_duplicates

        groups = merge_duplicates(ranked, lambda u: AseAtomsAdaptor.get_structure(self.store.get(u).toatoms()),
                                  StructureMatcher(), limit=n)
        return [group[0] for group in groups]

    def label(self, uids: list[str], round_: int, iteration: int) -> None:
        """Backend labels of pool or annealed structures: single points (row uid label:U), or with
        `label_with = "relaxation"` relaxations (row uid relax:label:U, stage relax) labelled with the
        relaxed energy, which count as relaxed results at once."""
        relax = self.relaxation_labels
        start = "parent_" if relax else ""  # a relaxation's own group is that of its result
        items = []
        for uid in uids:
            s = self.structures[uid]
            items.append((f"relax:label:{uid}" if relax else f"label:{uid}", s.to_atoms(), {
                "round": round_, "iteration": iteration, "parent": uid, f"{start}spacegroup": s.spacegroup,
                f"{start}wyckoff": "".join(s.wyckoff_labels()),
            }))
        kind, what = ("relax", "relaxing") if relax else ("label", "labelling")
        try:
            energies = self._backend(kind, items, f"round {round_}: {what} ({self.config.backend.name})")
        except BudgetExhausted as exc:  # keep the labels made before the budget ran out
            self._keep_labels(items, exc.partial, relax)
            raise
        self._keep_labels(items, energies, relax)

    def _keep_labels(self, items: list, energies: dict, relaxed: bool = False) -> None:
        for (label_uid, _, values) in items:
            if label_uid in energies:
                self.label_source[label_uid] = values["parent"]
                if relaxed:  # already relaxed: relax_best has nothing left to do for it
                    self.relaxed_parents.add(label_uid)
            if energies.get(label_uid) is not None:
                self.labels[label_uid] = energies[label_uid]
                if relaxed:
                    self.relaxed[label_uid] = energies[label_uid]

    def train(self, round_: int, iteration: int) -> None:
        import torch

        from sccop.graph import au_graph
        from sccop.model.cgcnn import CGCNN
        from sccop.model.train import Ensemble, train_ensemble

        path = self.out / "models" / f"r{round_}_i{iteration}.pt"
        if path.exists():
            saved = torch.load(path, weights_only=False)
            members = []
            for state in saved["members"]:
                net = CGCNN(self.config.model, self.config.graph)
                net.load_state_dict(state)
                members.append(net)
            self.ensemble = Ensemble(members=members, mean=saved["mean"], std=saved["std"], graph=self.config.graph,
                                     threads=self.config.train.threads)
            return
        uids = sorted(self.labels)
        graphs = [au_graph(self.structures[self.label_source[u]], self.config.graph) for u in uids]
        energies = np.array([self.labels[u] for u in uids])
        self.ensemble, report = train_ensemble(
            graphs, energies, self.config.train, self.rng(round_, "train", iteration),
            previous=self.ensemble, model=self.config.model, graph=self.config.graph,
            progress=f"round {round_}: training on {len(uids)} labels" if self.progress else None,
        )
        torch.save({"members": [m.state_dict() for m in self.ensemble.members], "mean": self.ensemble.mean,
                    "std": self.ensemble.std, "report": report.__dict__}, path)

    def learn(self, round_: int, iteration: int, pool: list[str]) -> list[str]:
        """Score, partition, anneal and select; returns the uids to label."""
        from sccop.anneal import anneal
        from sccop.graph import au_graph
        from sccop.landscape import deduplicate, partition, representatives, select

        cfg, ens = self.config.search, self.ensemble
        labelled = set(self.label_source.values())
        graphs = [au_graph(self.structures[u], self.config.graph) for u in pool]
        pred, spread = ens.predict(graphs)
        vectors = ens.crystal_vectors(graphs)
        regions, embedding = partition(vectors, self.config.landscape, self.rng(round_, "partition", iteration))
        groups = np.array([self.structures[u].spacegroup for u in pool])
        reps = representatives(regions, pred, groups, self.config.landscape.per_cluster)
        self._save_landscape(round_, iteration, pool, embedding, regions, pred, spread, groups, reps)
        # Starts: the best representative of each region in turn (exploration), then the lowest labels.
        n_explore = int(round(cfg.starts * cfg.explore_share))
        by_region = sorted(reps, key=lambda i: (pred[i]))
        explore, seen_regions = [], set()
        for i in by_region:
            if regions[i] not in seen_regions and len(explore) < n_explore:
                explore.append(pool[i])
                seen_regions.add(regions[i])
        exploit = [self.label_source[u] for u in sorted(self.labels, key=self.labels.get)]
        starts = explore + [u for u in exploit if u not in explore][: cfg.starts - len(explore)]
        result = anneal(
            [self.structures[u] for u in starts],
            lambda ss: ens.predict([au_graph(s, self.config.graph) for s in ss])[0],
            self.config.anneal,
            self.rng(round_, "anneal", iteration),
            distance_factor=self.config.sampler.distance_factor,
            progress=f"round {round_}: annealing ({len(starts)} starts)" if self.progress else None,
        )
        chain_start = [u for u in starts for _ in range(self.config.anneal.restarts)]
        rows, candidates, keys = [], [], set()
        for k in np.argsort(result.best_energy, kind="stable"):
            s = result.best[k]
            key = (s.lattice.tobytes(), s.orbits)
            if key in keys:
                continue
            keys.add(key)
            uid = f"r{round_}/i{iteration}/anneal/{k}"
            self.structures[uid] = s
            candidates.append(uid)
            rows.append(self._structure_row(uid, s, round_, "anneal", iteration=iteration,
                                            predicted=float(result.best_energy[k]), parent=chain_start[k]))
        self.store.put_many(rows)
        log.info("round %d iteration %d: %d chains, acceptance %.2f, %d distinct results, lowest predicted %.4f eV/atom",
                 round_, iteration, len(result.best), result.acceptance, len(candidates), float(result.best_energy.min()))
        # Candidates: annealing results and unlabelled region representatives.
        options = candidates + [pool[i] for i in reps if pool[i] not in labelled and pool[i] not in candidates]
        options = [u for u in options if u not in labelled]
        if not options:
            return []
        g = [au_graph(self.structures[u], self.config.graph) for u in options]
        e, sd = ens.predict(g)
        vectors = ens.crystal_vectors(g)
        # One arrangement in another origin or setting of its group (another annealing chain's result) has
        # the same crystal vector: each is offered once, and not at all when it is labelled already.
        known = (ens.crystal_vectors([au_graph(self.structures[u], self.config.graph) for u in sorted(labelled)])
                 if labelled else None)
        keep = deduplicate(list(np.argsort(e, kind="stable")), vectors, config=self.config.landscape, known=known)
        if not keep:
            return []
        keep.sort()
        options, e, sd, vectors = [options[i] for i in keep], e[keep], sd[keep], vectors[keep]
        picks = select(e, vectors, min(cfg.per_iteration, len(options)), uncertainty=sd,
                       config=self.config.landscape, rng=self.rng(round_, "select", iteration))
        return [options[i] for i in picks]

    def _save_landscape(self, round_, iteration, pool, embedding, regions, pred, spread, groups, reps) -> None:
        """DIR/landscape/rR_iI.npz: the partition as the search saw it, for `sccop report`'s map."""
        labelled = {source: self.labels[label] for label, source in self.label_source.items() if label in self.labels}
        folder = self.out / "landscape"
        folder.mkdir(exist_ok=True)
        xy = np.zeros((len(pool), 2))
        xy[:, : min(2, embedding.shape[1])] = embedding[:, :2]
        partial_file = folder / f"r{round_}_i{iteration}.part.npz"  # written whole, then renamed: the
        np.savez(partial_file, embedding=xy, regions=regions, predicted=pred,  # report never sees half a file
                 spread=spread, spacegroups=groups, representatives=np.asarray(reps, dtype=int),
                 backend=np.array([labelled.get(u, np.nan) for u in pool]))
        os.replace(partial_file, folder / f"r{round_}_i{iteration}.npz")

    def relax_best(self, round_: int, count: int | None = None) -> None:
        """Relax the `count` (default `relax_top`) lowest labels not relaxed yet, one per StructureMatcher
        group."""
        from pymatgen.analysis.structure_matcher import StructureMatcher
        from pymatgen.io.ase import AseAtomsAdaptor

        cfg = self.config.search
        limit = self._label_budget() if count is not None else None
        count = cfg.relax_top if count is None else count
        if limit is not None:  # relaxations during a round leave the calls kept for the round's end alone
            count = min(count, limit - self.calls)
        if count <= 0:
            return
        done = self.relaxed_parents
        matcher = StructureMatcher()
        chosen = []
        # Not a copy of a label relaxed earlier in this round either (relax_each).
        chosen_structures = [AseAtomsAdaptor.get_structure(self.structures[self.label_source[u]].to_atoms())
                             for u in sorted(self.round_relaxed) if u in self.label_source]
        for uid in sorted(self.labels, key=self.labels.get):
            if len(chosen) == count:
                break
            if uid in done:
                continue
            structure = AseAtomsAdaptor.get_structure(self.structures[self.label_source[uid]].to_atoms())
            if any(matcher.fit(structure, other) for other in chosen_structures):
                continue
            chosen.append(uid)
            chosen_structures.append(structure)
        items = [(f"relax:{u}", self.structures[self.label_source[u]].to_atoms(), {"round": round_, "parent": u})
                 for u in chosen]
        try:
            energies = self._backend("relax", items, f"round {round_}: relaxing ({self.config.backend.name})")
        except BudgetExhausted as exc:  # keep what was relaxed before the budget ran out
            self._keep_relaxed(exc.partial)
            raise
        self.relaxed_parents.update(chosen)
        self.round_relaxed.update(chosen)
        self._keep_relaxed(energies)

    def _keep_relaxed(self, energies: dict) -> None:
        for uid, energy in energies.items():
            if energy is not None:
                self.relaxed[uid] = energy

    # ---- the loop ----------------------------------------------------------------------------------
    def run(self) -> SearchResult:
        """Run (or resume) the search; one process at a time in DIR."""
        from sccop.store import exclusive

        with exclusive(self.out, "a search"):
            return self._run()

    def _run(self) -> SearchResult:
        cfg = self.config.search
        history: list[float | None] = []
        pool: list[str] = []
        stopped = "rounds"
        round_ = 0
        try:
            for round_ in range(cfg.rounds):
                self._check_time()
                if round_ > 0 and self._labels_spent(round_, 0):
                    round_ -= 1  # the last round that ran: its best labels get any calls left
                    raise BudgetExhausted("labels")
                self.round_relaxed = set()
                pool += self.sample_pool(round_)
                if round_ == 0:
                    rng = self.rng(0, "initial")
                    first = [pool[i] for i in sorted(rng.choice(len(pool), min(cfg.initial_labels, len(pool)), replace=False))]
                    self.label(first, 0, 0)
                    self.relax_best(round_, cfg.relax_each)
                for iteration in range(cfg.iterations):
                    if len(self.labels) < 4:
                        log.warning("round %d: only %d usable labels, too few to train", round_, len(self.labels))
                        break
                    if self._labels_spent(round_, iteration):
                        raise BudgetExhausted("labels")
                    self.train(round_, iteration)
                    picks = self.learn(round_, iteration, pool)
                    self.label(picks, round_, iteration + 1)
                    if iteration < cfg.iterations - 1:  # after the last one, the round's end relaxes
                        self.relax_best(round_, cfg.relax_each)
                self.relax_best(round_)
                best = min(self.relaxed.values(), default=None)
                history.append(best)
                log.info("round %d: %d backend calls, best %s eV/atom", round_, self.calls,
                         "none yet" if best is None else f"{best:.4f}")
                if _converged(history, cfg.tolerance, cfg.patience):
                    stopped = "converged"
                    break
        except BudgetExhausted as exc:
            stopped = "time" if exc.kind == "time" else "budget"
            if exc.kind in ("labels", "time"):  # relax the best labels so far (the calls kept back,
                self.finishing = True  # or a little over the time budget)
                try:
                    self.relax_best(round_)
                except BudgetExhausted:
                    pass
            history[round_:] = [min(self.relaxed.values(), default=None)]  # the stopped round's entry
            log.info("stopping: %s budget used (%d calls, %.1f min)", stopped, self.calls, self.minutes())
        except BaseException:
            self.executor.close()
            raise
        self.store.metadata = {**self.store.metadata, "seconds": self.minutes() * 60.0}
        candidates = []
        try:
            write_outputs(self.store, self.out, cfg.top)  # the relaxed answer first: refinement may fail
            for row in self.store.rows(stage="relax", status="ok"):  # those of earlier budgets included
                self.relaxed.setdefault(row.uid, row.energy_per_atom)
            if self.relaxed:
                try:
                    candidates = self.finish()
                except SccopInputError:
                    raise  # e.g. the re-ranking backend is missing: the relaxed answer is written already
                except Exception as exc:  # noqa: BLE001 - the relaxed answer stands; say why it was not refined
                    log.warning("refinement failed, the answer is the relaxed structures: %s", describe_error(exc))
        finally:
            self.executor.close()
        best = min([c.energy for c in candidates] + list(self.relaxed.values()), default=None)
        return SearchResult(out=self.out, rounds=round_ + 1, calls=self.calls, best_energy=best, stopped=stopped,
                            history=history, candidates=candidates)

    def finish(self) -> list:
        """Refinement and re-ranking of the relaxed structures (sccop.refine), then the outputs again."""
        from sccop.refine import _rerank_name, refine

        cfg = self.config
        candidates = refine(self.store, cfg, calculator=self.calculator, rerank_calculator=self.rerank_calculator,
                            progress=self.progress, top=cfg.search.top, executor=self.executor)
        write_outputs(self.store, self.out, cfg.search.top, candidates,
                      rerank=_rerank_name(cfg) if cfg.refine.rerank else None)
        return candidates


def _call_chunk(kind: str, backend, relax_config, calculator, atoms: list) -> list[EnergyResult]:
    """One chunk of backend calls (runs here or on a Dask worker)."""
    if kind == "label":
        return single_points(atoms, backend, relax_config, calculator=calculator)
    return relax_many(atoms, backend, relax_config, calculator=calculator)


def call_chunks(executor, kind: str, backend, relax_config, calculator, items: list, chunk: int):
    """Single points (kind "label") or relaxations of (uid, atoms, values) items on `executor`, `chunk`
    at a time; yields (items of the chunk, results) as chunks finish. A chunk whose task was lost for
    good comes back as failed results with the reason."""
    size = max(1, chunk)
    chunks = [items[k : k + size] for k in range(0, len(items), size)]
    call = partial(_call_chunk, kind, backend, relax_config, calculator)
    for k, results in executor.map(call, [[a for _, a, _ in part] for part in chunks]):
        part = chunks[k]
        if isinstance(results, BaseException):  # the task was lost even after its retries
            results = [EnergyResult(status="failed", atoms=a, reason=f"task lost: {describe_error(results)}")
                       for _, a, _ in part]
        yield part, results


def _converged(history: list, tolerance: float, patience: int) -> bool:
    values = [h for h in history if h is not None]
    if len(values) <= patience:
        return False
    return abs(values[-1] - values[-1 - patience]) < tolerance


def _spacegroup(atoms, symprec: float = 0.1) -> int:
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        return int(SpacegroupAnalyzer(AseAtomsAdaptor.get_structure(atoms), symprec=symprec).get_space_group_number())
    except Exception:  # noqa: BLE001 - spglib can fail on broken cells; P1 is then the honest answer
        return 1


def _conventional_seed(atoms, atoms_per_formula: int):
    """(space group, formula units per primitive cell, conventional lattice as cellpar_to_cell) of a
    relaxed structure, symmetrised at 0.1 A; None when spglib fails."""
    from ase.geometry import cell_to_cellpar, cellpar_to_cell
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        sga = SpacegroupAnalyzer(AseAtomsAdaptor.get_structure(atoms), symprec=0.1)
        conventional = sga.get_conventional_standard_structure()
        primitive = sga.find_primitive()
    except Exception:  # noqa: BLE001
        return None
    z = len(primitive) // atoms_per_formula
    return sga.get_space_group_number(), z, cellpar_to_cell(cell_to_cellpar(conventional.lattice.matrix))


def _label_candidates(store, top: int) -> list:
    """Unique labelled single points, lowest first: the answer of a run stopped before any relaxation."""
    from sccop.refine import Candidate, _structure, merge_duplicates

    rows = sorted(store.rows(stage="label", status="ok"), key=lambda r: (r.energy_per_atom, r.uid))
    out = []
    for group in merge_duplicates(rows, lambda r: _structure(r.toatoms()), limit=top):
        row = group[0]
        sg = int(row.get("spacegroup") or _spacegroup(row.toatoms()))
        out.append(Candidate(uid=row.uid, source=row.uid, atoms=row.toatoms(), energy=row.energy_per_atom, spacegroup=sg,
                             raw_energy=row.energy_per_atom, raw_spacegroup=sg, round=int(row.get("round", 0)),
                             calls=int(row.get("calls", 0)), copies=len(group), rank=len(out) + 1,
                             rank_primary=len(out) + 1))
    return out


SUMMARY_FIELDS = [
    "rank", "formula", "spacegroup_symbol", "spacegroup", "energy_per_atom", "above_best", "round", "calls", "relaxed",
    "uid", "relaxed_spacegroup", "relaxed_energy_per_atom", "symmetrized", "copies", "primary_rank", "rerank_backend",
    "rerank_energy_per_atom", "rerank_above_best", "rerank_spacegroup", "rerank_reason",
]


def write_outputs(store: Store, out: Path, top: int, candidates: list | None = None, rerank: str | None = None) -> list[dict]:
    """DIR/best (CIF and POSCAR of the top unique structures) and DIR/summary.csv; returns the rows.

    `candidates`: the final list (sccop.refine); default the relaxed structures with duplicates merged,
    or the labelled single points when nothing was relaxed. A re-ranked candidate is written as the
    re-ranking backend relaxed it. `rerank`: that backend's name, for the summary.
    """
    from ase.io import write
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    from sccop.refine import _structure, raw_candidates

    relaxed = True
    if candidates is None:
        candidates = raw_candidates(store, top)
        if not candidates:  # nothing relaxed yet (tiny budget): report the labelled single points
            candidates, relaxed = _label_candidates(store, top), False
    candidates = candidates[:top]
    best_dir = out / "best"
    best_dir.mkdir(exist_ok=True)
    for old in best_dir.iterdir():
        old.unlink()
    summary = []
    best = min((c.energy for c in candidates), default=None)
    reranked = [c.rerank_energy for c in candidates if c.rerank_energy is not None]
    best_rerank = min(reranked, default=None)
    for c in candidates:
        atoms = store.get(c.rerank_uid).toatoms() if c.rerank_energy is not None else c.atoms
        structure = _structure(atoms)
        try:
            sga = SpacegroupAnalyzer(structure, symprec=0.1)
            number, symbol = sga.get_space_group_number(), sga.get_space_group_symbol()
        except Exception:  # noqa: BLE001
            number, symbol = 1, "P1"
        formula = structure.composition.reduced_formula
        name = f"{c.rank:02d}_{formula}_{number}"
        write(best_dir / f"{name}.cif", atoms)
        write(best_dir / f"{name}.POSCAR", atoms, format="vasp", direct=True)
        line = {
            "rank": c.rank, "formula": formula, "spacegroup_symbol": symbol, "spacegroup": number,
            "energy_per_atom": round(c.energy, 6), "above_best": round(c.energy - best, 6),
            "round": c.round, "calls": c.calls, "relaxed": relaxed, "uid": c.uid,
            "relaxed_spacegroup": c.raw_spacegroup, "relaxed_energy_per_atom": round(c.raw_energy, 6),
            "symmetrized": c.symmetrized, "copies": c.copies, "primary_rank": c.rank_primary,
        }
        if c.rerank_uid is not None:
            line.update({"rerank_backend": rerank, "rerank_reason": c.rerank_reason})
        if c.rerank_energy is not None:
            line.update({"rerank_energy_per_atom": round(c.rerank_energy, 6),
                         "rerank_above_best": round(c.rerank_energy - best_rerank, 6), "rerank_spacegroup": c.rerank_spacegroup})
        summary.append(line)
    with open(out / "summary.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in line.items()} for line in summary)
    return summary


def load_config(path: str | Path) -> dict:
    """A TOML config file as a dict (errors name the file)."""
    import tomllib

    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SccopInputError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SccopInputError(f"config file {path} is not valid TOML: {exc}") from None


__all__ = ["Search", "SearchResult", "write_outputs", "load_config"]
