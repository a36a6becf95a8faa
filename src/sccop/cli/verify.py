"""DFT check of a search's answer: PBE single points (or, with --relax, relaxations) of the top structures
with GPAW or Quantum ESPRESSO, re-ranked by the DFT energy, and how the DFT ranking agrees with the ML
ranking. Every element's setup or pseudopotential is checked before anything runs. Writes
DIR/verify/verify.csv and verify.json; `sccop report DIR` then shows them. The cut-off, k-point spacing
and smearing are the [backend] settings (ecutwfc in Ry, kspacing in 1/A with 2 pi, smearing in Ry),
from --config or the options below."""

from __future__ import annotations

import argparse

HELP = "DFT single points or relaxations of the top structures, re-ranked against the ML ranking"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", help="a finished search directory (holds config.toml and sccop.db)")
    p.add_argument("--backend", required=True, help="DFT backend: gpaw, espresso or vasp")
    p.add_argument("--top", type=int, default=5, help="structures, in the answer's order (summary.csv; default 5)")
    p.add_argument("--relax", action="store_true", help="relax each structure with DFT (atoms and cell) instead "
                   "of a single point at the ML geometry")
    p.add_argument("--ecut", type=float, help="plane-wave cut-off, Ry (default: [backend] ecutwfc, 40)")
    p.add_argument("--kspacing", type=float, help="k-point spacing, 1/A with 2 pi (default: [backend] kspacing, 0.25)")
    p.add_argument("--config", help="TOML file whose [backend] settings (espresso_command, pseudo_dir, "
                   "gpaw_setup_path, ...) are used; the directory's own DFT commands are never run")
    p.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")


def run(args: argparse.Namespace) -> int:
    from sccop.allowed import integer, number
    from sccop.cli.common import backend_settings, checked
    from sccop.verify import verify_run

    checked(args, top=integer(1, 1000), ecut=number(0.0, 10**4, above=True, optional=True),
            kspacing=number(0.0, 10.0, above=True, optional=True))
    given = backend_settings(args.config, "verify")
    if args.ecut is not None:
        given["ecutwfc"] = args.ecut
    if args.kspacing is not None:
        given["kspacing"] = args.kspacing
    given.pop("name", None)
    rows, agreement = verify_run(args.directory, args.backend, args.top, args.relax, backend_settings=given,
                                 progress=not args.quiet)
    for row in sorted(rows, key=lambda r: (r["dft_rank"] == "", r["dft_rank"] or 0)):
        if row["status"] == "ok":
            print(f"DFT #{row['dft_rank']} (ML #{row['ml_rank']}) {row['formula']} {row['spacegroup']}: "
                  f"{row['dft_energy_per_atom']:.4f} eV/atom, +{row['dft_above_best_mev']} meV/atom "
                  f"(ML +{row['ml_above_best_mev']} meV/atom)")
        else:
            print(f"ML #{row['ml_rank']} {row['formula']} {row['spacegroup']}: failed: {row['reason']}")
    if agreement.structures:
        words = [f"{agreement.structures} structures", "the same lowest" if agreement.same_lowest
                 else f"DFT's lowest is ML #{agreement.dft_lowest_ml_rank}"]
        if agreement.pairs_in_order is not None:
            words.append(f"{agreement.pairs_in_order:.0%} of pairs in the same order")
        if agreement.spearman is not None:
            words.append(f"Spearman {agreement.spearman:.2f}, Kendall {agreement.kendall:.2f}")
        print("agreement: " + "; ".join(words))
    print(f"-> {args.directory}/verify/verify.csv")
    return 0 if agreement.structures else 1
