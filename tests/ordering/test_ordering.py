"""Ordering on a fixed lattice: templates, vacancies, symmetry-merged arrangements, the loop, analyze."""

import json
from dataclasses import replace

import numpy as np
import pytest
from ase.build import bulk
from ase.io import write

from sccop.cli.main import main
from sccop.config import (
    BackendConfig,
    OrderingConfig,
    RelaxConfig,
    RunConfig,
    SearchConfig,
    TrainConfig,
)
from sccop.errors import SccopInputError
from sccop.ordering.arrangement import (
    Graphs,
    canonical_many,
    count_arrangements,
    distinct_arrangements,
    key,
    random_codes,
    to_atoms,
)
from sccop.ordering.search import OrderingSearch, order
from sccop.ordering.template import load_template, parse_amounts


@pytest.fixture
def fcc(tmp_path):
    path = tmp_path / "fcc.cif"
    write(path, bulk("Cu", "fcc", a=3.7, cubic=True))
    return path


@pytest.fixture
def rocksalt(tmp_path):
    path = tmp_path / "NaCl.cif"
    write(path, bulk("NaCl", "rocksalt", a=5.6, cubic=True))
    return path


def tiny_config(**ordering):
    return RunConfig(seed=3, backend=BackendConfig(name="emt"), train=TrainConfig(members=2, epochs=40, patience=10),
                     search=SearchConfig(relax_top=2, chunk=4),
                     ordering=OrderingConfig(**{"rounds": 3, "labels": 4, "chains": 4, "steps": 20, **ordering}))


def test_amounts_with_vacancies_and_bad_symbols():
    assert parse_amounts("Cu1In5Vac2Se8") == {"Cu": 1, "In": 5, "Vac": 2, "Se": 8}
    with pytest.raises(SccopInputError, match="unknown element 'Xx'"):
        parse_amounts("CuXx2")
    with pytest.raises(SccopInputError, match="cannot parse"):
        parse_amounts("Cu(2")
    with pytest.raises(SccopInputError, match="no atoms"):
        parse_amounts("Vac3")


def test_compositions_that_do_not_fit_the_sublattice_are_refused(fcc, rocksalt):
    with pytest.raises(SccopInputError, match="not a whole number"):
        load_template(fcc, "Cu2AuVac3")  # 6 sites per formula on a 4-site cell
    with pytest.raises(SccopInputError, match="must fill the sublattice exactly"):
        load_template(rocksalt, "Na2KVacCl4", sites="Na=Na,K")  # Na2 K1 on a 4-site Na sublattice
    with pytest.raises(SccopInputError, match="not a species of the template"):
        load_template(rocksalt, "NaKCl2", sites="Au")
    with pytest.raises(SccopInputError, match="fixed Cl sites"):
        load_template(rocksalt, "Na5KCl2", sites="Na", supercell="1x1x1")  # the Cl sites need 4 Cl
    with pytest.raises(SccopInputError, match="one arrangement only"):
        load_template(rocksalt, "NaCl", sites="Na")
    with pytest.raises(SccopInputError, match="supercell"):
        load_template(fcc, "Cu3Au", supercell="2x0x1")


def test_sublattices_keep_fixed_sites_and_supercells_grow_them(rocksalt):
    t = load_template(rocksalt, "Na3VacCl4", sites="Na", supercell="2x1x1")
    assert len(t.atoms) == 16 and len(t.fixed) == 8
    assert t.sublattices[0].counts == (("Na", 6), ("Vac", 2))
    atoms, vacancies = to_atoms(t, random_codes(t, np.random.default_rng(0)))
    assert atoms.get_chemical_formula() == "Cl8Na6" and len(vacancies) == 2
    by_atoms = load_template(rocksalt, "Na3VacCl4", sites="Na", atoms_range=(14, 14))
    assert len(by_atoms.atoms) == 16


def _merged_by_matcher(template, rows) -> int:
    """Independent count: StructureMatcher groups of the arrangements, vacancies as a stand-in element."""
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.io.ase import AseAtomsAdaptor

    structures = []
    for codes in rows:
        atoms = template.atoms.copy()
        symbols = atoms.get_chemical_symbols()
        for site, code in zip(template.ordered, codes):
            name = template.species[int(code)]
            symbols[site] = "He" if name == "Vac" else name
        atoms.set_chemical_symbols(symbols)
        structures.append(AseAtomsAdaptor.get_structure(atoms))
    matcher = StructureMatcher(primitive_cell=False, scale=False, attempt_supercell=False, ltol=0.05, stol=0.05,
                               angle_tol=1)
    return len(matcher.group_structures(structures))


@pytest.mark.parametrize("composition,supercell", [("Cu2AuVac", None), ("Cu3Au", "2x1x1")])
def test_equivalent_arrangements_are_one_candidate(fcc, composition, supercell):
    t = load_template(fcc, composition, supercell=supercell)
    distinct = distinct_arrangements(t)
    everything = np.array([random_codes(t, np.random.default_rng(k)) for k in range(400)])
    assert {key(c) for c in canonical_many(t, everything)} == {key(c) for c in distinct}  # every draw lands on one
    assert len(distinct) == _merged_by_matcher(t, distinct) == _merged_by_matcher(t, everything)
    assert len(distinct) < count_arrangements(t)


def test_arrangement_graphs_give_equivalent_arrangements_one_prediction(fcc):
    from sccop.model.train import train_ensemble

    t = load_template(fcc, "Cu2AuVac", supercell="2x1x1")
    graphs = Graphs(t)
    codes = random_codes(t, np.random.default_rng(1))
    g = graphs(codes)
    assert g.n_nodes == len(t.atoms) and g.weights.sum() == len(t.atoms) - 2  # vacancies pass messages, not pooled
    rows = [random_codes(t, np.random.default_rng(k)) for k in range(8)]
    ensemble, _ = train_ensemble([graphs(r) for r in rows], np.linspace(0, 1, 8), TrainConfig(members=2, epochs=5),
                                 np.random.default_rng(0))
    images = codes[t.permutations]
    mean, _ = ensemble.predict([graphs(r) for r in images])
    assert np.ptp(mean) < 1e-5


def test_an_ordering_run_with_vacancies_end_to_end_and_resumed(fcc, tmp_path):
    out = tmp_path / "run"
    result = order("Cu2AuVac", fcc, out, supercell="2x1x1", config=tiny_config())
    assert result.distinct is not None and result.best_energy is not None
    from sccop.calls.store import open_store

    store = open_store(out, tiny_config())
    t = load_template(fcc, "Cu2AuVac", supercell="2x1x1")
    labels = store.rows(stage="label")
    assert labels and all(r.get("status") == "ok" for r in labels)
    for r in labels:  # every label is named by the canonical form of the structure it labels
        arrangement = store.get(r.get("parent")).data["ordering"]["codes"]
        assert key(canonical_many(t, np.array([arrangement]))[0]) == r.get("arrangement")
        assert len(r.toatoms()) == 6  # 8 sites, 2 vacant
    assert len({r.get("arrangement") for r in labels}) == len(labels)
    relaxed = store.rows(stage="relax")
    assert 1 <= len(relaxed) <= 2
    summary = (out / "summary.csv").read_text()
    calls = store.count(backend_call=1)
    again = order("Cu2AuVac", fcc, out, supercell="2x1x1", config=tiny_config())
    assert open_store(out, tiny_config()).count(backend_call=1) == calls == again.calls  # nothing is made twice
    assert (out / "summary.csv").read_text() == summary
    other = order("Cu2AuVac", fcc, tmp_path / "same-seed", supercell="2x1x1", config=tiny_config())
    assert other.history == result.history


def test_the_budget_holds_and_annealing_supplies_candidates_on_large_spaces(fcc, tmp_path, monkeypatch):
    import sccop.ordering.search as search

    monkeypatch.setattr(search, "ENUMERATE", 10)  # force the annealing path
    config = replace(tiny_config(), search=SearchConfig(relax_top=1, budget_calls=9, chunk=4))
    result = order("Cu2AuVac", fcc, tmp_path / "run", supercell="2x1x1", config=config)
    assert result.distinct is None and result.calls <= 9
    assert result.stopped in ("budget", "converged", "rounds")


def test_search_cli_orders_on_a_template_and_analyze_counts_shells(rocksalt, tmp_path, capsys):
    toml = tmp_path / "small.toml"
    toml.write_text("[ordering]\nrounds = 2\nlabels = 4\nsteps = 10\nchains = 2\n[train]\nmembers = 2\nepochs = 30\n"
                    "[search]\nrelax_top = 1\n[relax]\nsteps = 1\n")  # one step: the shells stay those of the template
    out = tmp_path / "run"
    code = main(["search", "Na3VacCl4", "--template", str(rocksalt), "--sites", "Na", "--backend", "lj", "--fixed-cell",
                 "--config", str(toml), "--out", str(out), "--quiet"])
    assert code == 0
    assert "ordered Na3VacCl4" in capsys.readouterr().out
    assert main(["analyze", str(out), "--center", "Cl", "--top", "1", "--oxidation", "Na=1,Cl=-1"]) == 0
    payload = json.loads((out / "coordination.json").read_text())
    patterns = payload["structures"][0]["patterns"]
    assert sum(patterns.values()) == 4  # every Cl centre once
    for name, k in payload["structures"][0]["k"].items():  # 6 cation sites around each Cl: Na and Vac
        na = int(name.split("Na")[1].split("Vac")[0]) if "Na" in name else 0
        assert k == na and (name.endswith(f"Vac{6 - na}") or (na == 6 and "Vac" not in name))
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "Coordination around Cl" in page and "Na" in page
    assert main(["analyze", str(out), "--center", "Au"]) == 2
    assert "--center Au" in capsys.readouterr().err


def test_a_misfit_composition_is_one_line_on_the_command_line(fcc, tmp_path, capsys):
    code = main(["search", "Cu2AuVac3", "--template", str(fcc), "--backend", "emt", "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "not a whole number" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_ordering_refuses_a_backend_that_cannot_treat_an_element(rocksalt, tmp_path):
    config = replace(tiny_config(), composition="Na3VacCl4", ordering=OrderingConfig(template=str(rocksalt), sites="Na"))
    with pytest.raises(SccopInputError):
        OrderingSearch(config, tmp_path / "r").run()  # EMT has no Na or Cl
    assert not (tmp_path / "r" / "sccop.db").exists()


def test_valence_prior_ranks_by_pauling_and_leads_round_0(tmp_path):
    """Cu4In4 on the 8 cation sites of chalcopyrite CuInSe2: every Se keeps Pauling's rule (2 Cu + 2 In give
    it 2) in the chalcopyrite ordering itself and in none with a Se next to 3 In; the prior ranks by that,
    round 0 labels the lowest, and an alloy (no oxidation states) has no prior."""
    from ase.spacegroup import crystal

    from sccop.ordering.valence import ValencePrior

    cis = crystal(["Cu", "In", "Se"], basis=[(0, 0, 0), (0, 0, 0.5), (0.2271, 0.25, 0.125)], spacegroup=122,
                  cellpar=[5.782, 5.782, 11.619, 90, 90, 90])
    path = tmp_path / "CuInSe2.cif"
    write(path, cis)
    template = load_template(path, "CuInSe2", "Cu,In", None, None)
    prior = ValencePrior(template)
    assert prior.available and prior.states["Cu"] == 1 and prior.states["In"] == 3 and prior.states["Se"] == -2
    own = np.array([template.species.index(template.atoms[i].symbol) for i in template.ordered])
    assert prior.deviation(own)[0] == pytest.approx(0.0)  # chalcopyrite keeps the rule at every Se
    pool = distinct_arrangements(template)
    deviation = prior.deviation(pool)
    # A Se with 3 In and 1 Cu receives 10/4 = 2.5: off by 0.5, squared 0.25 a Se.
    assert deviation.min() == pytest.approx(0.0) and np.allclose(deviation * 4, np.round(deviation * 4))
    first = prior.lowest(pool, 3, np.random.default_rng(0))
    assert all(deviation[k] <= np.sort(deviation)[2] + 1e-12 for k in first)
    # Round 0 of a run labels the lowest-deviation arrangements (EMT has no Se: Lennard-Jones stands in).
    from ase.calculators.lj import LennardJones

    config = replace(tiny_config(rounds=1, labels=4), composition="CuInSe2", relax=RelaxConfig(steps=5),
                     backend=BackendConfig(name="ase"),
                     ordering=replace(tiny_config().ordering, rounds=1, labels=4, template=str(path), sites="Cu,In"))
    result = OrderingSearch(config, tmp_path / "run", progress=False, calculator=LennardJones()).run()
    from sccop.calls.store import Store
    from sccop.ordering.arrangement import from_key

    labelled = [from_key(r.arrangement) for r in Store(tmp_path / "run" / "sccop.db").rows(stage="label")]
    assert result.calls >= 4 and np.allclose(prior.deviation(np.array(labelled)), 0.0)
    fcc_alloy = tmp_path / "fcc.cif"
    write(fcc_alloy, bulk("Cu", "fcc", a=3.7, cubic=True))
    assert not ValencePrior(load_template(fcc_alloy, "CuAu", None, None, None)).available
