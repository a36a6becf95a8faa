"""How often one sampler draw lands in a reference's Wyckoff family (its group and its assignment of
elements to Wyckoff positions), by `[sampler] orbit_bias`.

    python benchmarks/orbit_bias.py ../shared/benchmarks/prototypes [--biases 0 1 2 3]

Per CIF: the reference's group and assignment (sccop.loop.seeds.seed_assignment, as a seed structure's is
read: spglib at 0.1 A, the sampler's tables), its orbits against the fewest the group allows for that cell, the chance that a draw picks its group (the
sampler's group weights, defaults otherwise) and, within the group, the chance that the drawn
assignment is the reference's, at each bias (above 0 the sampler enumerates the assignments with the
fewest orbits first, so a family can be listed at one bias and not at another). The reference is read
only to score the sampler: nothing here feeds a search. Assignments equivalent to the reference's by an origin shift (2a for 2b, say) are
not counted, so the chances are lower bounds, alike for every bias.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np


def family(path: Path):
    """(reduced formula, group, primitive formula units, conventional counts, the assignment in the sampler's
    tables) of a reference, from sccop's own reading of a seed's assignment (spglib at 0.1 A); None when the
    sampler's tables do not know it."""
    from ase.io import read
    from pymatgen.core import Composition

    from sccop.loop.seeds import seed_assignment
    from sccop.symmetry.analysis import wyckoff_orbits
    from sccop.symmetry.groups import get_group

    atoms = read(path)
    group = get_group(wyckoff_orbits(atoms)[0])
    assignment = seed_assignment(atoms, group)
    if assignment is None:
        return None
    counts = Counter()
    for element, index in assignment:
        counts[element] += group.wyckoffs[index].multiplicity
    reduced, per_cell = Composition(dict(counts)).get_reduced_formula_and_factor()
    return reduced, group, int(per_cell) // group.centring_factor, dict(counts), assignment


def main() -> None:
    from sccop.composition import parse_composition
    from sccop.config import SamplerConfig
    from sccop.sampling.sampler import Sampler
    from sccop.symmetry.wyckoff import parsimony_weights, wyckoff_assignments

    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--biases", type=float, nargs="+", default=[0.0, 1.0, 2.0, 3.0])
    args = parser.parse_args()
    config = SamplerConfig()
    head = " | ".join(f"P(assignment), B={b:g}" for b in args.biases)
    print(f"| reference | group | orbits (fewest) | assignments | P(group) | {head} |")
    print("|---" * (5 + len(args.biases)) + "|")
    draws = {b: [] for b in args.biases}
    for path in sorted(Path(args.folder).glob("*.cif")):
        found = family(path)
        if found is None:
            print(f"| {path.stem} | its assignment is not in the sampler's tables |")
            continue
        formula, group, units, counts, reference = found
        sampler = Sampler(parse_composition(formula), [units], config)
        groups = [g.number for g, _ in sampler.options]
        p_group = float(sampler.group_probabilities[groups.index(group.number)]) if group.number in groups else 0.0
        cells, listed = [], []
        for b in args.biases:  # the sampler's enumeration at this bias (above 0: the fewest orbits first)
            assignments = wyckoff_assignments(group, counts, cap=config.assignment_cap, fewest_first=b > 0)
            hit = np.array([a == reference for a in assignments])
            listed.append(bool(hit.any()))
            p = float(parsimony_weights(assignments, b)[hit].sum())
            draws[b].append(p_group * p)
            cells.append(f"{p:.3f}")
        listing = wyckoff_assignments(group, counts, cap=config.assignment_cap)  # the default's
        fewest = min(len(a) for a in wyckoff_assignments(group, counts, cap=config.assignment_cap, fewest_first=True))
        print(f"| {path.stem} | {group.number} | {len(reference)} ({fewest}) | {len(listing)}"
              f"{'' if all(listed) else ', reference listed at ' + '/'.join('yn'[not x] for x in listed)} | "
              f"{p_group:.3f} | " + " | ".join(cells) + " |")
    n = len(next(iter(draws.values())))
    print()
    for b in args.biases:
        d = np.array(draws[b])
        print(f"B={b:g}: one draw lands in the reference's family: mean {d.mean():.4f}, median {np.median(d):.4f} "
              f"({n} references; family never drawn: {int((d == 0).sum())})")


if __name__ == "__main__":
    main()
