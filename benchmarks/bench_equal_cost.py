"""sccop against random search at equal cost, from finished `sccop bench` folders.

Random search is sequential: its first k relaxations are exactly what a run with a budget of k makes.
So each row's random run is cut where its energy-and-force evaluations (a single point counts one, a
relaxation its optimizer steps plus one) reach those sccop spent on the row, and the best structure
so far is scored (group top-1, as relaxed, SpacegroupAnalyzer symprec 0.1). Both methods are scored
again from their databases with `sccop.bench.score`, so the folders may come from separate runs (e.g.
random search with its own sampler settings); nothing is searched or relaxed.

Usage: python benchmarks/bench_equal_cost.py TABLE.csv SCCOP_DIR RANDOM_DIR [RANDOM_DIR ...]
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")


def finished(folder: Path, method: str) -> set[str]:
    ids = set()
    for line in (folder / "results.jsonl").read_text().splitlines():
        result = json.loads(line)
        if result["method"] == method:
            (ids.add if result.get("status") == "ok" else ids.discard)(result["id"])
    return ids


def main() -> None:
    from sccop.bench import equal_cost, group_within, read_table, score

    parser = argparse.ArgumentParser()
    parser.add_argument("table")
    parser.add_argument("sccop_dir", type=Path)
    parser.add_argument("random_dirs", type=Path, nargs="+")
    args = parser.parse_args()
    table = {row.id: row for row in read_table(args.table)}
    done_sccop = finished(args.sccop_dir, "sccop")
    done_random = {d: finished(d, "random") for d in args.random_dirs}
    results, rows = {}, []
    print("| row | formula | atoms | group | sccop best | sccop evaluations | random at sccop's evaluations "
          "| random best | random evaluations |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row_id in sorted(done_sccop):
        folder = next((d for d in args.random_dirs if row_id in done_random[d]), None)
        if folder is None:
            continue
        row = table[row_id]
        a = score(args.sccop_dir / "rows" / row_id / "sccop" / "sccop.db", row, None)
        b = score(folder / "rows" / row_id / "random" / "random.db", row, None)
        results[(row_id, "sccop")], results[(row_id, "random")] = a, b
        rows.append(row)
        cut = group_within(b["best_spacegroup_by_evaluations"], a["evaluations"])
        print(f"| {row_id} | {row.formula} | {row.nsites} | {row.spacegroup} | {a['best_spacegroup']} | "
              f"{a['evaluations']} | {cut if cut is not None else '-'} | {b['best_spacegroup']} | {b['evaluations']} |")
    print()
    print(*equal_cost(rows, results))


if __name__ == "__main__":
    main()
