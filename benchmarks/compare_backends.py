"""Bench results of several backends (or re-rankers) on the same rows as one markdown table:

    python benchmarks/compare_backends.py "CHGNet=DIR_CHGNET/results.csv" "7net-mf-0=DIR_MF0/results.csv" ...

Each argument is LABEL=results.csv of a finished `sccop bench` (a copy of it taken after a `--rerank`
pass keeps that re-ranker's columns); LABEL=a.csv+b.csv joins the rows of benches run apart (the 18
small and the 12 larger dev rows). Per file, for the sccop rows: group top-1 / top-5 as relaxed,
symmetrised and re-ranked (where the file has a re-ranker), the search's pair-minutes (one core each), the
re-ranking pass's minutes (`refine_wall_minutes`: a `--rerank` added to a finished bench, with its model
loading, re-scoring and re-ranking relaxations), the re-ranking relaxations, and top-1 per 10 CPU-minutes
(symmetrised over the search's minutes; re-ranked over the search's and the pass's). Then the rows where
the files' best groups (re-ranked where a re-ranker ran, else symmetrised) differ.
"""

from __future__ import annotations

import argparse

from compare_answers import load


def count(rows, column: str) -> int:
    return sum(r.get(column) == "True" for r in rows)


def minutes(rows, column: str) -> float:
    return sum(float(r.get(column) or 0.0) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", help="LABEL=results.csv[+results.csv...]")
    args = parser.parse_args()
    runs = {}
    for spec in args.runs:
        label, _, paths = spec.partition("=")
        runs[label] = {}
        for path in paths.split("+"):
            runs[label].update(load(path))
    keys = [k for k in next(iter(runs.values())) if all(k in run for run in runs.values())]
    print(f"{len(keys)} rows in every file\n")
    print("| run | top-1 / top-5 as relaxed | symmetrised | re-ranked | CPU-min search | re-ranking pass "
          "| re-ranking relaxations | top-1 per 10 CPU-min, symmetrised / re-ranked |")
    print("|---|---|---|---|---|---|---|---|")
    for label, run in runs.items():
        rows = [run[k] for k in keys]
        reranked = any(r.get("reranked_best_spacegroup") for r in rows)
        search, refine = minutes(rows, "minutes"), minutes(rows, "refine_wall_minutes")
        top1 = count(rows, "refined_spacegroup_match")
        matched, pass_minutes, relaxations, per_rerank = "-", "-", "-", "-"
        if reranked:
            re1 = count(rows, "reranked_spacegroup_match")
            matched = f"{re1} / {count(rows, 'reranked_top5_spacegroup_match')}"
            pass_minutes, per_rerank = f"{refine:.1f}", f"{10 * re1 / (search + refine):.2f}"
            relaxations = str(sum(int(r.get("rerank_calls") or 0) for r in rows))
        cells = [label, f"{count(rows, 'spacegroup_match')} / {count(rows, 'top5_spacegroup_match')}",
                 f"{top1} / {count(rows, 'refined_top5_spacegroup_match')}", matched, f"{search:.1f}", pass_minutes,
                 relaxations, f"{10 * top1 / search:.2f} / {per_rerank}"]
        print("| " + " | ".join(cells) + " |")
    print("\n| row | formula | group | " + " | ".join(runs) + " |")
    print("|---|---|---|" + "---|" * len(runs))
    for key in keys:
        shown = []
        for run in runs.values():
            r = run[key]
            group = r.get("reranked_best_spacegroup") or r["refined_best_spacegroup"] or r["best_spacegroup"]
            shown.append(f"**{group}**" if group == r["spacegroup"] else group)
        if len(set(s.strip("*") for s in shown)) > 1:
            first = next(iter(runs.values()))[key]
            print(f"| {key} | {first['formula']} | {first['spacegroup']} | " + " | ".join(shown) + " |")


if __name__ == "__main__":
    main()
