"""sccop against random search's expected scores, from finished `sccop bench` folders.

One bench run gives each row's outcome once. Random search's relaxations are independent draws (each
structure depends only on (seed, index)), so its run of n relaxations also gives, with nothing searched
again (sccop.resample):

- the chance that its answer (lowest energy, as relaxed) is in the row's group at n relaxations (the
  bootstrap: n draws with replacement) and at n/2 (exact, over all subsets of the run);
- the same chance for a run cut at sccop's energy-and-force evaluations for the row (Monte Carlo over
  orderings, seeded by --seed and the row's id, so a row's figure does not depend on the other rows);
- the expected calls and evaluations to its first relaxation in the row's group (exact).

Summed over rows, the chances are the expected number of top-1 matches, with a standard deviation of
sqrt(sum p(1 - p)). sccop is scored from each of its folders (one per seed) with `sccop.bench.score`.

Usage: python benchmarks/bench_random_expectation.py TABLE.csv --sccop DIR [DIR ...] --random DIR [DIR ...]
"""

from __future__ import annotations

import argparse
import warnings
import zlib
from pathlib import Path

import numpy as np

from bench_equal_cost import finished

warnings.filterwarnings("ignore")


def main() -> None:
    from sccop.bench import _spread, read_table, score
    from sccop.resample import expected_count, expected_first_hit, read_pool, top1_chance, top1_chance_within

    parser = argparse.ArgumentParser()
    parser.add_argument("table")
    parser.add_argument("--sccop", type=Path, nargs="+", required=True, help="sccop bench folders, one per seed")
    parser.add_argument("--random", type=Path, nargs="+", required=True, help="folders holding random search rows")
    parser.add_argument("--seed", type=int, default=0, help="seed of the Monte Carlo over orderings")
    args = parser.parse_args()
    table = {row.id: row for row in read_table(args.table)}
    done_random = {d: finished(d, "random") for d in args.random}
    sccop_done = [finished(d, "sccop") for d in args.sccop]
    seeds = " / ".join(f"sccop {d.name}" for d in args.sccop)
    print(f"| row | formula | atoms | group | {seeds} | random, the run | random at n (bootstrap) | random at n/2 "
          "| random at sccop's evaluations | calls to first hit, random expected / sccop | evaluations to first hit, "
          "random expected / sccop |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    sums = {"run": 0, "n": [], "half": [], "cut": [], "sccop": [0] * len(args.sccop)}
    calls_ratio, evaluations_ratio = [], []
    for row_id in sorted(set.intersection(*sccop_done)):
        folder = next((d for d in args.random if row_id in done_random[d]), None)
        if folder is None:
            continue
        row = table[row_id]
        ours = [score(d / "rows" / row_id / "sccop" / "sccop.db", row, None) for d in args.sccop]
        pool = read_pool(folder / "rows" / row_id / "random" / "random.db")
        n = len(pool)
        run = top1_chance(pool, row.spacegroup, n)  # every subset of n is the run itself: 0 or 1
        at_n = top1_chance(pool, row.spacegroup, n, replace=True)
        half = top1_chance(pool, row.spacegroup, n // 2)
        rng = np.random.default_rng([args.seed, zlib.crc32(row_id.encode())])  # the same draws whatever the other rows
        cut = top1_chance_within(pool, row.spacegroup, ours[0]["evaluations"], rng)
        first = expected_first_hit(pool, row.spacegroup)
        sums["run"] += run
        sums["n"].append(at_n), sums["half"].append(half), sums["cut"].append(cut)
        for i, o in enumerate(ours):
            sums["sccop"][i] += bool(o["spacegroup_match"])
        hit_calls, hit_evaluations = "-", "-"
        if first is not None:
            hit_calls = f"{first[0]:.1f} / {ours[0].get('calls_to_hit') or '-'}"
            hit_evaluations = f"{first[1]:.0f} / {ours[0].get('evaluations_to_hit') or '-'}"
            if ours[0].get("calls_to_hit"):
                calls_ratio.append(first[0] / ours[0]["calls_to_hit"])
                evaluations_ratio.append(first[1] / ours[0]["evaluations_to_hit"])
        marks = " / ".join("yes" if o["spacegroup_match"] else "no" for o in ours)
        print(f"| {row_id} | {row.formula} | {row.nsites} | {row.spacegroup} | {marks} | {'yes' if run else 'no'} "
              f"| {at_n:.2f} | {half:.2f} | {cut:.2f} | {hit_calls} | {hit_evaluations} |")

    def expected(chances) -> str:
        return "{:.1f} ± {:.1f}".format(*expected_count(chances))

    rows = len(sums["n"])
    print()
    print(f"Group top-1, as relaxed, {rows} rows: sccop {' / '.join(map(str, sums['sccop']))} ({seeds}); "
          f"random search's run {sums['run']}, expected at n relaxations {expected(sums['n'])}, at n/2 "
          f"{expected(sums['half'])}, at sccop's evaluations {expected(sums['cut'])}.")
    print(f"Calls to the first hit, random expected / sccop: median {_spread(calls_ratio)}.")
    print(f"Evaluations to the first hit, random expected / sccop: median {_spread(evaluations_ratio)}.")


if __name__ == "__main__":
    main()
