"""Relaxations per minute with CHGNet and SevenNet: one structure at a time vs lockstep batches.

Random symmetric MgO structures from sccop's sampler (8, 16 and 32 atoms), relaxed with the cell
filter (FIRE, fmax 0.05 eV/A, at most --steps steps). Every mode relaxes the same structures with the
same optimizer: sequential (one relaxation after another), batched (all --per-size structures in one
model call per step, no atom cap) and default (sccop's defaults: 16 structures and 128 atoms per call).
On 2 CPU cores torch uses 2 threads.

Usage: python benchmarks/relax_throughput.py [--per-size 8] [--steps 100] [--device cpu]
"""

from __future__ import annotations

import argparse
import time
import warnings

warnings.filterwarnings("ignore")


def main() -> None:
    from benchmarks_common import mgo_structures as structures

    from sccop.config import BackendConfig, RelaxConfig
    from sccop.relaxation import relax_many, single_points

    parser = argparse.ArgumentParser()
    parser.add_argument("--per-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", default="8,16,32")
    args = parser.parse_args()
    config = RelaxConfig(fmax=0.05, steps=args.steps)
    print(f"{'model':9s} {'atoms':>5s} {'sequential /min':>16s} {'batched /min':>13s} {'ratio':>6s} "
          f"{'default /min':>13s} {'ratio':>6s} {'mean steps':>10s}")
    for name in ("chgnet", "sevennet"):
        single_points(structures(8, 1), BackendConfig(name=name, device=args.device))  # load the model first
        for natoms in (int(x) for x in args.sizes.split(",")):
            batch = structures(natoms, args.per_size)
            rates, steps = {}, 0.0
            modes = {
                "sequential": BackendConfig(name=name, device=args.device, batch_size=1),
                "batched": BackendConfig(name=name, device=args.device, batch_size=args.per_size, batch_atoms=10**6),
                "default": BackendConfig(name=name, device=args.device),  # 16 structures, 128 atoms per call
            }
            for mode, backend in modes.items():
                start = time.perf_counter()
                if mode == "sequential":
                    results = [relax_many([a], backend, config)[0] for a in batch]
                else:
                    results = relax_many(batch, backend, config)
                minutes = (time.perf_counter() - start) / 60
                rates[mode] = len(batch) / minutes
                steps = sum(r.steps for r in results) / len(results)
            seq = rates["sequential"]
            print(f"{name:9s} {natoms:5d} {seq:16.1f} {rates['batched']:13.1f} {rates['batched'] / seq:6.2f} "
                  f"{rates['default']:13.1f} {rates['default'] / seq:6.2f} {steps:10.1f}", flush=True)


if __name__ == "__main__":
    main()
