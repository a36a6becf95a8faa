"""Search for the lowest-energy crystal structures of a composition (the SCCOP loop).

Every option can also be set in a TOML file (--config run.toml) with the sections of the resolved
config that the run writes to DIR/config.toml; options on the command line win over the file. Running
the same command again on an existing DIR resumes it: no finished backend call is repeated.
"""

from __future__ import annotations

import argparse
import logging

HELP = "search for low-energy structures of a composition (sample, learn, anneal, relax)"
log = logging.getLogger("sccop.search")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("composition", nargs="?", help="chemical formula, e.g. Mg2SiO4 (or give it in --config)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--atoms", help="atoms per primitive cell, N or A-B (default: up to 8 atoms' formula units)")
    size.add_argument("--formula-units", help="formula units per primitive cell, N or A-B")
    p.add_argument("--spacegroups", help="allowed groups, e.g. 1-230 or 225,221 (plane groups 1-17 with --dim 2)")
    p.add_argument("--dim", type=int, choices=(2, 3), help="3 for crystals (default), 2 for layers")
    p.add_argument("--pressure", type=float, help="external pressure in GPa (ranks by enthalpy)")
    p.add_argument("--backend", help="energy backend: chgnet (default), sevennet, emt, espresso, vasp, gpaw")
    p.add_argument("--rounds", type=int, help="most rounds (default 3)")
    p.add_argument("--budget-calls", type=int, help="stop after this many backend calls")
    p.add_argument("--budget-minutes", type=float, help="stop after this many minutes")
    p.add_argument("--rerank", help="second backend that relaxes the final candidates and ranks them, e.g. sevennet")
    p.add_argument("--rerank-model", help="model of the re-ranking backend, e.g. 7net-l3i5")
    p.add_argument("--rerank-top", type=int, help="candidates re-ranked (default 10)")
    p.add_argument("--no-symmetrize", action="store_true",
                   help="report the relaxed structures as they are (no symmetrise-and-re-relax)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--workers", type=int, help="run backend calls on a local Dask cluster of N worker processes")
    p.add_argument("--config", help="TOML file with any of the settings")
    p.add_argument("--out", required=True, help="run directory (created; an existing one is resumed)")
    p.add_argument("--force", action="store_true", help="resume DIR even though the settings changed")
    p.add_argument("--quiet", action="store_true", help="no progress bars, warnings only")


def resolve(args: argparse.Namespace):
    """The RunConfig from --config and the command-line options (the options win)."""
    from sccop.backends import parse_backend
    from sccop.calls.rundir import load_config
    from sccop.config import from_dict
    from sccop.errors import SccopInputError
    from sccop.symmetry.groups import parse_groups

    data = load_config(args.config) if args.config else {}
    for key in ("sampler", "backend", "relax", "search", "execution", "refine"):
        data.setdefault(key, {})
    if args.composition:
        data["composition"] = args.composition
    if not data.get("composition"):
        raise SccopInputError("give a composition, e.g. `sccop search NaCl --out runs/NaCl`")
    if args.atoms:
        data["atoms"] = args.atoms
        data.pop("formula_units", None)
    if args.formula_units:
        data["formula_units"] = args.formula_units
        data.pop("atoms", None)
    if args.dim:
        data["sampler"]["dim"] = args.dim
    dim = data["sampler"].get("dim", 3)
    if args.spacegroups:
        data["sampler"]["spacegroups"] = list(parse_groups(args.spacegroups, dim))
    if args.pressure is not None:
        data["relax"]["pressure"] = args.pressure
    if args.backend:
        data["backend"]["name"] = parse_backend(args.backend).value
    for option, key in (("rounds", "rounds"), ("budget_calls", "budget_calls"), ("budget_minutes", "budget_minutes")):
        if getattr(args, option) is not None:
            data["search"][key] = getattr(args, option)
    if getattr(args, "rerank", None):
        data["refine"]["rerank"] = parse_backend(args.rerank).value
    for option in ("rerank_model", "rerank_top"):
        if getattr(args, option, None) is not None:
            data["refine"][option] = getattr(args, option)
    if getattr(args, "no_symmetrize", False):
        data["refine"]["symmetrize"] = False
    if args.seed is not None:
        data["seed"] = args.seed
    if args.workers is not None:
        if args.workers < 1:
            raise SccopInputError(f"--workers must be at least 1, got {args.workers}")
        data["execution"]["workers"] = args.workers
    return from_dict(data)


def run(args: argparse.Namespace) -> int:
    from sccop.cli.common import output_path
    from sccop.loop.driver import Search

    out = output_path(args.out)
    config = resolve(args)
    result = Search(config, out, force=args.force, progress=not args.quiet).run()
    if result.candidates:
        top = result.candidates[0]
        best = f"best: space group {top.spacegroup}, {top.energy:.4f} eV/atom"
        if top.rerank_energy is not None:
            name = config.refine.rerank + (f" {config.refine.rerank_model}" if config.refine.rerank_model else "")
            best += f" ({name}: space group {top.rerank_spacegroup}, {top.rerank_energy:.4f} eV/atom)"
    else:
        best = "no structure relaxed" if result.best_energy is None else f"best {result.best_energy:.4f} eV/atom"
    print(
        f"searched {config.composition}: {result.rounds} round(s), {result.calls} backend calls, {best}, "
        f"stopped on {result.stopped} -> {args.out}/summary.csv, {args.out}/best/"
    )
    if not result.succeeded:  # the answer is empty: say why, and do not report success
        import sys

        why = f" (the reason: {result.failure})" if result.failure else ""
        print(f"sccop: error: no backend call succeeded{why}", file=sys.stderr)
        return 1
    return 0
