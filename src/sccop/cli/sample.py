"""Sample symmetric structures of a composition and write them to extxyz or an ASE database.

Atom counts are per primitive cell; structures are written as primitive cells unless --conventional.
"""

from __future__ import annotations

import argparse
import logging
import time

HELP = "sample symmetric candidate structures of a composition"
log = logging.getLogger("sccop.sample")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from sccop.cli.common import add_cell_size

    p.add_argument("composition", help="chemical formula, e.g. Mg2SiO4, BC3, C")
    add_cell_size(p)
    p.add_argument("--count", type=int, default=10, help="number of structures (default 10)")
    p.add_argument("--spacegroups", help="allowed groups, e.g. 1-230 or 225,221 (layer groups 1-80 with --dim 2)")
    p.add_argument("--dim", type=int, choices=(2, 3), default=3, help="3 for crystals, 2 for layers")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same structures)")
    p.add_argument("--distance-factor", type=float, help="f in d_ij >= f (r_i + r_j)")
    p.add_argument("--symmetry-bias", type=float,
                   help="draw groups by (point-group order)^B; 0: uniformly (default 1)")
    p.add_argument("--orbit-bias", type=float,
                   help="draw a group's Wyckoff assignments with weight exp(-B * extra orbits); 0: uniformly (default 0)")
    p.add_argument("--thickness", type=float, help="2D: puckering thickness in Angstrom (default 0)")
    p.add_argument("--vacuum", type=float, help="2D: vacuum along c in Angstrom (default 15)")
    p.add_argument("--conventional", action="store_true", help="write conventional instead of primitive cells")
    p.add_argument("--out", required=True, help="output file: .extxyz/.xyz (extxyz) or .db (ASE database)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")


def run(args: argparse.Namespace) -> int:
    from sccop.api import sample
    from sccop.cli.common import output_path
    from sccop.config import SamplerConfig
    from sccop.errors import SccopInputError
    from sccop.io import output_format, write_structures
    from sccop.sampling.sampler import SamplerStats
    from sccop.symmetry.groups import parse_groups

    out = output_path(args.out)
    output_format(out)  # before the work: a name ASE cannot write is refused now
    overrides = {
        k: v
        for k, v in {
            "distance_factor": args.distance_factor,
            "symmetry_bias": args.symmetry_bias,
            "orbit_bias": args.orbit_bias,
            "thickness": args.thickness,
            "vacuum": args.vacuum,
        }.items()
        if v is not None
    }
    config = SamplerConfig(
        dim=args.dim,
        spacegroups=tuple(parse_groups(args.spacegroups, args.dim)),
        primitive=not args.conventional,
        **overrides,
    )
    start = time.perf_counter()
    stats = SamplerStats()
    structures = sample(args.composition, args.count, atoms=args.atoms, formula_units=args.formula_units, seed=args.seed,
                        config=config, stats=stats, progress=not args.quiet)
    if not structures:
        raise SccopInputError(f"no valid structure of {args.composition} found within the attempt limits")
    write_structures(structures, out)
    elapsed = time.perf_counter() - start
    log.info("wrote %d structures of %s to %s (%d attempts, %.1f s)", len(structures), args.composition, args.out,
             sum(stats.attempts.values()), elapsed)
    return 0 if len(structures) == args.count else 1
