"""2D benchmarks (issue 24): five known layers, and a BC2N study.

    python benchmarks/layers.py table --out DIR
        DIR/layers.csv (name, formula, nsites, layer group) and DIR/cifs/<name>.cif: graphene, h-BN, 2H-MoS2,
        black phosphorene and buckled silicene, built with ASE from their experimental (or, for silicene,
        DFT) lattice constants. They are read only to score: `sccop bench DIR/layers.csv --cif-dir DIR/cifs
        --config benchmarks/layers.toml ...` relaxes each with the row's backend and scores both methods
        against it (docs/benchmarks.md has the commands and the numbers).

    python benchmarks/layers.py bc2n --out DIR [--seed 0] [--top 6] [--rounds 10]
        `sccop search BC2N --dim 2 --atoms 8` with CHGNet, `rounds` rounds (patience as many: no convergence
        stop; the defaults are 3 rounds and patience 2), phonons of its lowest structures,
        and each one's energy against graphene + h-BN relaxed by the same backend: E(BC2N)/N - (E_C + E_BN)/2
        per atom, the mixing energy of one C2 and one BN unit in the plane (0: no better than separate
        graphene and h-BN domains).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def phosphorene():
    """One layer of black phosphorus (Cmce, a 3.314, b 10.48, c 4.376 A, P at 8f (0, 0.1017, 0.0806)), the
    stacking axis b turned into c."""
    from ase import Atoms
    from ase.spacegroup import crystal

    bulk = crystal("P", [(0, 0.1017, 0.0806)], spacegroup=64, cellpar=[3.314, 10.48, 4.376, 90, 90, 90])
    frac = bulk.get_scaled_positions()
    y = (frac[:, 1] + 0.5) % 1.0 - 0.5
    layer = np.abs(y) < 0.25
    a, b, c = bulk.cell.lengths()
    positions = np.column_stack([frac[layer, 0] * a, frac[layer, 2] * c, y[layer] * b + 10.0])
    return Atoms("P" * int(layer.sum()), positions=positions, cell=[a, c, 20.0], pbc=(True, True, False))


def layers():
    from ase.build import graphene, mx2

    return {
        "graphene": graphene("C2", a=2.46, vacuum=10.0),
        "hBN": graphene("BN", a=2.50, vacuum=10.0),
        "MoS2": mx2("MoS2", kind="2H", a=3.18, thickness=3.19, vacuum=10.0),
        "phosphorene": phosphorene(),
        "silicene": graphene("Si2", a=3.87, thickness=0.45, vacuum=10.0),
    }


def write_table(out: Path) -> None:
    import spglib
    from ase.io import write
    from pymatgen.core import Composition

    cifs = out / "cifs"
    cifs.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, atoms in layers().items():
        group = spglib.get_symmetry_layerdataset((atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers),
                                                 aperiodic_dir=2, symprec=0.01).number
        formula = Composition(atoms.get_chemical_formula()).reduced_formula
        atoms.pbc = True  # a CIF is a 3D cell; the bench reads it back as a layer (c its normal)
        write(cifs / f"{name}.cif", atoms)
        rows.append({"name": name, "formula": formula, "nsites": len(atoms), "spacegroup": group})
    with open(out / "layers.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["name", "formula", "nsites", "spacegroup"])
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print(row)


def relaxed_reference(name: str, config):
    """A benchmark layer relaxed by `config`'s backend (cell in its plane), as the search's cells are."""
    from sccop.relaxation import relax
    from sccop.symmetry.analysis import as_layer

    atoms = as_layer(layers()[name], 20.0)
    result = relax(atoms, config.backend, config.relax)
    if not result.ok:
        raise RuntimeError(f"{name} did not relax: {result.reason}")
    return result


def bc2n(out: Path, seed: int, top: int, rounds: int) -> None:
    from sccop.config import RunConfig
    from sccop.phonons import phonons_of_run

    run = out / f"bc2n_s{seed}_r{rounds}"
    settings = out / f"bc2n_r{rounds}.toml"
    settings.write_text(f"[search]\nrounds = {rounds}\npatience = {rounds}\n")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sccop.cli.main", "search", "BC2N", "--dim", "2", "--atoms", "8",
                    "--seed", str(seed), "--config", str(settings), "--out", str(run), "--quiet"], check=True)
    search_minutes = (time.perf_counter() - start) / 60.0
    config = RunConfig()
    graphene, hbn = relaxed_reference("graphene", config), relaxed_reference("hBN", config)
    e_c, e_bn = graphene.energy_per_atom, hbn.energy_per_atom
    start = time.perf_counter()
    phonon_rows = {str(row["rank"]): row for row in phonons_of_run(run, top=top, progress=False)}
    phonon_minutes = (time.perf_counter() - start) / 60.0
    with open(run / "summary.csv") as fh:
        summary = list(csv.DictReader(fh))[:top]
    lines = []
    for line in summary:
        ph = phonon_rows.get(line["rank"], {})
        mixing = float(line["energy_per_atom"]) - 0.5 * (e_c + e_bn)
        lines.append({"rank": line["rank"], "group": f"{line['spacegroup_symbol']} ({line['spacegroup']})",
                      "energy_per_atom": float(line["energy_per_atom"]), "mixing_mev_per_atom": round(1000 * mixing, 1),
                      "formation_energy_per_atom": line.get("formation_energy_per_atom"),
                      "area_per_atom": line.get("area_per_atom"), "round": line["round"], "calls": line["calls"],
                      "imaginary": ph.get("imaginary"), "min_commensurate_thz": ph.get("min_commensurate_frequency_thz"),
                      "min_thz": ph.get("min_frequency_thz")})
    report = {"seed": seed, "search_minutes": round(search_minutes, 1), "phonon_minutes": round(phonon_minutes, 1),
              "graphene_energy_per_atom": round(e_c, 4), "hbn_energy_per_atom": round(e_bn, 4), "structures": lines}
    (out / f"bc2n_s{seed}_r{rounds}.json").write_text(json.dumps(report, indent=1))
    print(f"BC2N seed {seed}, {rounds} rounds: search {search_minutes:.1f} min, phonons {phonon_minutes:.1f} min; graphene "
          f"{e_c:.4f}, h-BN {e_bn:.4f} eV/atom")
    print("| rank | layer group | E (eV/atom) | vs graphene + h-BN (meV/atom) | area (A^2/atom) | found in round (calls) | "
          "phonons (lowest at the supercell's q, THz) |")
    print("|---|---|---|---|---|---|---|")
    for x in lines:
        verdict = "-" if x["imaginary"] in (None, "") else ("imaginary" if x["imaginary"] else "stable")
        print(f"| {x['rank']} | {x['group']} | {x['energy_per_atom']:.4f} | {x['mixing_mev_per_atom']:+.1f} | "
              f"{float(x['area_per_atom']):.3f} | {x['round']} ({x['calls']}) | {verdict} ({x['min_commensurate_thz']}) |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=("table", "bc2n"))
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--top", type=int, default=6)
    p.add_argument("--rounds", type=int, default=10)
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.what == "table":
        write_table(out)
    else:
        bc2n(out, args.seed, args.top, args.rounds)


if __name__ == "__main__":
    main()
