"""Single points per second with CHGNet and SevenNet: one structure per call vs batched calls.

The same random symmetric MgO structures (default 48 of 16 atoms) for every mode, in one run.

Usage: python benchmarks/single_point_throughput.py [--count 48] [--atoms 16] [--device cpu]
"""

from __future__ import annotations

import argparse
import time
import warnings

warnings.filterwarnings("ignore")


def main() -> None:
    from benchmarks_common import mgo_structures

    from sccop.config import BackendConfig
    from sccop.relaxation import single_points

    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--atoms", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    structures = mgo_structures(args.atoms, args.count)
    print(f"{'model':9s} {'batch size':>10s} {'single points /s':>17s} {'vs batch 1':>10s}")
    for name in ("chgnet", "sevennet"):
        single_points(structures[:1], BackendConfig(name=name, device=args.device))  # load the model first
        base = None
        for size in (1, 8, 48):  # batch_atoms lifted so the sizes are what they say
            start = time.perf_counter()
            backend = BackendConfig(name=name, device=args.device, batch_size=size, batch_atoms=10**6)
            results = single_points(structures, backend)
            rate = len(structures) / (time.perf_counter() - start)
            assert all(r.ok for r in results)
            base = base or rate
            print(f"{name:9s} {size:10d} {rate:17.1f} {rate / base:10.2f}", flush=True)


if __name__ == "__main__":
    main()
