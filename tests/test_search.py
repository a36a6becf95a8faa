"""The search loop end to end with EMT: outputs, resume without repeated calls, failures, config checks."""

import csv
from dataclasses import replace

import numpy as np
import pytest
from ase.db import connect

import sccop.search as search_module
from sccop.config import AnnealConfig, BackendConfig, RunConfig, SearchConfig, TrainConfig
from sccop.errors import SccopInputError
from sccop.search import Search


def small_config(**search) -> RunConfig:
    return RunConfig(
        composition="CuAu",
        atoms="2-4",
        seed=1,
        backend=BackendConfig(name="emt"),
        train=TrainConfig(members=2, epochs=40, patience=10),
        anneal=AnnealConfig(steps=10, restarts=2),
        search=SearchConfig(**{
            "rounds": 2, "samples": 30, "initial_labels": 10, "iterations": 1, "per_iteration": 4, "starts": 4,
            "relax_top": 2, "seed_samples": 3, "chunk": 3, **search,
        }),
    )


def test_search_end_to_end(tmp_path):
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
    from sccop.store import from_symmetric_data

    row = next(db.select(stage="anneal"))
    rebuilt = from_symmetric_data(row.data["symmetric"]).to_atoms(primitive=False)
    assert np.allclose(rebuilt.cell[:], row.cell) and np.allclose(rebuilt.positions, row.positions)
    assert list(rebuilt.numbers) == list(row.numbers)
    assert db.metadata["config"]["composition"] == "CuAu"
    assert (out / "config.toml").exists()
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


def test_learning_never_labels_a_structure_twice(tmp_path):
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


def test_resume_after_a_crash_repeats_no_call(tmp_path, monkeypatch):
    config = small_config()
    reference = Search(config, tmp_path / "reference", progress=False).run()

    calls: list[str] = []
    real_single, real_relax = search_module.single_points, search_module.relax_many

    def counting(real, kind, limit=None):
        def call(structures, *a, **kw):
            if limit is not None and len(calls) >= limit:
                raise Interrupt  # the process dies here: nothing of this chunk is written
            calls.extend(f"{kind}:{s.get_chemical_formula()}" for s in structures)
            return real(structures, *a, **kw)
        return call

    out = tmp_path / "crashed"
    monkeypatch.setattr(search_module, "single_points", counting(real_single, "label", limit=17))
    monkeypatch.setattr(search_module, "relax_many", counting(real_relax, "relax", limit=17))
    with pytest.raises(Interrupt):
        Search(config, out, progress=False).run()
    first = list(calls)
    written = connect(out / "sccop.db").count("backend_call=1")
    assert 0 < written <= len(first)

    calls.clear()
    monkeypatch.setattr(search_module, "single_points", counting(real_single, "label"))
    monkeypatch.setattr(search_module, "relax_many", counting(real_relax, "relax"))
    resumed = Search(config, out, progress=False).run()
    # Only the chunk in flight at the crash (if any) is computed again; every written call is read back.
    # The refinement's relaxations (after the search, through the same executor) come on top.
    db = connect(out / "sccop.db")
    assert len(calls) == db.count("backend_call=1") - written + db.count("refine_call=1")
    assert resumed.calls == reference.calls
    assert resumed.best_energy == pytest.approx(reference.best_energy, abs=1e-9)
    assert len(db) == len(connect(tmp_path / "reference" / "sccop.db"))


def test_failing_backend_calls_are_recorded_and_the_run_goes_on(tmp_path):
    from sccop.testing import sometimes_failing

    out = tmp_path / "run"
    result = Search(small_config(), out, progress=False, calculator=sometimes_failing(3)).run()
    db = connect(out / "sccop.db")
    failed = list(db.select(status="failed"))
    assert failed and all("boom" in row.reason for row in failed)
    assert db.count("backend_call=1,status=ok") > 0 and result.best_energy is not None


def test_call_budget_and_changed_config(tmp_path):
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
    with pytest.raises(SccopInputError, match="seed: 1 -> 2"):
        Search(changed, out, progress=False)
    Search(changed, out, progress=False, force=True)  # --force accepts it
    # A run written before a setting existed resumes while the setting keeps its default.
    import tomllib

    import tomli_w

    saved = tomllib.loads((out / "config.toml").read_text())
    del saved["search"]["relax_each"]
    (out / "config.toml").write_text(tomli_w.dumps(saved))
    Search(changed, out, progress=False)
    (out / "config.toml").write_text(tomli_w.dumps(saved))
    with pytest.raises(SccopInputError, match="search.relax_each: 0 -> 2"):
        Search(replace(changed, search=replace(changed.search, relax_each=2)), out, progress=False)


def test_relax_each_relaxes_during_the_round_and_resumes(tmp_path):
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


def test_relax_each_leaves_the_last_calls_of_a_budget_to_the_round_end(tmp_path):
    out = tmp_path / "run"
    result = Search(small_config(rounds=1, iterations=2, relax_each=2, budget_calls=17), out, progress=False).run()
    db = connect(out / "sccop.db")
    assert result.stopped == "budget" and result.calls == 17
    # Labels 1-10, two relaxations (11-12), labels up to the label budget (15), relax_top (2) at 16-17.
    relaxed = sorted(r.calls for r in db.select(stage="relax"))
    assert relaxed == [11, 12, 16, 17]


def test_relaxation_labels_train_on_relaxed_energies_and_use_the_whole_budget(tmp_path):
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


def test_a_budget_spent_at_a_round_end_starts_no_new_round(tmp_path):
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


def test_relaxation_labels_seed_from_distinct_structures(tmp_path):
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.io.ase import AseAtomsAdaptor

    search = Search(small_config(rounds=1, iterations=1, label_with="relaxation"), tmp_path / "run", progress=False)
    search.run()
    ranked = sorted(search.relaxed, key=search.relaxed.get)
    structures = {u: AseAtomsAdaptor.get_structure(search.store.get(u).toatoms()) for u in ranked}
    matcher = StructureMatcher()
    same = lambda a, b: matcher.fit(structures[a], structures[b])  # noqa: E731
    assert same(ranked[0], ranked[1])  # the lowest relaxations are copies of one structure
    parents = search._seed_parents()
    assert len(parents) == 3 and parents[0] == ranked[0]
    assert not any(same(a, b) for i, a in enumerate(parents) for b in parents[i + 1 :])
    for uid in ranked[: ranked.index(parents[-1])]:  # every structure passed over is a copy of one kept
        assert uid in parents or any(same(uid, p) for p in parents)


def test_label_kind_cannot_change_in_a_folder(tmp_path):
    out = tmp_path / "run"
    Search(small_config(rounds=1), out, progress=False)
    with pytest.raises(SccopInputError, match="other labels.*search.label_with: 'single_point' -> 'relaxation'"):
        Search(small_config(rounds=1, label_with="relaxation"), out, progress=False, force=True)


def test_unknown_label_kind_is_refused(tmp_path):
    with pytest.raises(SccopInputError, match="unknown search.label_with 'dft'.*single_point, relaxation"):
        Search(small_config(label_with="dft"), tmp_path / "run", progress=False)


def test_cli_search_with_a_toml_config(tmp_path, capsys):
    import tomli_w

    from sccop.cli.main import main
    from sccop.config import to_dict

    settings = to_dict(small_config(rounds=1))
    settings.pop("composition")
    (tmp_path / "run.toml").write_text(tomli_w.dumps(settings))
    out = tmp_path / "cli"
    assert main(["search", "CuAu", "--config", str(tmp_path / "run.toml"), "--out", str(out), "--quiet"]) == 0
    assert "backend calls" in capsys.readouterr().out
    assert (out / "summary.csv").exists()
    # Re-ranking added to the finished run: a plain resume that relaxes the top 2 with the second backend.
    args = ["search", "CuAu", "--config", str(tmp_path / "run.toml"), "--out", str(out), "--quiet",
            "--rerank", "lj", "--rerank-top", "2"]
    calls = connect(out / "sccop.db").count(backend_call=1)
    assert main(args) == 0
    assert "(lj: space group" in capsys.readouterr().out
    assert connect(out / "sccop.db").count(backend_call=1) == calls  # no search call was made again
    with open(out / "summary.csv") as fh:
        lines = list(csv.DictReader(fh))
    assert [line["rerank_backend"] for line in lines[:2]] == ["lj", "lj"]
    assert float(lines[0]["rerank_above_best"]) == 0.0
    assert all(not line["rerank_backend"] for line in lines[2:])
    assert connect(out / "sccop.db").count(stage="rerank") == 2
    assert main(["search", "Xx2O", "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    assert "Xx" in capsys.readouterr().err


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


def test_same_seed_same_result(tmp_path):
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


def test_dask_workers_give_the_same_result_and_survive_a_dead_worker(tmp_path):
    from sccop.config import ExecutionConfig

    config = small_config(rounds=1)
    reference = Search(config, tmp_path / "here", progress=False).run()
    on_dask = replace(config, execution=ExecutionConfig(workers=2, retries=2))
    result = Search(on_dask, tmp_path / "dask", progress=False, calculator=dies_once(str(tmp_path / "died"))).run()
    assert (tmp_path / "died").exists()  # a worker did die mid-task
    assert result.calls == reference.calls
    assert result.best_energy == pytest.approx(reference.best_energy, abs=1e-9)
    assert connect(tmp_path / "dask" / "sccop.db").count("status=failed") == 0  # its task was retried


def test_report_is_one_offline_page(tmp_path):
    import base64
    import re

    from sccop.cli.main import main
    from sccop.report import write_report

    out = tmp_path / "run"
    Search(small_config(rounds=1), out, progress=False).run()
    saved = sorted(p.name for p in (out / "landscape").iterdir())
    assert saved == ["r0_i0.npz"]
    with np.load(out / "landscape" / "r0_i0.npz") as d:
        assert d["embedding"].shape == (len(d["regions"]), 2) and np.isfinite(d["backend"]).any()
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    with open(out / "summary.csv") as fh:
        summary = list(csv.DictReader(fh))
    # Nothing is fetched: every image is inlined PNG data, no external source.
    assert not re.search(r"(src|href)=['\"](?!data:)", page)
    images = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    # progress, landscape, distributions, space groups, and one drawing per top structure
    assert len(images) == 4 + min(6, len(summary))
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    for heading in ("Best energy vs backend calls", "Landscape map", "Energy distributions per round",
                    "Space groups sampled and found", "Top structures"):
        assert heading in page
    assert summary[0]["energy_per_atom"] in page and "CuAu" in page
    # A directory without a search gets a clear error.
    with pytest.raises(SccopInputError, match="no sccop.db"):
        write_report(tmp_path / "empty")
