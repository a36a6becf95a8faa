"""Rigid units (issue 26): the reference structures and the bench configs for boron and dry ice.

    python benchmarks/units.py table --out /tmp/units     # units.csv, cifs/, units_B12.toml, units_CO2.toml
    cd /tmp/units
    sccop bench units.csv --cif-dir cifs --rows 1 --methods sccop,random --budget-calls 150 --seed 0 --out atoms_s0
    sccop bench units.csv --cif-dir cifs --rows 1 --methods sccop --config units_B12.toml --budget-calls 150 \\
          --seed 0 --out b12_s0
    sccop bench units.csv --cif-dir cifs --rows 2 --methods sccop --config units_CO2.toml --budget-calls 150 \\
          --seed 0 --out co2_s0

The references are built from their published crystallography and are read only to score (the bench
relaxes each with the row's backend and asks whether the search reached that energy):
- alpha-boron, R-3m, a 4.9179, c 12.5805 A (hexagonal axes), B1 18h x 0.11886 z 0.89133, B2 18h x 0.19686
  z 0.02432 (Decker and Kasper 1959): one B12 icosahedron per rhombohedral cell, 12 atoms.
- dry ice, CO2, Pa-3, a 5.624 A, C 4a, O 8c x 0.1185: four molecules, 12 atoms.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def references() -> dict:
    from ase.spacegroup import crystal

    alpha = crystal(["B", "B"], basis=[(0.11886, -0.11886, 0.89133), (0.19686, -0.19686, 0.02432)], spacegroup=166,
                    cellpar=[4.9179, 4.9179, 12.5805, 90, 90, 120], primitive_cell=True)
    dry_ice = crystal(["C", "O"], basis=[(0, 0, 0), (0.1185, 0.1185, 0.1185)], spacegroup=205,
                      cellpar=[5.624, 5.624, 5.624, 90, 90, 90])
    return {"alpha-B": (alpha, "B", 166), "CO2": (dry_ice, "CO2", 205)}


def table(out: Path) -> None:
    from ase.io import write

    (out / "cifs").mkdir(parents=True, exist_ok=True)
    lines = ["material_id,formula,nsites,spacegroup"]
    for name, (atoms, formula, group) in references().items():
        assert len(atoms) == 12, (name, len(atoms))
        write(out / "cifs" / f"{name}.cif", atoms)
        lines.append(f"{name},{formula},{len(atoms)},{group}")
    (out / "units.csv").write_text("\n".join(lines) + "\n")
    for unit in ("B12", "CO2"):
        (out / f"units_{unit}.toml").write_text(f'[units]\nspec = "{unit}"\n')
    print(f"-> {out}/units.csv, {out}/cifs, {out}/units_B12.toml, {out}/units_CO2.toml")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["table"])
    parser.add_argument("--out", default="/tmp/units")
    args = parser.parse_args()
    table(Path(args.out))


if __name__ == "__main__":
    main()
