"""The search driver end to end with EMT: outputs, resume without repeated calls, failures, budgets, config checks."""

import csv
from dataclasses import replace

import numpy as np
import pytest
from ase.db import connect

import sccop.calls.ledger as ledger_module
from sccop.calls.fingerprint import fingerprint
from sccop.calls.rundir import check_settings, write_settings
from sccop.config import RunConfig, SearchConfig
from sccop.errors import SccopInputError
from sccop.loop.driver import Search


def test_search_end_to_end(tmp_path, small_config):
    out = tmp_path / "run"
    result = Search(small_config(), out, progress=False).run()
    assert result.best_energy is not None and np.isfinite(result.best_energy)
    db = connect(out / "sccop.db")
    stages = {row.stage for row in db.select()}
    assert {"sample", "label", "anneal", "relax"} <= stages
    calls = db.count("backend_call=1")
    assert calls == result.calls > 0
    relaxed = [row for row in db.select(stage="relax", status="ok")]
    assert relaxed and all(row.get("spacegroup") for row in relaxed)
    # The answer is the relaxed best or a symmetrised version of it within the refinement's tolerance.
    lowest = min(r.energy_per_atom for r in relaxed)
    assert result.best_energy <= lowest + RunConfig().refine.energy_tolerance + 1e-9
    for row in db.select(stage="label"):  # every label points at a stored structure
        assert db.count(uid=row.parent) == 1
    # Grid structures come back from the database exactly.
    from sccop.calls.rows import from_symmetric_data

    row = next(db.select(stage="anneal"))
    rebuilt = from_symmetric_data(row.data["symmetric"]).to_atoms(primitive=False)
    assert np.allclose(rebuilt.cell[:], row.cell) and np.allclose(rebuilt.positions, row.positions)
    assert list(rebuilt.numbers) == list(row.numbers)
    assert db.metadata["config"]["composition"] == "CuAu"
    assert (out / "config.toml").exists()
    log = (out / "sccop.log").read_text()  # the run's INFO log, whatever the console showed
    assert "CuAu (reduced formula CuAu), 1, 2 formula unit(s) per cell, backend emt" in log and "round 0:" in log
    from ase.io import read

    assert len(read(out / "results.extxyz", index=":")) == db.count("stage=relax,status=ok") + db.count(
        "stage=refine,status=ok")
    with open(out / "summary.csv") as fh:
        summary = list(csv.DictReader(fh))
    tie = RunConfig().refine.energy_tolerance  # ties within it are ranked by symmetry
    assert summary[0]["rank"] == "1" and 0.0 <= float(summary[0]["above_best"]) <= tie
    assert summary[0]["uid"] == result.candidates[0].uid
    assert result.best_energy == pytest.approx(min([lowest] + [float(r["energy_per_atom"]) for r in summary]), abs=1e-6)
    assert result.best_energy - 1e-6 <= float(summary[0]["energy_per_atom"]) <= result.best_energy + tie
    energies = [float(r["energy_per_atom"]) for r in summary]
    assert all(b >= a - tie for a, b in zip(energies, energies[1:]))
    names = sorted(p.name for p in (out / "best").iterdir())
    assert len(names) == 2 * len(summary) and names[0].startswith("01_") and any(n.endswith(".POSCAR") for n in names)


def test_learning_never_labels_a_structure_twice(tmp_path, small_config):
    """Annealing chains often end on an arrangement labelled already (or on each other's, in another origin
    of the group): the same crystal vector. Such candidates are not offered to the backend again."""
    out = tmp_path / "run"
    Search(small_config(rounds=1, iterations=3, per_iteration=6), out, progress=False).run()
    labels = [r for r in connect(out / "sccop.db").select(stage="label") if r.get("energy") is not None]
    learned = [r for r in labels if "/anneal/" in r.parent or r.parent.startswith("r0/i")]
    assert len(learned) >= 6
    energies = [round(r.energy / r.natoms, 8) for r in labels]
    for r in learned:
        assert energies.count(round(r.energy / r.natoms, 8)) == 1, r.parent


class Interrupt(BaseException):
    pass


def test_resume_after_a_crash_repeats_no_call(tmp_path, monkeypatch, small_config):
    config = small_config()
    reference = Search(config, tmp_path / "reference", progress=False).run()

    calls: list[str] = []
    real_single, real_relax = ledger_module.single_points, ledger_module.relax_many

    def counting(real, kind, limit=None):
        def call(structures, *a, **kw):
            if limit is not None and len(calls) >= limit:
                raise Interrupt  # the process dies here: nothing of this chunk is written
            calls.extend(f"{kind}:{s.get_chemical_formula()}" for s in structures)
            return real(structures, *a, **kw)
        return call

    out = tmp_path / "crashed"
    monkeypatch.setattr(ledger_module, "single_points", counting(real_single, "label", limit=17))
    monkeypatch.setattr(ledger_module, "relax_many", counting(real_relax, "relax", limit=17))
    with pytest.raises(Interrupt):
        Search(config, out, progress=False).run()
    first = list(calls)
    written = connect(out / "sccop.db").count("backend_call=1")
    assert 0 < written <= len(first)

    calls.clear()
    monkeypatch.setattr(ledger_module, "single_points", counting(real_single, "label"))
    monkeypatch.setattr(ledger_module, "relax_many", counting(real_relax, "relax"))
    resumed = Search(config, out, progress=False).run()
    # Only the chunk in flight at the crash (if any) is computed again; every written call is read back.
    # The refinement's relaxations (after the search, through the same executor) come on top.
    db = connect(out / "sccop.db")
    assert len(calls) == db.count("backend_call=1") - written + db.count("refine_call=1")
    assert resumed.calls == reference.calls
    assert resumed.best_energy == pytest.approx(reference.best_energy, abs=1e-9)
    assert len(db) == len(connect(tmp_path / "reference" / "sccop.db"))


def test_failing_backend_calls_are_recorded_and_the_run_goes_on(tmp_path, small_config):
    from sccop.testing import sometimes_failing

    out = tmp_path / "run"
    result = Search(small_config(), out, progress=False, calculator=sometimes_failing(3)).run()
    db = connect(out / "sccop.db")
    failed = list(db.select(status="failed"))
    assert failed and all("boom" in row.reason for row in failed)
    assert db.count("backend_call=1,status=ok") > 0 and result.best_energy is not None


def test_call_budget_and_changed_config(tmp_path, small_config):
    out = tmp_path / "run"
    result = Search(small_config(budget_calls=12), out, progress=False).run()
    assert result.stopped == "budget" and result.calls == 12
    assert connect(out / "sccop.db").count("backend_call=1") == 12
    # The last relax_top (2) calls of the budget relax the best labels, so the run ends with answers.
    assert connect(out / "sccop.db").count("stage=relax") == 2
    assert result.best_energy is not None
    with open(out / "summary.csv") as fh:
        assert [r["relaxed"] for r in csv.DictReader(fh)][0] == "True"
    # A larger budget is a plain resume: the 12 calls are read back, not repeated.
    more = Search(small_config(budget_calls=14), out, progress=False).run()
    assert more.calls == 14 and connect(out / "sccop.db").count("backend_call=1") == 14
    changed = replace(small_config(budget_calls=14), seed=2)
    before = (out / "config.toml").read_text()
    with pytest.raises(SccopInputError, match="seed: 1 -> 2"):
        Search(changed, out, progress=False).run()
    assert (out / "config.toml").read_text() == before  # refused before anything was written
    check_settings(changed, out, force=True)  # --force accepts it
    # A run written before a setting existed resumes while the setting keeps its default.
    import tomllib

    import tomli_w

    saved = tomllib.loads((out / "config.toml").read_text())
    del saved["search"]["relax_each"]
    (out / "config.toml").write_text(tomli_w.dumps(saved))
    check_settings(replace(changed, seed=1), out, force=False)
    with pytest.raises(SccopInputError, match="search.relax_each: 0 -> 2"):
        Search(replace(changed, seed=1, search=replace(changed.search, relax_each=2)), out, progress=False).run()


def test_relax_each_relaxes_during_the_round_and_resumes(tmp_path, small_config):
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.io.ase import AseAtomsAdaptor

    out = tmp_path / "run"
    config = small_config(rounds=1, iterations=2, relax_each=1)
    result = Search(config, out, progress=False).run()
    db = connect(out / "sccop.db")
    relaxes = sorted(db.select(stage="relax"), key=lambda r: r.calls)
    # After the 10 initial labels (call 11) and the first iteration's 4 (call 16), not after the last
    # iteration's (calls 17-20): the round's end relaxes relax_top (2) then.
    assert [r.calls for r in relaxes] == [11, 16, 21, 22]
    assert sorted(r.calls for r in db.select(stage="label")) == list(range(1, 11)) + [12, 13, 14, 15, 17, 18, 19, 20]
    # Each relaxation takes the lowest label known at the time, and no two relaxed starts are the same structure.
    first = [r for r in db.select(stage="label") if r.calls <= 10]
    assert relaxes[0].parent == min(first, key=lambda r: r.energy_per_atom).uid
    starts = [AseAtomsAdaptor.get_structure(next(db.select(uid=r.parent)).toatoms()) for r in relaxes]
    matcher = StructureMatcher()
    assert not any(matcher.fit(a, b) for i, a in enumerate(starts) for b in starts[i + 1 :])
    calls = db.count("backend_call=1")
    again = Search(config, out, progress=False).run()  # a finished run resumes without a new call
    assert again.calls == calls == connect(out / "sccop.db").count("backend_call=1")
    assert again.best_energy == pytest.approx(result.best_energy)


def test_relax_each_leaves_the_last_calls_of_a_budget_to_the_round_end(tmp_path, small_config):
    out = tmp_path / "run"
    result = Search(small_config(rounds=1, iterations=2, relax_each=2, budget_calls=17), out, progress=False).run()
    db = connect(out / "sccop.db")
    assert result.stopped == "budget" and result.calls == 17
    # Labels 1-10, two relaxations (11-12), labels up to the label budget (15), relax_top (2) at 16-17.
    relaxed = sorted(r.calls for r in db.select(stage="relax"))
    assert relaxed == [11, 12, 16, 17]


def test_screening_relaxes_the_lowest_screens_in_full_from_where_they_stopped(tmp_path, small_config):
    out = tmp_path / "run"
    config = small_config(rounds=1, iterations=1, screen=3, screen_steps=2)
    result = Search(config, out, progress=False).run()
    db = connect(out / "sccop.db")
    screens = sorted(db.select(stage="screen"), key=lambda r: r.calls)
    relaxes = sorted(db.select(stage="relax"), key=lambda r: r.calls)
    # relax_top (2) x screen (3) labels are screened for at most 2 steps, after the 14 labels; then the 2
    # lowest of them are relaxed in full, each from its screen's structure.
    assert [r.calls for r in screens] == [15, 16, 17, 18, 19, 20] and [r.calls for r in relaxes] == [21, 22]
    assert all(r.uid == f"screen:{r.parent}" and r.steps <= 2 for r in screens)
    ok = sorted((r for r in screens if r.status == "ok"), key=lambda r: (r.energy_per_atom, r.calls))
    assert [r.parent for r in relaxes] == [r.parent for r in ok[:2]]
    labels = {r.uid: r.energy_per_atom for r in db.select(stage="label")}
    assert len({r.parent for r in screens}) == 6 and min(labels, key=labels.get) in {r.parent for r in screens}
    for r in relaxes:  # each relaxation started from the structure its screen stopped at
        screen = next(db.select(uid=f"screen:{r.parent}"))
        assert r.screened == screen.uid and r.fingerprint == fingerprint(screen.toatoms())
        assert r.fingerprint != fingerprint(next(db.select(uid=r.parent.removeprefix("label:"))).toatoms())
    assert result.best_energy == pytest.approx(min(r.energy_per_atom for r in relaxes if r.status == "ok"))
    again = Search(config, out, progress=False).run()  # resumes without a new call
    assert again.calls == result.calls == 22 == connect(out / "sccop.db").count("backend_call=1")
    assert again.best_energy == pytest.approx(result.best_energy)


def stage_calls(db, *stages: str) -> dict[str, list[int]]:
    """The calls of each stage's rows, in order."""
    return {stage: sorted(r.calls for r in db.select(stage=stage)) for stage in stages}


@pytest.mark.parametrize("settings, calls, expected", [
    # Reserve relax_top 2 x (screen 3 + 1) = 8 of 18: labels stop at 10, then 6 screens and 2 relaxations.
    ({"rounds": 2, "iterations": 1, "budget_calls": 18}, 18,
     {"label": list(range(1, 11)), "screen": [11, 12, 13, 14, 15, 16], "relax": [17, 18]}),
    # Label limit 24 - 8 = 16: after the 10 labels, relax_each 2 screens 4 (leaving 2 of the 6 calls to the
    # limit for its relaxations) and relaxes 2; the iteration's labels find the limit reached, and the
    # budget stop screens the 4 unique labels left and relaxes 2 (none screened twice).
    ({"rounds": 1, "iterations": 2, "relax_each": 2, "budget_calls": 24}, 22,
     {"label": list(range(1, 11)), "screen": [11, 12, 13, 14, 17, 18, 19, 20], "relax": [15, 16, 21, 22]}),
])
def test_screening_keeps_its_calls_within_the_budget(tmp_path, small_config, settings, calls, expected):
    out = tmp_path / "run"
    result = Search(small_config(screen=3, **settings), out, progress=False).run()
    db = connect(out / "sccop.db")
    assert result.stopped == "budget" and result.calls == calls
    assert stage_calls(db, "label", "screen", "relax") == expected
    parents = [r.parent for r in db.select(stage="screen")]
    assert len(parents) == len(set(parents))


def test_screening_needs_single_point_labels():
    with pytest.raises(SccopInputError, match="screen = 3 needs label_with"):
        SearchConfig(screen=3, label_with="relaxation")


def test_relaxation_labels_train_on_relaxed_energies_and_use_the_whole_budget(tmp_path, small_config):
    out = tmp_path / "run"
    config = small_config(rounds=2, iterations=1, label_with="relaxation", budget_calls=17)
    result = Search(config, out, progress=False).run()
    db = connect(out / "sccop.db")
    assert result.stopped == "budget" and result.calls == 17
    # Every call is a relaxation of a pool or annealed structure; none is kept back for the round's end.
    assert db.count("stage=label") == 0
    relaxes = sorted(db.select(stage="relax"), key=lambda r: r.calls)
    assert [r.calls for r in relaxes] == list(range(1, 18))
    assert all(r.uid == f"relax:label:{r.parent}" and db.count(uid=r.parent) == 1 for r in relaxes)
    assert {r.get("iteration") for r in relaxes} == {0, 1}  # the initial labels, then the network's picks
    # The network of the first iteration was trained on the relaxed energies of the 10 initial labels.
    import torch

    saved = torch.load(out / "models" / "r0_i0.pt", weights_only=False)
    first = np.array([r.energy_per_atom for r in relaxes[:10] if r.status == "ok"])
    assert saved["mean"] == pytest.approx(first.mean(), rel=1e-4)
    assert result.best_energy <= min(r.energy_per_atom for r in relaxes if r.status == "ok") + 1e-9
    calls = db.count("backend_call=1")
    again = Search(config, out, progress=False).run()  # resumes without a new call
    assert again.calls == calls == connect(out / "sccop.db").count("backend_call=1")
    assert again.best_energy == pytest.approx(result.best_energy)


def test_a_budget_spent_at_a_round_end_starts_no_new_round(tmp_path, small_config):
    # Relaxation labels: 10 initial + 4 picks spend the 14 calls exactly at round 0's end.
    out = tmp_path / "relaxation"
    config = small_config(rounds=2, iterations=1, label_with="relaxation", budget_calls=14)
    result = Search(config, out, progress=False).run()
    db = connect(out / "sccop.db")
    assert result.stopped == "budget" and result.calls == 14 and result.rounds == 1
    assert len(result.history) == 1
    assert sorted(p.name for p in (out / "models").iterdir()) == ["r0_i0.pt"]
    assert db.count(stage="sample", round=1) == 0
    # Single points: the label budget (16 - relax_top 2) is spent at the end of the first iteration;
    # the second is not trained and the round ends with its relaxations.
    out = tmp_path / "single"
    result = Search(small_config(rounds=1, iterations=2, budget_calls=16), out, progress=False).run()
    db = connect(out / "sccop.db")
    assert result.stopped == "budget" and result.calls == 16
    assert sorted(p.name for p in (out / "models").iterdir()) == ["r0_i0.pt"]
    assert sorted(r.calls for r in db.select(stage="relax")) == [15, 16]
    again = Search(small_config(rounds=1, iterations=2, budget_calls=16), out, progress=False).run()
    assert again.calls == 16 and again.best_energy == pytest.approx(result.best_energy)


def test_label_kind_cannot_change_in_a_folder(tmp_path, small_config):
    out = tmp_path / "run"
    out.mkdir()
    write_settings(small_config(rounds=1), out)
    with pytest.raises(SccopInputError, match=r"other labels.*search.label_with: 'single_point' -> 'relaxation'.*"
                                              r"set \[search\] label_with = 'single_point' to resume it"):
        Search(small_config(rounds=1, label_with="relaxation"), out, progress=False, force=True).run()


def test_unknown_label_kind_is_refused(tmp_path, small_config):
    with pytest.raises(SccopInputError, match=r"\[search\] label_with = 'dft' is not allowed: it must be one of single_point, relaxation"):
        Search(small_config(label_with="dft"), tmp_path / "run", progress=False)


@pytest.mark.slow
def test_chgnet_search_finds_rocksalt(tmp_path):
    """A real end-to-end check: CHGNet, NaCl with 2 atoms, one short round."""
    config = RunConfig(
        composition="NaCl", atoms="2", seed=0,
        search=SearchConfig(rounds=1, samples=60, initial_labels=20, iterations=1, relax_top=3),
    )
    result = Search(config, tmp_path / "nacl", progress=False).run()
    with open(tmp_path / "nacl" / "summary.csv") as fh:
        best = next(csv.DictReader(fh))
    assert best["spacegroup"] == "225" and float(best["energy_per_atom"]) == pytest.approx(result.best_energy, abs=1e-6)


def test_same_seed_same_result(tmp_path, small_config):
    runs = []
    for name in ("a", "b"):
        Search(small_config(rounds=1), tmp_path / name, progress=False).run()
        runs.append((tmp_path / name / "summary.csv").read_text())
    assert runs[0] == runs[1] and runs[0].count("\n") > 1


def dies_once(marker):
    """atoms -> calculator: the first call anywhere kills its worker process (os._exit); then EMT."""
    import os

    from ase.calculators.emt import EMT

    def make(atoms):
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)
        return EMT()

    return make


def test_dask_workers_give_the_same_result_and_survive_a_dead_worker(tmp_path, small_config):
    from sccop.config import ExecutionConfig

    config = small_config(rounds=1)
    reference = Search(config, tmp_path / "here", progress=False).run()
    on_dask = replace(config, execution=ExecutionConfig(workers=2, retries=2))
    result = Search(on_dask, tmp_path / "dask", progress=False, calculator=dies_once(str(tmp_path / "died"))).run()
    assert (tmp_path / "died").exists()  # a worker did die mid-task
    assert result.calls == reference.calls
    assert result.best_energy == pytest.approx(reference.best_energy, abs=1e-9)
    db = connect(tmp_path / "dask" / "sccop.db")
    assert db.count("status=failed") == 0  # its task was retried on a worker that lived
    # Every result stored once: one row per uid, and the same rows as the run that had no worker killed.
    uids = [row.uid for row in db.select()]
    assert len(uids) == len(set(uids))
    here = connect(tmp_path / "here" / "sccop.db")
    assert sorted(uids) == sorted(row.uid for row in here.select())
    assert db.count(backend_call=1) == here.count(backend_call=1) == reference.calls


def test_building_a_search_writes_nothing_and_starts_no_cluster(tmp_path, small_config):
    from sccop.config import ExecutionConfig

    config = replace(small_config(), execution=ExecutionConfig(workers=2))
    Search(config, tmp_path / "new", progress=False)
    assert not (tmp_path / "new").exists()


def test_a_resumed_run_restores_its_finished_phases(tmp_path, monkeypatch, small_config):
    """Killed while labelling in round 1: the resumed run samples, trains and anneals nothing again (the
    cursor restores those phases from the store), reads back the calls it had made, and ends as a run
    that was never killed."""
    import sccop.loop.driver as driver

    config = small_config()
    reference = Search(config, tmp_path / "reference", progress=False).run()
    real = ledger_module.single_points
    made = []

    def dying(structures, *a, **kw):
        if len(made) >= 15:
            raise Interrupt
        made.extend(structures)
        return real(structures, *a, **kw)

    out = tmp_path / "run"
    monkeypatch.setattr(ledger_module, "single_points", dying)
    with pytest.raises(Interrupt):
        Search(config, out, progress=False).run()
    phases = connect(out / "sccop.db").metadata["phases"]
    assert "r0/relax_end" in phases and "r1/learn/0" in phases and "r1/label/1" not in phases
    monkeypatch.setattr(ledger_module, "single_points", real)

    def never(*a, **kw):
        raise AssertionError("a finished phase was computed again")

    for stage in ("sample_pool", "seeded_samples", "train", "learn"):  # rounds 0 and 1 sampled, trained, annealed
        monkeypatch.setattr(driver, stage, never)
    resumed = Search(config, out, progress=False).run()
    assert resumed.calls == reference.calls and resumed.best_energy == pytest.approx(reference.best_energy, abs=1e-9)
    assert resumed.history == pytest.approx(reference.history)
    assert (out / "summary.csv").read_text() == (tmp_path / "reference" / "summary.csv").read_text()


def test_a_resume_that_would_give_a_stored_uid_another_structure_is_refused(tmp_path, monkeypatch, small_config, capsys):
    """Killed after round 1's samples were written but before its cursor was: the resumed run samples
    round 1 again. A sampler that now gives structure 3 a 1% longer cell (as another library version
    might) would attach the stored rows to another structure: the run stops with a one-line error that
    names the row and what differs, and the database is left as it was."""
    from dataclasses import replace as replaced

    from sccop.calls.store import ReplayMismatch
    from sccop.cli.main import main
    from sccop.loop.cursor import Cursor
    from sccop.sampling.sampler import Sampler

    config = small_config()
    out = tmp_path / "run"
    real_finished = Cursor.finished

    def killed_before_the_cursor(self, key, record):
        if key == "r1/pool":
            raise Interrupt
        real_finished(self, key, record)

    monkeypatch.setattr(Cursor, "finished", killed_before_the_cursor)
    with pytest.raises(Interrupt):
        Search(config, out, progress=False).run()
    monkeypatch.setattr(Cursor, "finished", real_finished)
    assert connect(out / "sccop.db").count(stage="sample", round=1) > 3
    before = (out / "sccop.db").read_bytes()
    real_sample = Sampler.sample

    def drifted(self, count, seed=0, **kw):
        found = real_sample(self, count, seed, **kw)
        if kw.get("start"):
            i, s = found[3]
            found[3] = (i, replaced(s, lattice=s.lattice * 1.01))
        return found

    monkeypatch.setattr(Sampler, "sample", drifted)
    with pytest.raises(ReplayMismatch) as error:
        Search(config, out, progress=False).run()
    message = str(error.value)
    assert "r1/sample/" in message and "the cell differs by up to" in message and "\n" not in message
    assert (out / "sccop.db").read_bytes() == before
    args = ["search", "--config", str(out / "config.toml"), "--out", str(out), "--quiet"]
    assert main(args) == 2
    assert capsys.readouterr().err.count("\n") == 1 and (out / "sccop.db").read_bytes() == before


def test_a_second_process_on_a_live_folder_changes_nothing(tmp_path, small_config, held_by_another_process):
    out = tmp_path / "run"
    Search(small_config(rounds=1), out, progress=False).run()

    def snapshot():
        return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.rglob("*")) if p.is_file()}

    with held_by_another_process(out, "a search") as holder:
        before = snapshot()
        other = replace(small_config(rounds=2, samples=40), seed=7)
        with pytest.raises(SccopInputError, match=rf"in use by a search \(process {holder.pid}\)"):
            Search(other, out, force=True, progress=False).run()
        assert snapshot() == before


def test_a_busy_machine_gives_the_same_answer(tmp_path, small_config):
    """Training stops on epochs and patience, not on the clock: a CPU-burning process beside the second
    run changes nothing it computes."""
    import subprocess
    import sys

    config = small_config(rounds=2)
    Search(config, tmp_path / "idle", progress=False).run()
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        Search(config, tmp_path / "busy", progress=False).run()
    finally:
        burner.kill()
        burner.wait()
    assert (tmp_path / "busy" / "summary.csv").read_text() == (tmp_path / "idle" / "summary.csv").read_text()

    def labels(name):
        return [(r.uid, r.energy_per_atom, r.calls) for r in connect(tmp_path / name / "sccop.db").select(backend_call=1, sort="id")]

    assert labels("busy") == labels("idle")


def test_relaxation_paths_teach_the_network_from_the_next_training_on_and_a_resume_restores_them(tmp_path, monkeypatch,
                                                                                               small_config):
    import sccop.model.train as train_module

    trained: list[list[float]] = []
    real = train_module.train_ensemble

    def spy(graphs, energies, *args, **kwargs):
        assert len(graphs) == len(energies)
        trained.append([float(e) for e in energies])
        return real(graphs, energies, *args, **kwargs)

    monkeypatch.setattr(train_module, "train_ensemble", spy)
    config = small_config(learn_frames=3)
    out = tmp_path / "run"
    Search(config, out, progress=False).run()
    db = connect(out / "sccop.db")
    relaxes = [r for r in db.select(stage="relax", status="ok", round=0)]
    assert relaxes and all(0 < len(r.data["frames"]) <= 3 for r in relaxes)
    labels = [r for r in db.select(stage="label", status="ok") if r.get("round") == 0]
    # Round 0's training knew its initial labels alone; round 1's has round 0's labels and path structures, per atom.
    assert sorted(trained[0]) == pytest.approx(sorted(r.energy_per_atom for r in labels if r.iteration == 0))
    path = [f["energy"] / r.natoms for r in relaxes for f in r.data["frames"]]
    assert sorted(trained[1]) == pytest.approx(sorted([r.energy_per_atom for r in labels] + path))
    assert min(path) == pytest.approx(min(r.energy_per_atom for r in relaxes))  # a path ends at its relaxed structure

    # A resumed run rebuilds them from the stored rows: round 1's training is trained again on the same set.
    first = list(trained)
    trained.clear()
    (out / "models" / "r1_i0.pt").unlink()
    Search(config, out, progress=False).run()
    assert trained == [first[1]]


def test_path_structures_are_refused_with_relaxation_labels():
    with pytest.raises(SccopInputError, match="learn_frames = 2 needs label_with = 'single_point'"):
        SearchConfig(learn_frames=2, label_with="relaxation")


def test_family_cap_gives_each_learning_iteration_one_label_per_family(tmp_path, small_config):
    from sccop.calls.rows import from_symmetric_data
    from sccop.config import AnnealConfig, LandscapeConfig

    out = tmp_path / "run"
    # Two starts of ten chains each: without the cap the second iteration labels one family twice (seed 1).
    config = replace(small_config(rounds=1, iterations=2, per_iteration=6, starts=2, label_with="relaxation"),
                     landscape=LandscapeConfig(family_cap=1), anneal=AnnealConfig(steps=10, restarts=10))
    Search(config, out, progress=False).run()
    db = connect(out / "sccop.db")
    by_iteration = {}
    for r in db.select(stage="relax"):
        parent = next(db.select(uid=r.parent))
        family = from_symmetric_data(parent.data["symmetric"]).family()
        by_iteration.setdefault(r.iteration, []).append(family)
    learned = [by_iteration[i] for i in (1, 2)]
    assert all(len(f) == 6 and len(set(f)) == 6 for f in learned)  # six picks, six families each
