"""Two scorings of the same bench runs side by side: which answers a change of the answer's rules changed.

    sccop bench TABLE ... --out DIR                        # the searches, once
    cp -r DIR DIR_old
    git worktree add /tmp/old REV                          # the code of the rules to compare against
    PYTHONPATH=/tmp/old/src python -m sccop.cli.main bench TABLE ... --rescore --force --out DIR_old
    python benchmarks/compare_answers.py DIR DIR_old

Re-scoring reads every search and refinement call back from the databases (no new search), so both
folders score the same relaxed structures. Per sccop row: the reference group, the best group as relaxed,
the refined best and top-5 groups of both scorings, CHANGED where they differ and RELAXED HIT LOST where
the relaxed best had the reference's group and the refined one (of DIR) does not. Then the counts.
"""

from __future__ import annotations

import argparse
import csv


def load(folder: str, method: str = "sccop") -> dict[str, dict]:
    """The `method` rows of a bench folder's results.csv, or of a results CSV given by its path, by id."""
    path = folder if folder.endswith(".csv") else f"{folder}/results.csv"
    with open(path) as fh:
        return {r["id"]: r for r in csv.DictReader(fh) if r["method"] == method}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("new")
    parser.add_argument("old")
    args = parser.parse_args()
    new, old = load(args.new), load(args.old)
    counts = {"rows": 0, "relaxed": 0, "old": 0, "new": 0, "old top-5": 0, "new top-5": 0, "changed": 0, "lost": 0}
    for key, a in new.items():
        b = old[key]
        changed = (a["refined_best_spacegroup"], a["refined_top5_spacegroups"]) != (b["refined_best_spacegroup"],
                                                                                   b["refined_top5_spacegroups"])
        lost = a["spacegroup_match"] == "True" and a["refined_spacegroup_match"] != "True"
        counts["rows"] += 1
        counts["relaxed"] += a["spacegroup_match"] == "True"
        counts["old"] += b["refined_spacegroup_match"] == "True"
        counts["new"] += a["refined_spacegroup_match"] == "True"
        counts["old top-5"] += b["refined_top5_spacegroup_match"] == "True"
        counts["new top-5"] += a["refined_top5_spacegroup_match"] == "True"
        counts["changed"] += changed
        counts["lost"] += lost
        print(f"{key:12s} {a['formula']:12s} reference {a['spacegroup']:>3s}  relaxed {a['best_spacegroup']:>3s}  "
              f"old {b['refined_best_spacegroup']:>3s} [{b['refined_top5_spacegroups']}]  "
              f"new {a['refined_best_spacegroup']:>3s} [{a['refined_top5_spacegroups']}]"
              f"{'  CHANGED' if changed else ''}{'  RELAXED HIT LOST' if lost else ''}")
    print(", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
