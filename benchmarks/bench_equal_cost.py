"""sccop against random search at equal cost, from finished `sccop bench` folders (sccop.bench.analyses).

Random search is sequential: its first k relaxations are exactly what a run with a budget of k makes.
So each row's random run is cut where its energy-and-force evaluations (a single point counts one, a
relaxation its optimizer steps plus one) reach those sccop spent on the row, and the best structure
so far is scored (group top-1, as relaxed, symprec 0.1). Both methods are scored again from their
databases, so the folders may come from separate runs (e.g. random search with its own sampler
settings); nothing is searched or relaxed.

Usage: python benchmarks/bench_equal_cost.py TABLE.csv SCCOP_DIR RANDOM_DIR [RANDOM_DIR ...]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")


def main() -> None:
    from sccop.bench.analyses import equal_cost
    from sccop.bench.table import read_table

    parser = argparse.ArgumentParser()
    parser.add_argument("table")
    parser.add_argument("sccop_dir", type=Path)
    parser.add_argument("random_dirs", type=Path, nargs="+")
    args = parser.parse_args()
    print(equal_cost(read_table(args.table), args.sccop_dir, args.random_dirs).markdown())


if __name__ == "__main__":
    main()
