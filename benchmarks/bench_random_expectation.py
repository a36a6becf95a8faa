"""sccop against random search's expected scores, from finished `sccop bench` folders (sccop.bench.analyses).

One bench run gives each row's outcome once. Random search's relaxations are independent draws (each
structure depends only on (seed, index)), so its run of n relaxations also gives, with nothing searched
again: the chance that its answer is in the row's group at n relaxations (bootstrap) and at n/2 (exact),
the same chance for a run cut at sccop's evaluations (Monte Carlo, seeded by --seed and the row's id),
and the expected calls and evaluations to its first relaxation in the row's group. Summed over rows,
the chances are the expected number of top-1 matches, with a standard deviation of sqrt(sum p(1 - p)).

Usage: python benchmarks/bench_random_expectation.py TABLE.csv --sccop DIR [DIR ...] --random DIR [DIR ...]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")


def main() -> None:
    from sccop.bench.analyses import random_expectation
    from sccop.bench.table import read_table

    parser = argparse.ArgumentParser()
    parser.add_argument("table")
    parser.add_argument("--sccop", type=Path, nargs="+", required=True, help="sccop bench folders, one per seed")
    parser.add_argument("--random", type=Path, nargs="+", required=True, help="folders holding random search rows")
    parser.add_argument("--seed", type=int, default=0, help="seed of the Monte Carlo over orderings")
    args = parser.parse_args()
    print(random_expectation(read_table(args.table), args.sccop, args.random, seed=args.seed).markdown())


if __name__ == "__main__":
    main()
