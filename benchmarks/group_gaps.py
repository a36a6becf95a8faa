"""Where a bench row's own space group stands among what the search relaxed: did the search find a
structure in the row's group, and how far above its best did the backend put it?

    python benchmarks/group_gaps.py DIR [--method sccop] [--symprec 0.1]

For each row of DIR/results.csv with a search folder (DIR/rows/ID/METHOD/sccop.db), the successful
relaxations of the search (stage relax) by their space group at `symprec`: the best one's group, and
the lowest relaxation in the row's group in meV/atom above the best ("-" where none was relaxed). A top-1
miss with the row's group close above the best is the backend's preference (or a tie the ranking
broke the other way), not a structure the search failed to find. No reference structure is read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ase.db import connect
from compare_answers import load

from sccop.symmetry.analysis import spacegroup


def lowest_by_group(db_path: Path, symprec: float) -> dict[int, float]:
    """Space group -> the lowest energy per atom among the successful relaxations of one search."""
    best: dict[int, float] = {}
    for row in connect(db_path).select(stage="relax"):
        if row.get("status") != "ok" or row.get("energy") is None:
            continue
        group = spacegroup(row.toatoms(), symprec)
        energy = row.energy / row.natoms
        if group not in best or energy < best[group]:
            best[group] = energy
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", type=Path)
    parser.add_argument("--method", default="sccop")
    parser.add_argument("--symprec", type=float, default=0.1)
    args = parser.parse_args()
    print("| row | formula | atoms | group | top-1 (refined) | relaxed groups | row's group above the best (meV/atom) |")
    print("|---|---|---|---|---|---|---|")
    for r in load(str(args.dir), args.method).values():
        db = args.dir / "rows" / r["id"] / args.method / "sccop.db"
        if not db.exists():
            continue
        best = lowest_by_group(db, args.symprec)
        if not best:
            continue
        low = min(best.values())
        target = int(r["spacegroup"])
        gap = f"{(best[target] - low) * 1000:.1f}" if target in best else "-"
        refined = r.get("refined_best_spacegroup") or r["best_spacegroup"]
        top1 = f"**{refined}**" if refined == r["spacegroup"] else refined
        print(f"| {r['id']} | {r['formula']} | {r['nsites']} | {target} | {top1} | {len(best)} | {gap} |")


if __name__ == "__main__":
    main()
