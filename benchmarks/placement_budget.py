"""Does the tree-search budget or the number of lattices per assignment change the sampler's success?

Mg2SiO4 (7 atoms), CuIn5Se8 (14), C (8); every fitting space group; 3 structures each, per setting.
Prints time, structures, give-ups and failed/total attempts for each setting, in one run.

Usage: python benchmarks/placement_budget.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")

SETTINGS = [
    {"max_nodes": 16, "lattice_tries": 3},
    {"max_nodes": 64, "lattice_tries": 3},
    {"max_nodes": 256, "lattice_tries": 3},
    {"max_nodes": 64, "lattice_tries": 1},
]


def main() -> None:
    from sccop.composition import formula_units_for, parse_composition
    from sccop.config import SamplerConfig
    from sccop.errors import NoWyckoffCombinationError
    from sccop.sampling.sampler import Sampler, SamplerStats
    from sccop.symmetry.groups import get_group

    for number in range(1, 231):
        get_group(number)
    print(f"{'setting':36s} {'seconds':>8s} {'structures':>10s} {'gave up':>8s} {'failed attempts':>16s}")
    for setting in SETTINGS:
        start, stats = time.perf_counter(), SamplerStats()
        for formula, natoms in [("Mg2SiO4", 7), ("CuIn5Se8", 14), ("C", 8)]:
            comp = parse_composition(formula)
            z = formula_units_for(comp, atoms=(natoms, natoms))
            for number in range(1, 231):
                try:
                    sampler = Sampler(comp, z, SamplerConfig(spacegroups=(number,), **setting))
                except NoWyckoffCombinationError:
                    continue
                for i in range(3):
                    sampler.sample_one(np.random.default_rng([number, i]), stats)
        failed, total = sum(stats.failures.values()), sum(stats.attempts.values())
        print(f"{str(setting):36s} {time.perf_counter() - start:8.2f} {stats.structures:10d} {stats.gave_up:8d} "
              f"{failed:>7d}/{total:<7d} ({failed / total:.0%})")


if __name__ == "__main__":
    main()
