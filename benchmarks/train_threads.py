"""Network training and scoring with one torch thread vs torch's default (all cores), in one run.

The CGCNN's tensors are small (tens of nodes per batch), so thread start-up and synchronisation cost
more than they save. Same data, same seeds, fixed epochs (no early stopping), median of 3 repeats.

With --busy, a second process keeps one core busy meanwhile (as when searches or Dask workers share
the machine).

Usage: python benchmarks/train_threads.py [--labels 30,60,120] [--epochs 40] [--busy]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from benchmarks_common import busy_core


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", default="30,60,120")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="keep one core busy in another process")
    args = parser.parse_args()
    with busy_core(args.busy) as busy:
        measure(args, busy)


def measure(args, busy: bool) -> None:
    from sccop.composition import parse_composition
    from sccop.config import SamplerConfig, TrainConfig
    from sccop.graph import au_graph
    from sccop.model.train import train_ensemble
    from sccop.sampling.sampler import Sampler

    default = torch.get_num_threads()
    sampler = Sampler(parse_composition("SrTiO3"), [1, 2], SamplerConfig())
    graphs = [au_graph(s) for _, s in sampler.sample(400, seed=5)]
    y = np.array([g.distances.mean() * (1 + 0.1 * len(g.numbers)) for g in graphs])

    def timed(fn) -> float:
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    print(f"torch default threads: {default}; epochs {args.epochs}; median of {args.repeats}; "
          f"{'one core busy in another process' if busy else 'idle machine'}")
    print("labels  train s (default)  train s (1 thread)  ratio")
    ensemble = None
    for n in map(int, args.labels.split(",")):
        row = []
        for threads in (0, 1):
            config = TrainConfig(epochs=args.epochs, patience=10**6, threads=threads)
            row.append(timed(lambda: train_ensemble(graphs[:n], y[:n], config, np.random.default_rng(0))))
        print(f"{n:6d}  {row[0]:17.2f}  {row[1]:18.2f}  {row[0] / row[1]:5.2f}x", flush=True)
        ensemble = train_ensemble(graphs[:n], y[:n], TrainConfig(epochs=2), np.random.default_rng(0))[0]
    print("scoring  s (default)  s (1 thread)  ratio")
    for size, calls in ((400, 5), (10, 200)):
        row = []
        for threads in (0, 1):
            ensemble.threads = threads
            row.append(timed(lambda: [ensemble.predict(graphs[:size]) for _ in range(calls)]))
        print(f"{calls} x {size:3d}  {row[0]:11.2f}  {row[1]:12.2f}  {row[0] / row[1]:5.2f}x", flush=True)


if __name__ == "__main__":
    main()
