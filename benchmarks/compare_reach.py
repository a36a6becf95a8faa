"""Bench folders side by side by issue 22's measure: did each search reach the backend's own minimum
at the reference (its best at most 5 meV/atom above the reference relaxed by the same backend)?

    python benchmarks/compare_reach.py DIR [DIR ...] [--random] [--evaluations]

Per row, a markdown line: atoms, the reference's group, then per folder the sccop search's gap to the
reference in meV/atom (bold where reached), the call at which it was reached and the search minutes;
with --random, the first folder's random search (at sccop's evaluations) as a last column; with
--evaluations, each search's energy-and-force evaluations too. A column may join the rows of several
folders (DIR1,DIR2: one search split over two runs). Then, per size bin (5-8 and 9-12 atoms), the rows
reached and the minutes of each.
"""

from __future__ import annotations

import argparse

from compare_answers import load

BINS = ((5, 8), (9, 12))


def cell(row: dict | None, evaluations: bool = False) -> str:
    if row is None or not row.get("gap_mev"):
        return "-"
    gap = f"{float(row['gap_mev']):+.1f}"
    gap = f"**{gap}**" if row["reached"] == "True" else gap
    at = f" @{row['calls_to_reached']}" if row.get("calls_to_reached") else ""
    cost = f"{float(row['minutes']):.1f} min" + (f", {row['evaluations']} ev" if evaluations else "")
    return f"{gap}{at} ({cost})"


def joined(folders: str, method: str = "sccop") -> dict[str, dict]:
    """The rows of a method in one folder, or in several joined with commas."""
    rows = {}
    for folder in folders.split(","):
        rows.update(load(folder, method))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--random", action="store_true", help="add the first folder's random search")
    parser.add_argument("--evaluations", action="store_true", help="show each search's evaluations")
    args = parser.parse_args()
    runs = [(folder, joined(folder)) for folder in args.folders]
    if args.random:
        runs.append((f"{args.folders[0]} random", joined(args.folders[0], "random")))
    keys = [k for k in runs[0][1] if all(k in run for _, run in runs)]
    print("| row | formula | atoms | group | " + " | ".join(name for name, _ in runs) + " |")
    print("|---" * (4 + len(runs)) + "|")
    for key in keys:
        first = runs[0][1][key]
        print(f"| {key} | {first['formula']} | {first['nsites']} | {first['spacegroup']} | "
              + " | ".join(cell(run[key], args.evaluations) for _, run in runs) + " |")
    print()
    for name, run in runs:
        parts = []
        for lo, hi in BINS:
            rows = [run[k] for k in keys if lo <= int(run[k]["nsites"]) <= hi]
            parts.append(f"{lo}-{hi} atoms {sum(r['reached'] == 'True' for r in rows)}/{len(rows)}")
        reached = sum(run[k]["reached"] == "True" for k in keys)
        minutes = sum(float(run[k]["minutes"] or 0.0) for k in keys)
        print(f"- {name}: reached {reached}/{len(keys)} ({', '.join(parts)}); {minutes:.1f} search minutes")


if __name__ == "__main__":
    main()
