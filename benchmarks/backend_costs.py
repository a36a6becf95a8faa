"""The shipped potentials side by side: element coverage of a benchmark table and relaxations per minute.

For CHGNet and each SevenNet model named (7net-0, 7net-l3i5, 7net-mf-0 at its PBE fidelity by default):
the elements it knows, the table's elements it lacks (sccop refuses such rows up front), the seconds to
load it, and relaxations per minute of random symmetric MgO structures from sccop's sampler at sccop's
default batching (FIRE with the cell filter, fmax 0.05 eV/A, at most --steps steps), with the ratio to
CHGNet measured in the same run: about what a search's relaxation time scales by when the backend changes
(single points are measured apart: benchmarks/single_point_throughput.py).

Usage: python benchmarks/backend_costs.py ../shared/benchmarks/cspbench_dev.csv [--per-size 8] [--steps 100]
"""

from __future__ import annotations

import argparse
import time
import warnings

warnings.filterwarnings("ignore")

MODELS = ("chgnet", "sevennet:7net-0", "sevennet:7net-l3i5", "sevennet:7net-mf-0:PBE")


def table_elements(path: str) -> set[str]:
    from sccop.bench.table import read_table
    from sccop.composition import parse_composition

    return {e for row in read_table(path) for e in parse_composition(row.formula).elements}


def backend_of(spec: str):
    from sccop.config import BackendConfig

    name, model, modal = (spec.split(":") + [None, None])[:3]
    return BackendConfig(name=name, model=model, modal=modal, device="cpu")


def main() -> None:
    from ase.data import atomic_numbers
    from benchmarks_common import mgo_structures as structures

    from sccop.backends import backend_label, element_ranges, supported_numbers
    from sccop.config import RelaxConfig
    from sccop.relaxation import relax_many, single_points

    parser = argparse.ArgumentParser()
    parser.add_argument("table", help="CSPBench-format CSV whose elements are checked")
    parser.add_argument("--models", default=",".join(MODELS), help="backend[:model[:modal]], comma-separated")
    parser.add_argument("--per-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--sizes", default="8,16")
    args = parser.parse_args()
    wanted = table_elements(args.table)
    sizes = [int(x) for x in args.sizes.split(",")]
    config = RelaxConfig(fmax=0.05, steps=args.steps)
    batches = {n: structures(n, args.per_size) for n in sizes}
    rates: dict[str, dict[int, float]] = {}
    print(f"table: {len(wanted)} elements")
    print(f"{'backend':28s} {'knows':>5s} {'missing from table':>18s} {'load s':>6s} "
          + " ".join(f"{f'relax/min {n} at.':>15s} {'vs chgnet':>9s}" for n in sizes) + f" {'mean steps':>10s}")
    for spec in args.models.split(","):
        backend = backend_of(spec)
        label = backend_label(backend)
        start = time.perf_counter()
        single_points(batches[sizes[0]][:1], backend)  # loads the model
        load = time.perf_counter() - start
        known = supported_numbers(backend)
        missing = sorted(e for e in wanted if atomic_numbers[e] not in known)
        rates[label] = {}
        cells, steps = [], []
        for n in sizes:
            start = time.perf_counter()
            results = relax_many(batches[n], backend, config)
            rates[label][n] = len(results) / ((time.perf_counter() - start) / 60)
            steps += [r.steps for r in results]
            base = next(iter(rates.values()))[n]
            cells.append(f"{rates[label][n]:15.1f} {rates[label][n] / base:9.2f}")
        print(f"{label:28s} {len(known):5d} {', '.join(missing) or '-':>18s} {load:6.1f} " + " ".join(cells)
              + f" {sum(steps) / len(steps):10.1f}", flush=True)
        print(f"  knows {element_ranges(known)}", flush=True)


if __name__ == "__main__":
    main()
