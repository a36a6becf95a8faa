"""How often one lattice draw has the shape of a reference's cell, by `[sampler] lattice_shapes`.

    python benchmarks/lattice_shapes.py ../shared/benchmarks/mp20_medium [--draws 20000] [--tolerance 0.1]

Per CIF in a tetragonal, trigonal or hexagonal group (the systems whose shape is one ratio, c/a): the
reference's conventional cell (spglib at 0.1 A, hexagonal axes for an R lattice), its c / V^(1/3), and the
share of the sampler's lattice draws (its generators mixed by `uniform_share`, the volume window of the
reference's composition and cell) whose c / V^(1/3) lies within `tolerance` (relative) of the reference's,
for narrow and wide shapes. The reference is read only to score the sampler: nothing here feeds a search.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main() -> None:
    from ase.io import read
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    from sccop.composition import parse_composition
    from sccop.config import LATTICE_SHAPES, SamplerConfig
    from sccop.sampling.lattice import sample_lattice
    from sccop.sampling.sampler import Sampler
    from sccop.symmetry.groups import get_group

    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--draws", type=int, default=20000)
    parser.add_argument("--tolerance", type=float, default=0.1)
    args = parser.parse_args()
    config = SamplerConfig()
    print("| reference | formula | group | c / V^(1/3) | " + " | ".join(f"share within {args.tolerance:.0%}, {s}"
                                                                   for s in LATTICE_SHAPES) + " |")
    print("|---" * (4 + len(LATTICE_SHAPES)) + "|")
    shares = {s: [] for s in LATTICE_SHAPES}
    for path in sorted(Path(args.folder).glob("*.cif")):
        structure = AseAtomsAdaptor.get_structure(read(path))
        analyzer = SpacegroupAnalyzer(structure, symprec=0.1)
        group = get_group(analyzer.get_space_group_number())
        if group.lattice_system not in ("tetragonal", "trigonal", "hexagonal"):
            continue
        cell = analyzer.get_conventional_standard_structure().lattice
        ratio = cell.c / cell.volume ** (1.0 / 3.0)
        reduced, factor = structure.composition.get_reduced_composition_and_factor()
        composition = parse_composition(reduced.formula.replace(" ", ""))
        window = Sampler(composition, [int(factor)], config).window(group, int(factor))
        cells = []
        for shapes in LATTICE_SHAPES:
            rng = np.random.default_rng(0)
            hits = 0
            for _ in range(args.draws):
                sample = sample_lattice(group.lattice_system, window, rng, uniform_share=config.uniform_share,
                                        shapes=shapes, rhombohedral=group.centring == "R")
                drawn = sample.c / abs(np.linalg.det(sample.matrix())) ** (1.0 / 3.0)
                hits += abs(drawn / ratio - 1.0) <= args.tolerance
            shares[shapes].append(hits / args.draws)
            cells.append(f"{hits / args.draws:.3f}")
        print(f"| {path.stem} | {reduced.reduced_formula} | {group.number}{' (R)' if group.centring == 'R' else ''} | "
              f"{ratio:.2f} | " + " | ".join(cells) + " |")
    print()
    for shapes, values in shares.items():
        v = np.array(values)
        print(f"{shapes}: mean share {v.mean():.3f}, median {np.median(v):.3f}, "
              f"below 0.01: {int((v < 0.01).sum())} of {len(v)}")


if __name__ == "__main__":
    main()
