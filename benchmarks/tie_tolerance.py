"""Top-1 group matches of a bench folder's sccop rows with the answer rebuilt at other symmetry-tie
windows (`[refine] energy_tolerance`), from the rows' databases alone: no backend call.

    python benchmarks/tie_tolerance.py DIR [DIR ...] [--tolerances 0.002,0.005,0.01,0.02]

The ranking (sccop.answer.ranking.ranked) uses the symmetrised versions the bench's refinement stored,
so a wider window can only choose among those. Per folder: the count of rows whose top-1 group is the
row's at each window, then per row the top-1 group at each (* where it matches).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from compare_answers import load

from sccop.answer.ranking import ranked
from sccop.api import open_run


def top_groups(run: Path, tolerances: list[float]) -> list[int | None]:
    """The top-1 space group of one search folder at each energy tolerance."""
    store, config = open_run(run)
    out = []
    for tol in tolerances:
        found = ranked(store, replace(config, refine=replace(config.refine, energy_tolerance=tol)), top=1)
        out.append(found[0].spacegroup if found else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--tolerances", default="0.002,0.005,0.01,0.02")
    args = parser.parse_args()
    tolerances = [float(t) for t in args.tolerances.split(",")]
    for folder in args.dirs:
        lines, counts = [], [0] * len(tolerances)
        for r in load(str(folder)).values():
            run = folder / "rows" / r["id"] / "sccop"
            if not (run / "sccop.db").exists():
                continue
            groups = top_groups(run, tolerances)
            hits = [g == int(r["spacegroup"]) for g in groups]
            counts = [c + h for c, h in zip(counts, hits)]
            lines.append(f"  {r['id']} {r['formula']}: " + " ".join(f"{g}{'*' if h else ''}" for g, h in zip(groups, hits)))
        print(f"{folder}: top-1 at " + ", ".join(f"{t * 1000:g} meV/atom {c}" for t, c in zip(tolerances, counts)))
        print("\n".join(lines))


if __name__ == "__main__":
    main()
