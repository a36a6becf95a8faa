"""Dynamical stability of a search's top structures: each is relaxed tightly with its symmetry fixed,
then phonopy computes finite-displacement phonons with the backend (the re-ranking backend for
re-ranked structures). Writes DIR/phonons/phonons.csv (lowest frequency, imaginary modes yes/no) and a
band-structure + DOS plot per structure; `sccop report DIR` then shows them."""

from __future__ import annotations

import argparse

HELP = "phonons of the top structures of a search (phonopy): flags imaginary modes"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", help="a finished search directory (holds config.toml and sccop.db)")
    p.add_argument("--top", type=int, default=3, help="structures, in the answer's order (summary.csv; default 3)")
    p.add_argument("--backend", help="backend for the forces (default: the one that ranked each structure)")
    p.add_argument("--fmax", type=float, default=0.01, help="tight relaxation first, eV/A (default 0.01)")
    p.add_argument("--min-length", type=float, default=10.0, help="smallest supercell width, A (default 10)")
    p.add_argument("--displacement", type=float, default=0.01, help="atomic displacement, A (default 0.01)")
    p.add_argument("--mesh", type=int, default=16, help="q-point mesh per direction (default 16)")
    p.add_argument("--threshold", type=float, default=0.1,
                   help="a frequency below minus this (THz) counts as imaginary (default 0.1)")
    p.add_argument("--config", help="TOML file whose [backend] settings (e.g. espresso_command) are used instead of "
                   "the directory's; the directory's own DFT commands are never run")
    p.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")


def run(args: argparse.Namespace) -> int:
    from sccop.allowed import integer, number
    from sccop.cli.common import backend_settings, checked
    from sccop.phonons import phonons_of_run

    checked(args, top=integer(1, 1000), fmax=number(0.0, 1.0, above=True), min_length=number(0.0, 100.0, above=True),
            displacement=number(0.0, 0.5, above=True), mesh=integer(1, 100), threshold=number(0.0, 100.0))
    given = backend_settings(args.config, "phonons") or None
    rows = phonons_of_run(args.directory, args.top, args.backend, progress=not args.quiet, fmax=args.fmax,
                          min_length=args.min_length, displacement=args.displacement, mesh=args.mesh,
                          threshold=args.threshold, backend_settings=given)
    for row in rows:
        if row["status"] != "ok":
            verdict = f"failed: {row['reason']}"
        else:
            verdict = "imaginary modes" if row["imaginary"] else "dynamically stable"
            if row.get("min_commensurate_frequency_thz") not in (None, ""):  # a layer
                verdict += (f" (lowest {row['min_commensurate_frequency_thz']} THz at the supercell's wave vectors, "
                            f"{row['min_frequency_thz']} THz anywhere: the flexural mode near Gamma)")
            else:
                verdict += f" (lowest {row['min_frequency_thz']} THz)"
        print(f"#{row['rank']} {row['formula']} {row['spacegroup']}: {verdict}")
    print(f"-> {args.directory}/phonons/phonons.csv")
    return 0 if any(row["status"] == "ok" for row in rows) else 1
