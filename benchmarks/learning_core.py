"""Benchmarks of the learning core, each a ratio measured in this one run (CPU, 2 cores).

(a) Network scoring throughput, graph building included, vs CHGNet single points on the same structures.
(b) Asymmetric-unit graph vs whole-cell graph (conventional cell), build + score, per crystal system.
(c) Learning curve: held-out MAE after 30, 60 and 120 CHGNet labels of one composition vs the mean.
(d) Annealing steps per second (chains in lockstep, scored by a 3-member ensemble).

Usage: python benchmarks/learning_core.py
"""

from __future__ import annotations

import time
import warnings
from collections import defaultdict

import numpy as np

warnings.filterwarnings("ignore")


def sample(formula, units, count, seed, groups=None):
    from sccop.composition import parse_composition
    from sccop.config import SamplerConfig
    from sccop.sampling.sampler import Sampler

    cfg = SamplerConfig(spacegroups=tuple(groups)) if groups else SamplerConfig()
    return [s for _, s in Sampler(parse_composition(formula), units, cfg).sample(count, seed=seed)]


def main() -> None:
    import torch

    from sccop.anneal import anneal
    from sccop.config import AnnealConfig, BackendConfig, TrainConfig
    from sccop.graph import au_graph, batch_graphs, cell_graph
    from sccop.model import CGCNN, to_tensors
    from sccop.model.train import train_ensemble
    from sccop.relaxation import single_points

    torch.manual_seed(0)
    model = CGCNN().eval()

    def score(graphs):
        with torch.no_grad():
            return model(to_tensors(batch_graphs(graphs))).numpy()

    # (a) scoring vs CHGNet
    structures = sample("SrTiO3", [1, 2, 3, 4], 200, seed=1)
    atoms = [s.to_atoms() for s in structures]
    backend = BackendConfig(name="chgnet")
    single_points(atoms[:1], backend)  # load CHGNet first
    t = time.perf_counter()
    results = single_points(atoms, backend)
    chgnet_s = (time.perf_counter() - t) / len(atoms)
    score([au_graph(s) for s in structures[:10]])  # warm up the network too
    timings = []
    for _ in range(3):
        t = time.perf_counter()
        score([au_graph(s) for s in structures])
        timings.append((time.perf_counter() - t) / len(structures))
    net_s = float(np.median(timings))  # median of 3 passes
    ok = sum(r.ok for r in results)
    print(f"(a) SrTiO3 5-20 atoms, {len(atoms)} structures ({ok} CHGNet ok): CHGNet {1 / chgnet_s:.1f}/s, "
          f"network {1 / net_s:.1f}/s (graphs built), ratio {chgnet_s / net_s:.0f}x")

    # (b) asymmetric-unit vs whole-cell graphs per crystal system
    per_system = defaultdict(list)
    for formula, units in (("MgO", [2, 4]), ("SrTiO3", [1, 2]), ("C", [4, 8])):
        for s in sample(formula, units, 120, seed=2):
            per_system[s.group.lattice_system].append(s)
    print("(b) system        structures  atoms/orbit  AU ms  cell ms  speed-up")
    for system in ["triclinic", "monoclinic", "orthorhombic", "tetragonal", "trigonal", "hexagonal", "cubic"]:
        group = per_system.get(system, [])
        if len(group) < 3:
            continue
        t = time.perf_counter()
        score([au_graph(s) for s in group])
        au = (time.perf_counter() - t) / len(group)
        t = time.perf_counter()
        score([cell_graph(s.to_atoms(primitive=False)) for s in group])
        cell = (time.perf_counter() - t) / len(group)
        ratio = np.mean([len(s.to_atoms(primitive=False)) / len(s.orbits) for s in group])
        print(f"    {system:14s} {len(group):10d} {ratio:12.1f} {1e3 * au:6.2f} {1e3 * cell:8.2f} {cell / au:9.1f}x")

    # (c) learning curve with CHGNet labels
    pool = sample("MgO", [4], 260, seed=3)
    labels = single_points([s.to_atoms() for s in pool], backend)
    keep = [i for i, r in enumerate(labels) if r.ok]
    graphs = [au_graph(pool[i]) for i in keep]
    y = np.array([labels[i].energy_per_atom for i in keep])
    test_g, test_y = graphs[-100:], y[-100:]
    print("(c) MgO 8 atoms, held-out 100: labels  model MAE  mean MAE  ratio (eV/atom)")
    for n in (30, 60, 120):
        ens, report = train_ensemble(graphs[:n], y[:n], TrainConfig(), np.random.default_rng(n))
        pred, _ = ens.predict(test_g)
        mae = np.abs(pred - test_y).mean()
        base = np.abs(np.median(y[:n]) - test_y).mean()
        print(f"    {n:20d} {mae:10.3f} {base:9.3f} {mae / base:6.2f}  ({report.seconds:.0f} s training)")

    # (d) annealing steps per second with the ensemble
    starts = pool[:10]
    cfg = AnnealConfig()
    t = time.perf_counter()
    result = anneal(starts, lambda ss: ens.predict([au_graph(s) for s in ss])[0], cfg, np.random.default_rng(0))
    seconds = time.perf_counter() - t
    print(f"(d) {len(starts) * cfg.restarts} chains x {cfg.steps} steps: {result.proposals / seconds:.0f} chain-steps/s, "
          f"acceptance {result.acceptance:.2f}")


if __name__ == "__main__":
    main()
