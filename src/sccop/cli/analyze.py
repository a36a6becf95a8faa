"""First-shell coordination patterns around one species in a run's top structures (vacant template sites
of an ordering run count as Vac), with k, the sum of the shell's oxidation states. Writes
DIR/coordination.json, which `sccop report` shows as a table and a plot."""

from __future__ import annotations

import argparse

HELP = "coordination patterns around a species in a run's top structures"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", help="a search directory (holds sccop.db)")
    p.add_argument("--center", required=True, help="the centre species, e.g. Se")
    p.add_argument("--top", type=int, default=5, help="structures analysed (default 5)")
    p.add_argument("--oxidation", help="oxidation states, e.g. Cu=1,In=3,Se=-2 (default: pymatgen's guess)")
    p.add_argument("--shell", type=float, default=0.2,
                   help="first shell: within (1 + SHELL) x the nearest-neighbour distance (default 0.2)")


def run(args: argparse.Namespace) -> int:
    from sccop.allowed import integer, number
    from sccop.cli.common import checked
    from sccop.coordination import analyze, parse_oxidation

    checked(args, top=integer(1, 1000), shell=number(0.0, 2.0))
    results = analyze(args.directory, args.center, args.top, parse_oxidation(args.oxidation), args.shell)
    import json
    from pathlib import Path

    oxidation = json.loads((Path(args.directory) / "coordination.json").read_text())["oxidation"]
    print(f"first shells around {args.center}" + (f" (oxidation states {oxidation})" if oxidation else ""))
    for p in results:
        total = sum(p.counts.values())
        parts = ", ".join(f"{name} x{n}" + (f" (k={p.k[name]:g})" if p.k[name] is not None else "")
                          for name, n in sorted(p.counts.items(), key=lambda kv: -kv[1]))
        print(f"#{p.rank} {p.energy:.4f} eV/atom, {total} centres: {parts}")
    return 0
