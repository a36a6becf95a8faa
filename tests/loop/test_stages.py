"""The search's stage functions on hand-built states, without a whole run."""

from dataclasses import replace

import numpy as np
from ase.build import bulk

from sccop.composition import parse_composition
from sccop.config import SearchConfig
from sccop.loop.budget import Budget
from sccop.loop.cursor import Cursor
from sccop.loop.labels import initial_picks, label_calls, relax_calls, relax_picks
from sccop.loop.pool import seed_parents
from sccop.loop.randomness import stage_rng
from sccop.loop.state import SearchState
from sccop.sampling.sampler import Sampler


def sampled(config, count=12):
    sampler = Sampler(parse_composition(config.composition), [1, 2], config.sampler)
    return {f"r0/sample/{i}": s for i, s in sampler.sample(count, config.seed)}


def labelled_state(config, energies):
    """A state whose pool is sampled CuAu and whose labels are `energies` (structure index -> energy)."""
    structures = sampled(config)
    state = SearchState()
    state.add_structures(structures, pool=True)
    uids = list(structures)
    state.add_labels([(f"label:{uids[k]}", uids[k], e) for k, e in energies.items()])
    return state, uids


def test_initial_picks_draw_from_the_pool_in_its_order(small_config):
    config = small_config(initial_labels=5)
    state, uids = labelled_state(config, {})
    picks = initial_picks(state, config, stage_rng(config.seed, 0, "initial"))
    assert len(picks) == 5 and len(set(picks)) == 5 and picks == sorted(picks, key=uids.index)
    assert picks == initial_picks(state, config, stage_rng(config.seed, 0, "initial"))  # seeded
    assert picks != initial_picks(state, config, stage_rng(config.seed + 1, 0, "initial"))


def test_label_calls_name_single_points_and_relaxation_labels(small_config):
    state, uids = labelled_state(small_config(), {})
    (point,) = label_calls(state, small_config(), uids[:1], 0, 2)
    assert point.uid == f"label:{uids[0]}" and point.values["parent"] == uids[0] and point.values["iteration"] == 2
    assert point.values["spacegroup"] == state.structures[uids[0]].spacegroup
    (relaxation,) = label_calls(state, small_config(label_with="relaxation"), uids[:1], 0, 0)
    assert relaxation.uid == f"relax:label:{uids[0]}" and "parent_spacegroup" in relaxation.values
    assert "spacegroup" not in relaxation.values  # a relaxation's own group is its result's


def test_relax_picks_take_the_lowest_new_labels_one_per_structure(small_config):
    config = small_config()
    state, uids = labelled_state(config, {0: -1.0, 1: -0.9, 2: -0.8, 3: -0.7, 4: -0.6})
    # Label 2 labels a copy of structure 1 (the same structure under another uid).
    state.structures["copy"] = state.structures[uids[1]]
    state.add_labels([("label:copy", "copy", -0.95)])
    state.relaxed_parents.add(f"label:{uids[0]}")  # relaxed already
    picks = relax_picks(state, 3)
    assert picks == ["label:copy", f"label:{uids[2]}", f"label:{uids[3]}"]
    items = relax_calls(state, picks, 1)
    assert [i.uid for i in items] == [f"relax:{p}" for p in picks] and items[0].values == {"round": 1, "parent": "label:copy"}
    # A label relaxed earlier in this round blocks its copies.
    state.round_relaxed.add("label:copy")
    state.relaxed_parents.add("label:copy")
    assert f"label:{uids[1]}" not in relax_picks(state, 5)
    assert relax_picks(state, 0) == []


def test_relax_picks_under_a_family_cap(small_config):
    config = small_config()
    structures = sampled(config, 60)
    state, uids = SearchState(), list(structures)
    state.add_structures(structures, pool=True)
    state.add_labels([(f"label:{u}", u, -1.0 + 0.01 * k) for k, u in enumerate(uids)])
    family = {u: state.structures[u].family() for u in uids}
    counts = {f: list(family.values()).count(f) for f in set(family.values())}
    assert max(counts.values()) > 1  # the test needs a family drawn twice
    picks = relax_picks(state, 60, family_cap=1)
    sources = [state.label_source[p] for p in picks]
    assert len({family[u] for u in sources}) == len(picks)  # one per family
    free = relax_picks(state, 60)
    assert len({family[state.label_source[p]] for p in free}) < len(free)  # uncapped, families repeat
    assert picks[0] == free[0] and len(picks) < len(free)
    assert picks == [p for p in state.labelled_order() if p in picks]  # lowest first
    # Relaxations earlier in the round count: the family of the first pick is full now.
    state.round_relaxed.add(picks[0])
    state.relaxed_parents.add(picks[0])
    assert all(family[state.label_source[p]] != family[sources[0]] for p in relax_picks(state, 60, family_cap=1))
    assert len(relax_picks(state, 60, family_cap=2)) > len(relax_picks(state, 60, family_cap=1))


def test_seed_parents_skip_copies_only_with_relaxation_labels(small_config):
    fcc, bcc = bulk("Cu", "fcc", a=3.61), bulk("Cu", "bcc", a=2.87)
    state = SearchState()
    state.add_relaxations({"a": -1.0, "b": -0.999, "c": -0.5, "d": None}, {"a": fcc, "b": fcc.repeat((2, 1, 1)), "c": bcc})
    assert "d" not in state.relaxed and state.best() == -1.0
    assert seed_parents(state, small_config(seed_structures=2)) == ["a", "b"]
    assert seed_parents(state, small_config(seed_structures=2, label_with="relaxation")) == ["a", "c"]


class Calls:
    def __init__(self, calls):
        self.calls = calls


class Clock:
    def __init__(self, minutes):
        self.value = minutes

    def minutes(self):
        return self.value


def test_budget_keeps_calls_for_the_round_end_and_answers_without_raising():
    config = SearchConfig(budget_calls=20, relax_top=5, budget_minutes=3.0)
    ledger = Calls(10)
    budget = Budget(config, ledger, Clock(1.0))
    assert budget.label_limit() == 15 and budget.room(single_points=True) == 5 and budget.room(single_points=False) == 10
    ledger.calls = 15
    assert budget.labels_spent(trained=False) and not budget.labels_spent(trained=True)
    # Relaxations an earlier, smaller budget made and this walk has not reached count against the reserve.
    budget = Budget(config, ledger, Clock(1.0), unreached={"relax:x", "relax:y"})
    assert budget.label_limit() == 17
    budget.reached(["relax:x", "label:z"])
    assert budget.label_limit() == 16 and not budget.time_up()
    assert Budget(config, ledger, Clock(3.0)).time_up()
    relaxation = Budget(replace(config, label_with="relaxation"), ledger, Clock(0.0))
    assert relaxation.label_limit() == 20  # every label is a relaxation: nothing is kept back
    assert Budget(SearchConfig(), ledger, Clock(0.0)).room(single_points=True) is None


class Meta:
    def __init__(self, phases=None):
        self.metadata = {"phases": phases or {}}

    def update_metadata(self, **values):
        self.metadata.update(values)


def test_cursor_restores_a_prefix_of_the_walk_only():
    store = Meta({"r0/pool": {"uids": ["a"]}, "r0/label/0": {}, "r0/learn/0": {"picks": []}})
    cursor = Cursor(store)
    assert cursor.restore("r0/pool") == {"uids": ["a"]} and cursor.restore("r0/label/0") == {}
    assert cursor.restore("r0/relax_each/0") is None  # not finished: it runs, and so does all after it
    assert cursor.restore("r0/learn/0") is None
    cursor.finished("r0/relax_each/0", {"picks": []})
    assert "r0/relax_each/0" in store.metadata["phases"]


def test_learning_picks_unlabelled_distinct_structures(small_config):
    from ase.calculators.emt import EMT

    from sccop.loop.learning import learn
    from sccop.loop.training import train

    config = small_config(per_iteration=4, starts=4)
    structures = sampled(config, 16)
    state = SearchState()
    state.add_structures(structures, pool=True)
    labels = []
    for uid in list(structures)[:8]:
        atoms = structures[uid].to_atoms()
        atoms.calc = EMT()
        labels.append((f"label:{uid}", uid, atoms.get_potential_energy() / len(atoms)))
    state.add_labels(labels)
    state.ensemble, report = train(state, config, stage_rng(config.seed, 0, "train"))
    assert report.used == 8 and len(state.ensemble.members) == 2
    learned = learn(state, config, lambda stage: stage_rng(config.seed, 0, stage), 0, 0)
    assert 0 < len(learned.picks) <= 4 and len(set(learned.picks)) == len(learned.picks)
    assert not set(learned.picks) & state.labelled
    assert set(learned.picks) <= set(learned.annealed) | set(state.pool)
    assert all(u.startswith("r0/i0/anneal/") for u in learned.annealed)
    assert [row[0] for row in learned.rows] == list(learned.annealed)
    assert learned.landscape["embedding"].shape == (16, 2)
    assert np.isfinite(learned.landscape["backend"]).sum() == 8
    again = learn(state, config, lambda stage: stage_rng(config.seed, 0, stage), 0, 0)
    assert again.picks == learned.picks  # seeded


def test_relaxation_labels_seed_from_distinct_structures_of_a_run(tmp_path, small_config):
    from sccop.calls.store import Store
    from sccop.loop.driver import Search
    from sccop.symmetry.analysis import matcher, to_structure

    config = small_config(rounds=1, iterations=1, label_with="relaxation")
    Search(config, tmp_path / "run", progress=False).run()
    rows = sorted(Store(tmp_path / "run" / "sccop.db").rows(stage="relax", status="ok"), key=lambda r: r.id)
    state = SearchState()
    state.add_relaxations({r.uid: r.energy_per_atom for r in rows}, {r.uid: r.toatoms() for r in rows})
    lowest = sorted(state.relaxed, key=state.relaxed.get)
    structures = {u: to_structure(state.relaxed_atoms[u]) for u in lowest}
    same = lambda a, b: matcher().fit(structures[a], structures[b])  # noqa: E731
    assert same(lowest[0], lowest[1])  # the lowest relaxations are copies of one structure
    parents = seed_parents(state, config)
    assert len(parents) == 3 and parents[0] == lowest[0]
    assert not any(same(a, b) for i, a in enumerate(parents) for b in parents[i + 1 :])
    for uid in lowest[: lowest.index(parents[-1])]:  # every structure passed over is a copy of one kept
        assert uid in parents or any(same(uid, p) for p in parents)
