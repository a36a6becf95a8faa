"""Tuning the annealing temperature: acceptance and what the chains find, per starting temperature T0.

One ensemble is trained on CHGNet labels of random MgO (8 atoms); the same 10 starts (the lowest
labelled structures) are annealed at each T0 with the other defaults. Reported per T0: acceptance, the
mean and lowest predicted energy of the chains' best structures, and the CHGNet energy of the 10
lowest distinct results (what selection would send to the backend).

Usage: python benchmarks/anneal_tuning.py [--formula MgO --units 4 --labels 120]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def main() -> None:
    from sccop.anneal import anneal
    from sccop.composition import parse_composition
    from sccop.config import AnnealConfig, BackendConfig, SamplerConfig, TrainConfig
    from sccop.graph import au_graph
    from sccop.model.train import train_ensemble
    from sccop.relaxation import single_points
    from sccop.sampling.sampler import Sampler

    parser = argparse.ArgumentParser()
    parser.add_argument("--formula", default="MgO")
    parser.add_argument("--units", type=int, default=4)
    parser.add_argument("--labels", type=int, default=120)
    parser.add_argument("--t0", default="1,0.3,0.1,0.03,0.01")
    args = parser.parse_args()

    backend = BackendConfig(name="chgnet")
    pool = [s for _, s in Sampler(parse_composition(args.formula), [args.units], SamplerConfig()).sample(args.labels, seed=3)]
    labels = single_points([s.to_atoms() for s in pool], backend)
    keep = [i for i, r in enumerate(labels) if r.ok]
    y = np.array([labels[i].energy_per_atom for i in keep])
    ens, _ = train_ensemble([au_graph(pool[i]) for i in keep], y, TrainConfig(), np.random.default_rng(0))
    starts = [pool[keep[i]] for i in np.argsort(y)[:10]]
    print(f"{args.formula} {args.units} f.u., {len(keep)} labels, best label {y.min():.3f} eV/atom")
    start_pred = np.repeat(ens.predict([au_graph(s) for s in starts])[0], AnnealConfig().restarts)
    print("   T0  acceptance  improved  mean gain  min pred  CHGNet of 10 lowest: mean  min   chain-steps/s")
    for t0 in [float(x) for x in args.t0.split(",")]:
        t = time.perf_counter()
        result = anneal(starts, lambda ss: ens.predict([au_graph(s) for s in ss])[0], AnnealConfig(t0=t0), np.random.default_rng(1))
        rate = result.proposals / (time.perf_counter() - t)
        order = np.argsort(result.best_energy)
        chosen, seen = [], set()
        for k in order:
            key = (result.best[k].lattice.tobytes(), result.best[k].orbits)
            if key not in seen:
                seen.add(key)
                chosen.append(result.best[k])
            if len(chosen) == 10:
                break
        true = np.array([r.energy_per_atom for r in single_points([s.to_atoms() for s in chosen], backend) if r.ok])
        gain = start_pred - result.best_energy
        print(f"{t0:5.2f} {result.acceptance:11.2f} {np.mean(gain > 1e-6):9.2f} {gain.mean():10.3f} {result.best_energy.min():9.3f} "
              f"{true.mean():25.3f} {true.min():6.3f} {rate:10.0f}")


if __name__ == "__main__":
    main()
