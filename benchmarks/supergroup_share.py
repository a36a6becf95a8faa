"""How often a sampled structure has more symmetry than its intended group (spglib, symprec 0.01).

Same cases as sampler_vs_pyxtal.py (Mg2SiO4 7, SrTiO3 5, C 8, CuIn5Se8 14, B 12 atoms; groups 1-230),
and the 17 plane groups for C 4 atoms; every structure is also checked to keep all intended operations.

Usage: python benchmarks/supergroup_share.py [--per-group 2]
"""

from __future__ import annotations

import argparse
import warnings
from collections import Counter

import numpy as np

warnings.filterwarnings("ignore")


def main() -> None:
    from sccop.composition import formula_units_for, parse_composition
    from sccop.config import SamplerConfig
    from sccop.errors import NoWyckoffCombinationError
    from sccop.sampling.sampler import Sampler
    from sccop.sampling.validate import check_symmetry
    from sccop.symmetry.groups import get_group

    parser = argparse.ArgumentParser()
    parser.add_argument("--per-group", type=int, default=2)
    args = parser.parse_args()
    total, superg, broken = Counter(), Counter(), 0
    cases = [("Mg2SiO4", 7, 3), ("SrTiO3", 5, 3), ("C", 8, 3), ("CuIn5Se8", 14, 3), ("B", 12, 3), ("C", 4, 2)]
    for formula, natoms, dim in cases:
        comp = parse_composition(formula)
        z = formula_units_for(comp, atoms=(natoms, natoms))
        for number in range(1, 231 if dim == 3 else 18):
            try:
                sampler = Sampler(comp, z, SamplerConfig(dim=dim, spacegroups=(number,)))
            except NoWyckoffCombinationError:
                continue
            system = f"{dim}D " + (get_group(number, dim).lattice_system if dim == 3 else "plane groups")
            for i in range(args.per_group):
                s = sampler.sample_one(np.random.default_rng([number, i]))
                if s is None:
                    continue
                check = check_symmetry(s, symprec=0.01)
                broken += not check.keeps_all_operations
                total[system] += 1
                superg[system] += check.is_supergroup
    print(f"{'crystal system':18s} {'structures':>10s} {'in a supergroup':>16s}")
    for system in total:
        print(f"{system:18s} {total[system]:10d} {superg[system] / total[system]:16.0%}")
    print(f"{'all':18s} {sum(total.values()):10d} {sum(superg.values()) / sum(total.values()):16.0%}")
    print(f"structures missing an intended operation: {broken}")


if __name__ == "__main__":
    main()
