"""Two searches of the same rows side by side, e.g. without and with the group prior (issue 27):

    python benchmarks/compare_prior.py DIR DIR_PRIOR [--method random]

Per sccop row, a markdown line: the reference group, each search's best group as relaxed and after
symmetrising where that changes it (bold: the reference's group), the calls to the first relaxation in
the reference's group, and the minutes. Then the top-1 and top-5 counts (as relaxed and symmetrised),
minutes and calls of both.
"""

from __future__ import annotations

import argparse

from compare_answers import load


def shown(row: dict) -> str:
    def bold(group: str) -> str:
        return f"**{group}**" if group == row["spacegroup"] else group

    relaxed, refined = row["best_spacegroup"], row["refined_best_spacegroup"]
    return bold(relaxed) if relaxed == refined else f"{bold(relaxed)} -> {bold(refined)}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--method", default="sccop", help="the rows of this method (sccop or random)")
    args = parser.parse_args()
    runs = load(args.first, args.method), load(args.second, args.method)
    keys = [k for k in runs[0] if k in runs[1]]
    counts = {name: [0, 0] for name in ("top-1", "top-5", "top-1 symmetrised", "top-5 symmetrised", "calls")}
    minutes = [0.0, 0.0]
    print(f"| row | formula | atoms | group | {args.first} | {args.second} | calls to hit | minutes |")
    print("|---|---|---|---|---|---|---|---|")
    for key in keys:
        pair = [run[key] for run in runs]
        for j, row in enumerate(pair):
            counts["top-1"][j] += row["spacegroup_match"] == "True"
            counts["top-5"][j] += row["top5_spacegroup_match"] == "True"
            counts["top-1 symmetrised"][j] += row["refined_spacegroup_match"] == "True"
            counts["top-5 symmetrised"][j] += row["refined_top5_spacegroup_match"] == "True"
            counts["calls"][j] += int(row["calls"] or 0)
            minutes[j] += float(row["minutes"] or 0.0)
        a, b = pair
        print(f"| {key} | {a['formula']} | {a['nsites']} | {a['spacegroup']} | {shown(a)} | {shown(b)} | "
              f"{a['calls_to_hit'] or '-'} / {b['calls_to_hit'] or '-'} | {a['minutes']} / {b['minutes']} |")
    print(f"{len(keys)} rows; " + "; ".join(f"{k} {v[0]} / {v[1]}" for k, v in counts.items())
          + f"; minutes {minutes[0]:.1f} / {minutes[1]:.1f}")


if __name__ == "__main__":
    main()
