"""Training on a tiny synthetic data set: the loss goes down and held-out points beat the mean."""

import numpy as np
import pytest
import torch

from sccop.composition import parse_composition
from sccop.config import GraphConfig, SamplerConfig, TrainConfig
from sccop.graph import au_graph, batch_graphs
from sccop.model.cgcnn import GraphTensors, to_tensors
from sccop.model.train import clean_targets, train_ensemble
from sccop.sampling.sampler import Sampler


def synthetic_energy(graph):
    """A smooth pair sum per atom that depends on distances and on which elements meet."""
    same = graph.numbers[graph.src] == graph.numbers[graph.dst]
    pair = np.where(same, 1.0, -1.5) * np.exp(-((graph.distances - 2.2) ** 2) / 0.5)
    per_node = np.bincount(graph.src, weights=pair, minlength=graph.n_nodes)
    return float((graph.weights * per_node).sum() / graph.weights.sum())


@pytest.fixture(scope="module")
def data():
    sampler = Sampler(parse_composition("MgO"), [1, 2, 3, 4], SamplerConfig())
    graphs = [au_graph(s) for _, s in sampler.sample(130, seed=3)]
    return graphs, np.array([synthetic_energy(g) for g in graphs])


def test_training_beats_the_mean_on_held_out_points(data):
    graphs, y = data
    train, test = slice(0, 100), slice(100, None)
    config = TrainConfig(members=3, epochs=120, patience=25, max_seconds=60)
    ensemble, report = train_ensemble(graphs[train], y[train], config, np.random.default_rng(0))
    assert len(ensemble.members) == 3 and report.used + report.dropped == 100
    mean, spread = ensemble.predict(graphs[test])
    model_mae = np.abs(mean - y[test]).mean()
    baseline_mae = np.abs(y[train].mean() - y[test]).mean()
    assert model_mae < 0.6 * baseline_mae, (model_mae, baseline_mae)
    assert spread.shape == mean.shape and (spread >= 0).all() and spread.max() > 0
    assert ensemble.crystal_vectors(graphs[:5]).shape == (5, 128)
    # Warm start: a second round from these weights begins where the first ended.
    again, report2 = train_ensemble(graphs[train], y[train], TrainConfig(members=3, epochs=1, max_seconds=10),
                                    np.random.default_rng(1), previous=ensemble)
    assert np.abs(again.predict(graphs[test])[0] - y[test]).mean() < baseline_mae


def test_outliers_and_non_finite_targets_are_dropped():
    y = np.array([0.0, 0.1, -0.1, 0.05] * 10 + [np.nan, 50.0])
    keep = clean_targets(y, 3.0)
    assert keep[:40].all() and not keep[40] and not keep[41]


def test_thread_setting_gives_the_same_model_and_is_restored(data):
    import torch

    graphs, y = data
    before = torch.get_num_threads()
    results = []
    for threads in (1, 0):  # one thread, and torch's own setting
        ensemble, _ = train_ensemble(graphs[:40], y[:40], TrainConfig(members=1, epochs=5, threads=threads),
                                     np.random.default_rng(0))
        assert torch.get_num_threads() == before
        results.append(ensemble.predict(graphs[40:60])[0])
        assert torch.get_num_threads() == before
    # The thread count changes the summation order only.
    assert np.allclose(results[0], results[1], atol=1e-4)


def test_training_does_not_read_the_clock_unless_capped(data, monkeypatch, caplog):
    """A clock that jumps 1000 s at every reading (a very busy machine) gives the same ensemble: training
    stops on epochs and patience. An explicit cap then stops each member after its first epoch, and says so."""
    import itertools
    import logging

    import sccop.model.train as train_module

    graphs, y = data
    config = TrainConfig(members=2, epochs=30, patience=10**6)
    calm, calm_report = train_ensemble(graphs[:40], y[:40], config, np.random.default_rng(5))
    ticks = itertools.count(step=1000.0)
    monkeypatch.setattr(train_module.time, "perf_counter", lambda: next(ticks))
    busy, busy_report = train_ensemble(graphs[:40], y[:40], config, np.random.default_rng(5))
    assert busy_report.epochs == calm_report.epochs
    assert np.array_equal(busy.predict(graphs[40:60])[0], calm.predict(graphs[40:60])[0])
    with caplog.at_level(logging.WARNING, logger="sccop.model.train"):
        capped, capped_report = train_ensemble(graphs[:40], y[:40], TrainConfig(members=2, epochs=30, patience=10**6,
                                                                              max_seconds=120.0), np.random.default_rng(5))
    assert "stopped by train.max_seconds after 1 of 30 epochs" in caplog.text
    assert not np.array_equal(capped.predict(graphs[40:60])[0], calm.predict(graphs[40:60])[0])


def test_cached_batches_are_the_tensors_built_from_scratch(data):
    graphs, _ = data
    tensors = GraphTensors(graphs, GraphConfig())
    for indices in ([0], [5, 2, 9, 2], list(range(len(graphs)))[::-3]):
        cached = tensors.batch(indices)
        fresh = to_tensors(batch_graphs([graphs[i] for i in indices]), GraphConfig())
        assert cached.keys() == fresh.keys()
        assert cached["n_graphs"] == fresh["n_graphs"] == len(indices)
        for key, value in fresh.items():
            if key != "n_graphs":
                assert cached[key].dtype == value.dtype and torch.equal(cached[key], value), key
    lean, full = batch_graphs(graphs[:3], distances=False), batch_graphs(graphs[:3])
    assert "distances" not in lean and lean.keys() == full.keys() - {"distances"}
    assert all(np.array_equal(lean[key], full[key]) for key in lean)
