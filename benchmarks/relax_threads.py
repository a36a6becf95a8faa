"""CHGNet relaxations with the optimizer's BLAS limited to one thread ([relax] blas_threads = 1, the
default) against the machine's BLAS threads (blas_threads = 0), in one run.

The optimizer and ASE's FrechetCellFilter do their own algebra on 3x3 and 3N-vector arrays between the
backend's calls (the filter's matrix exponential and its Frechet derivative, nine per step). Threads cost
more there than they save. Same structures (sampled GdOs2, 12 atoms), same settings, the two settings
alternated, median of the repeats; the steps and energies must agree.

With --busy, a second process keeps one core busy meanwhile (as when searches or Dask workers share
the machine).

Usage: python benchmarks/relax_threads.py [--formula GdOs2 --atoms 12] [--structures 4] [--repeats 3] [--busy]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

from benchmarks_common import busy_core


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--formula", default="GdOs2")
    parser.add_argument("--atoms", default="12")
    parser.add_argument("--structures", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="keep one core busy in another process")
    args = parser.parse_args()
    with busy_core(args.busy) as busy:
        measure(args, busy)


def measure(args, busy: bool) -> None:
    from threadpoolctl import ThreadpoolController

    from sccop.composition import cell_sizes, parse_composition
    from sccop.config import RunConfig
    from sccop.relaxation import relax_many
    from sccop.sampling.sampler import Sampler

    config = RunConfig()
    composition = parse_composition(args.formula)
    sampler = Sampler(composition, cell_sizes(composition, args.atoms, None), config.sampler)
    structures = [s.to_atoms() for _, s in sampler.sample(args.structures, seed=5)]
    relax_many(structures[:1], config.backend, config.relax)  # loads the model
    blas = {lib.num_threads for lib in ThreadpoolController().select(user_api="blas").lib_controllers}
    print(f"{args.formula}, {len(structures[0])} atoms, {len(structures)} structures, CHGNet; machine BLAS threads "
          f"{sorted(blas)}; median of {args.repeats}; {'one core busy in another process' if busy else 'no load added'}")
    times, outcomes = {0: [], 1: []}, {}
    for _ in range(args.repeats):
        for threads in (0, 1):
            start = time.perf_counter()
            results = relax_many(structures, config.backend, replace(config.relax, blas_threads=threads))
            times[threads].append(time.perf_counter() - start)
            outcomes[threads] = [(r.steps, round(r.energy, 6)) for r in results]
    assert outcomes[0] == outcomes[1], f"the two settings relaxed differently: {outcomes}"
    steps = sum(s for s, _ in outcomes[1])
    slow, fast = statistics.median(times[0]), statistics.median(times[1])
    print(f"steps {steps}; machine's threads {slow:.1f} s, one thread {fast:.1f} s; ratio {slow / fast:.2f}x "
          f"(each: {' '.join(f'{t:.1f}' for t in times[0])} / {' '.join(f'{t:.1f}' for t in times[1])} s)")


if __name__ == "__main__":
    main()
