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

    from sccop.composition import element_data, volume_window
    from sccop.sampling.validate import min_distance_ratio

    from sccop.composition import window_parts

    rows = list(csv.DictReader(open(Path(proto_dir) / "index.csv")))
    inside = 0
    in_dense = in_pred = in_union = 0
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
        (d_lo, d_hi), (p_lo, p_hi) = window_parts(counts, 3)
        in_dense += d_lo <= v <= d_hi
        in_pred += p_lo <= v <= p_hi
        in_union += (d_lo <= v <= d_hi) or (p_lo <= v <= p_hi)
        radii = {s: element_data(s).radius for s in counts}
        ratio = min_distance_ratio(atoms, radii)
        ratios.append((ratio, row["name"]))
        print(f"{row['name']:12s} {len(atoms):5d} {v:8.1f} [{lo:7.1f}, {hi:7.1f}] {'yes' if ok else 'NO':>3s} {ratio:14.3f}")
    n = len(rows)
    print(f"\nvolume inside sccop's window: {inside}/{n} = {inside / n:.0%}")
    print(f"for comparison: dense window alone {in_dense}/{n}, regression window alone {in_pred}/{n}, union {in_union}/{n}")
    ratios.sort()
    print("smallest d/(ri+rj):", ", ".join(f"{n} {r:.3f}" for r, n in ratios[:5]))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[2] / "shared/benchmarks/prototypes"))
