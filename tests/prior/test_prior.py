"""The composition -> space-group prior: features of odd formulas, the shipped model loaded with no
network, a split that keeps each formula on one side, and a prior that only proposes groups the cell fits."""

import re
import socket
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from sccop.composition import cell_sizes, parse_composition
from sccop.config import SamplerConfig
from sccop.errors import SccopInputError
from sccop.prior.features import FEATURE_NAMES, composition_features, feature_matrix, parse_counts
from sccop.prior.model import MODEL_FILE, load_model
from sccop.prior.predict import predict_groups
from sccop.prior.training import formula_key, split_by_formula, top_k_accuracy, train_model
from sccop.sampling.sampler import Sampler


def feature(x, name):
    return x[FEATURE_NAMES.index(name)]


def test_features_of_odd_formulas():
    si = composition_features(parse_counts("Si"))
    assert feature(si, "fraction_Z14") == 1.0 and feature(si, "elements") == 1
    assert feature(si, "electronegativity_deviation") == 0.0 and feature(si, "norm_2") == pytest.approx(1.0)
    # The amounts as written do not matter, only the fractions: Ga4Os2 is Ga2Os.
    assert np.array_equal(composition_features(parse_counts("Ga4Os2")), composition_features(parse_counts("Ga2Os")))
    six = composition_features(parse_counts("LiNaKRbCsFr"))
    assert feature(six, "elements") == 6 and feature(six, "Z_min") == 3 and feature(six, "Z_max") == 87
    assert feature(six, "fraction_Z87") == pytest.approx(1 / 6)
    brackets = parse_counts("K3TbSi3(HO5)2")
    assert brackets == {"K": 3, "Tb": 1, "Si": 3, "H": 2, "O": 10}
    heavy = composition_features(parse_counts("OgF2"))  # beyond the fractions kept (Lr): in the statistics only
    assert np.isfinite(heavy).all() and feature(heavy, "Z_max") == 118
    matrix = feature_matrix(["Si", "LiNaKRbCsFr", "K3TbSi3(HO5)2"])
    assert matrix.shape == (3, len(FEATURE_NAMES)) and np.isfinite(matrix).all()
    with pytest.raises(ValueError, match="unknown element Xx in 'Xx2O'"):
        parse_counts("Xx2O")
    for bad in ("", "NaCl-1", "Na(Cl"):
        with pytest.raises(ValueError, match=f"cannot read '{re.escape(bad)}'"):
            parse_counts(bad)


def test_the_shipped_model_loads_with_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the model tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    load_model.cache_clear()
    model = load_model()
    assert MODEL_FILE.stat().st_size < 5e6  # a few MB at most
    assert "CC BY 4.0" in model.info["credit"] and model.info["accuracy"]["model"]["5"] > 0.3
    p = model.probabilities(parse_counts("NaCl"))
    assert p.shape == (230,) and p.sum() == pytest.approx(1.0) and (p > 0).all()
    # Rock salt's group is among the model's first five for NaCl (not a benchmark composition).
    assert 225 in np.argsort(-p)[:5] + 1


def test_a_broken_model_file_is_named(tmp_path):
    bad = tmp_path / "model.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(SccopInputError, match=f"cannot read the space-group model {bad}"):
        load_model(bad)


def test_the_split_keeps_every_formula_on_one_side():
    formulas = ["NaCl", "Na2Cl2", "ClNa", "KBr", "MgO", "Mg2O2", "SiO2", "TiO2", "ZnS", "GaAs"] * 3
    kept, held = split_by_formula(formulas, 0.3, seed=1)
    assert sorted(np.concatenate([kept, held]).tolist()) == list(range(len(formulas)))
    assert not {formula_key(formulas[i]) for i in kept} & {formula_key(formulas[i]) for i in held}
    assert formula_key("Na2Cl2") == formula_key("ClNa") == "Cl1Na1"
    p = np.zeros((2, 230))
    p[0, [224, 10]] = [0.6, 0.4]
    p[1, [0, 1, 2, 3, 4, 5]] = [0.3, 0.2, 0.15, 0.14, 0.11, 0.1]
    assert top_k_accuracy(p, np.array([225, 6]), ks=(1, 5, 10)) == {1: 0.5, 5: 0.5, 10: 1.0}


def test_a_trained_model_saves_and_loads_as_numbers_only(tmp_path):
    rng = np.random.default_rng(0)
    formulas = ["NaCl", "KCl", "MgO", "CaO", "Si", "Ge", "GaAs", "ZnS"] * 8
    groups = np.array([225, 225, 225, 225, 227, 227, 216, 216] * 8)
    x = feature_matrix(formulas) + rng.normal(0, 1e-3, (len(formulas), len(FEATURE_NAMES)))
    model = train_model(x, groups, (x[:8], groups[:8]), hidden=32, epochs=80, patience=80, batch=16, lr=3e-3,
                        log=lambda _: None)
    assert top_k_accuracy(model.probabilities_of(x), groups, ks=(1,))[1] == 1.0  # it learns a separable toy
    model.save(tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    assert np.allclose(back.probabilities_of(x), model.probabilities_of(x), atol=2e-2)  # weights kept as float16
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


def test_the_prior_only_proposes_groups_the_cell_fits():
    from pyxtal.symmetry import Group

    composition = parse_composition("NaCl")
    units = cell_sizes(composition, "2")
    votes = predict_groups(composition, units, top=230)
    assert votes and sum(v.probability for v in votes) == pytest.approx(1.0)
    assert [v.probability for v in votes] == sorted((v.probability for v in votes), reverse=True)
    for vote in votes:  # an independent check: PyXtal's own Wyckoff compatibility for the conventional cell
        factor = {"P": 1, "A": 2, "B": 2, "C": 2, "I": 2, "R": 3, "F": 4}[vote.symbol[0]]
        assert Group(vote.group).check_compatible([factor, factor])[0], vote
    fitting = {g for g in range(1, 231) if Group(g).check_compatible(
        [n * {"P": 1, "A": 2, "B": 2, "C": 2, "I": 2, "R": 3, "F": 4}[Group(g).symbol[0]] for n in (1, 1)])[0]}
    assert {v.group for v in votes} == fitting
    # The sampler mixes the model in: every group still drawable, the model's favourite drawn more often.
    plain = Sampler(composition, units, SamplerConfig())
    mixed = Sampler(composition, units, SamplerConfig(group_prior="model", prior_weight=0.5))
    assert [g.number for g, _ in plain.options] == [g.number for g, _ in mixed.options]
    assert mixed.group_probabilities.sum() == pytest.approx(1.0) and (mixed.group_probabilities > 0).all()
    first = [g.number for g, _ in mixed.options].index(votes[0].group)
    assert mixed.group_probabilities[first] > plain.group_probabilities[first]
    drawn = Counter(s.spacegroup for _, s in mixed.sample(60, seed=3))
    assert set(drawn) <= fitting and drawn[votes[0].group] >= max(drawn.values()) / 2


def test_the_prior_needs_3d_and_a_known_name():
    with pytest.raises(SccopInputError, match="group_prior = 'kde' is not allowed"):
        SamplerConfig(group_prior="kde")
    with pytest.raises(SccopInputError, match="needs dim = 3"):
        Sampler(parse_composition("C"), [2], SamplerConfig(dim=2, group_prior="model"))


def test_predict_groups_command():
    out = subprocess.run([sys.executable, "-m", "sccop", "predict-groups", "NaCl", "--atoms", "2", "--top", "3"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines() if line and not line.startswith(("#", "rank"))]
    assert [r[0] for r in rows] == ["1", "2", "3"] and "225" in [r[1] for r in rows]
    assert "CC BY 4.0" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "sccop", "predict-groups", "Xx2O"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "Xx" in bad.stderr


def test_a_search_with_the_prior_records_it(tmp_path, small_config):
    import tomllib
    from dataclasses import replace

    from sccop.loop.driver import Search

    config = small_config(rounds=1)
    config = replace(config, sampler=replace(config.sampler, group_prior="model", prior_weight=0.7))
    result = Search(config, tmp_path / "run", progress=False).run()
    assert result.calls > 0
    recorded = tomllib.loads((tmp_path / "run" / "config.toml").read_text())["sampler"]
    assert recorded["group_prior"] == "model" and recorded["prior_weight"] == 0.7
    assert "group prior: the composition -> space-group model, weight 0.7" in (tmp_path / "run" / "sccop.log").read_text()
