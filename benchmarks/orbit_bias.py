"""How often one sampler draw lands in a reference's Wyckoff family (its group and its assignment of
elements to Wyckoff positions), by `[sampler] orbit_bias`.

    python benchmarks/orbit_bias.py ../shared/benchmarks/prototypes [--biases 0 1 2 3]

Per CIF: the reference's group and assignment (pymatgen, symprec 0.01, standard setting), its orbits
against the fewest the group allows for that cell, the chance that a draw picks its group (the
sampler's group weights, defaults otherwise) and, within the group, the chance that the drawn
assignment is the reference's, at each bias (above 0 the sampler enumerates the assignments with the
fewest orbits first, so a family can be listed at one bias and not at another). The reference is read only to score the sampler: nothing
here feeds a search. Assignments equivalent to the reference's by an origin shift (2a for 2b, say) are
not counted, so the chances are lower bounds, alike for every bias.
"""

from __future__ import annotations

import argparse
import warnings
from collections import Counter
from pathlib import Path

import numpy as np


def family(path: Path) -> tuple[str, int, int, dict[str, int], tuple]:
    """(reduced formula, group, primitive formula units, conventional counts, sorted (element, label) orbits)."""
    from pymatgen.core import Structure
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        structure = Structure.from_file(path)
        analyzer = SpacegroupAnalyzer(structure, symprec=0.01)
        conventional = analyzer.get_conventional_standard_structure()
        primitive = analyzer.get_primitive_standard_structure()
        # Wyckoff labels with the conventional cell's multiplicities, as the sampler's tables have them
        symmetrized = SpacegroupAnalyzer(conventional, symprec=0.01).get_symmetrized_structure()
    orbits = tuple(sorted((sites[0].specie.symbol, label)
                          for sites, label in zip(symmetrized.equivalent_sites, symmetrized.wyckoff_symbols)))
    reduced, units = primitive.composition.get_reduced_formula_and_factor()
    counts = Counter(site.specie.symbol for site in conventional)
    return reduced, analyzer.get_space_group_number(), int(units), dict(counts), orbits


def main() -> None:
    from sccop.composition import parse_composition
    from sccop.config import SamplerConfig
    from sccop.sampling.sampler import Sampler
    from sccop.symmetry.groups import get_group
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
        formula, number, units, counts, orbits = family(path)
        sampler = Sampler(parse_composition(formula), [units], config)
        groups = [g.number for g, _ in sampler.options]
        p_group = float(sampler.group_probabilities[groups.index(number)]) if number in groups else 0.0
        group = get_group(number)
        cells, listed = [], []
        for b in args.biases:  # the sampler's enumeration at this bias (above 0: the fewest orbits first)
            assignments = wyckoff_assignments(group, counts, cap=config.assignment_cap, fewest_first=b > 0)
            keys = [tuple(sorted((el, group.wyckoffs[i].label) for el, i in a)) for a in assignments]
            hit = np.array([k == orbits for k in keys])
            listed.append(bool(hit.any()))
            p = float(parsimony_weights(assignments, b)[hit].sum())
            draws[b].append(p_group * p)
            cells.append(f"{p:.3f}")
        fewest = min(len(a) for a in assignments)
        print(f"| {path.stem} | {number} | {len(orbits)} ({fewest}) | {len(assignments)}"
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
