"""Prototype statistics behind two sampler defaults.

1. The volume window: how many reference prototypes (../shared/benchmarks/prototypes) have their
   volume per atom inside the window sccop predicts for their composition and cell size.
2. The distance factor f in d_ij >= f (r_i + r_j): the smallest ratio d_ij / (r_i + r_j) seen in the
   prototypes; the default f must sit below it so that no known structure is excluded.

Usage: python benchmarks/prototype_stats.py [PROTOTYPE_DIR]
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")


def main(proto_dir: str) -> None:
    import csv

    from ase.io import read

    from sccop.composition import WINDOW_RULES, element_data, volume_window
    from sccop.sampling.validate import min_distance_ratio

    rows = list(csv.DictReader(open(Path(proto_dir) / "index.csv")))
    inside = 0
    per_rule = dict.fromkeys(WINDOW_RULES, 0)
    ratios = []
    print(f"{'name':12s} {'atoms':>5s} {'V':>8s} {'window':>18s} {'in':>3s} {'min d/(ri+rj)':>14s}")
    for row in rows:
        atoms = read(Path(proto_dir) / f"{row['name']}.cif")
        counts: dict[str, int] = {}
        for s in atoms.get_chemical_symbols():
            counts[s] = counts.get(s, 0) + 1
        lo, hi = volume_window(counts, 3)
        v = atoms.get_volume()
        ok = lo <= v <= hi
        inside += ok
        for rule in WINDOW_RULES:
            r_lo, r_hi = volume_window(counts, 3, rule)
            per_rule[rule] += r_lo <= v <= r_hi
        radii = {s: element_data(s).radius for s in counts}
        ratio = min_distance_ratio(atoms, radii)
        ratios.append((ratio, row["name"]))
        print(f"{row['name']:12s} {len(atoms):5d} {v:8.1f} [{lo:7.1f}, {hi:7.1f}] {'yes' if ok else 'NO':>3s} {ratio:14.3f}")
    n = len(rows)
    print(f"\nvolume inside the default (span) window: {inside}/{n} = {inside / n:.0%}")
    print("per window rule: " + ", ".join(f"{rule} {k}/{n}" for rule, k in per_rule.items()))
    ratios.sort()
    print("smallest d/(ri+rj):", ", ".join(f"{n} {r:.3f}" for r, n in ratios[:5]))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[2] / "shared/benchmarks/prototypes"))
