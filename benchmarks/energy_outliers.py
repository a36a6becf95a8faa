"""Energies of bench folders measured from the element reference, the energy guard's yardstick.

    python benchmarks/energy_outliers.py DIR [DIR ...]

For every run database under the folders (DIR/rows/*/sccop/sccop.db of a `sccop bench`, or any
sccop.db below DIR), per folder and backend: how many successful calls carry an energy, the range of energy per
atom minus the mean of the atoms' element energies (sccop.backends.element_energies, CHGNet's AtomRef),
how many lie outside the default guard window (3 below, 30 above), the calls the guard failed (reason
"unphysical energy"), below and above, and the energies outside the window (at most 20 per folder).
"""

from __future__ import annotations

import argparse
import collections
import glob

import numpy as np
from ase.db import connect

from sccop.backends.element_energies import element_reference_per_atom
from sccop.config import RelaxConfig


def scan(folders: list[str]):
    shifts = collections.defaultdict(list)  # (folder, backend) -> [(shift, db, formula, stage)]
    guarded = collections.defaultdict(collections.Counter)  # (folder, backend) -> {"below": n, "above": n}
    for folder in folders:
        for db in sorted(glob.glob(f"{folder}/**/sccop.db", recursive=True)):
            for row in connect(db).select():
                key = (folder, str(row.get("backend")))
                reason = str(row.get("reason") or "")
                if reason.startswith("unphysical energy"):
                    guarded[key]["below" if "below the element reference" in reason else "above"] += 1
                energy = row.get("energy_per_atom")
                if energy is None or row.get("status") != "ok":
                    continue
                reference = element_reference_per_atom(row.numbers)
                if reference is not None:
                    shifts[key].append((energy - reference, db, row.formula, row.get("stage")))
    return shifts, guarded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+")
    args = parser.parse_args()
    below, above = RelaxConfig().max_energy_below_reference, RelaxConfig().max_energy_above_reference
    shifts, guarded = scan(args.folders)
    print(f"| folder | backend | energies | lowest | highest | below -{below:g} | above +{above:g} | failed by the guard, below / above |")
    print("|---|---|---|---|---|---|---|---|")
    for backend, rows in shifts.items():
        x = np.array([r[0] for r in rows])
        print(f"| {backend[0]} | {backend[1]} | {len(x)} | {x.min():.4g} | {x.max():.4g} | {(x < -below).sum()} | {(x > above).sum()} "
              f"| {guarded[backend]['below']} / {guarded[backend]['above']} |")
    for backend, rows in shifts.items():
        outside = sorted(r for r in rows if r[0] < -below or r[0] > above)
        if outside:
            print(f"\n{' '.join(backend)}: {len(outside)} outside the window")
            for shift, db, formula, stage in outside[:20]:
                print(f"  {shift:+.4g} eV/atom  {formula}  {stage}  {db}")


if __name__ == "__main__":
    main()
