"""Rank the space groups of a composition with the shipped composition -> space-group model, among the
groups whose Wyckoff positions fit the cell (--atoms / --formula-units, as for `sccop search`).

The model was trained on Materials Project crystals (CC BY 4.0) with every benchmark composition removed;
its accuracy is in docs/benchmarks.md. It is a prior, not an answer: `[sampler] group_prior = "model"`
lets a search draw these groups more often and test them with the backend.
"""

from __future__ import annotations

import argparse

HELP = "rank the likely space groups of a composition (the shipped composition -> group model)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from sccop.cli.common import add_cell_size

    p.add_argument("composition", help="chemical formula, e.g. NaCl, Mg2SiO4")
    add_cell_size(p)
    p.add_argument("--top", type=int, default=10, help="how many groups to list (default 10)")


def run(args: argparse.Namespace) -> int:
    from sccop.api import predict_groups
    from sccop.composition import cell_sizes, parse_composition
    from sccop.prior.model import load_model

    composition = parse_composition(args.composition)
    units = cell_sizes(composition, args.atoms, args.formula_units)
    votes = predict_groups(args.composition, args.top, atoms=args.atoms, formula_units=args.formula_units)
    atoms = sorted({z * composition.atoms_per_formula for z in units})
    accuracy = load_model().info.get("accuracy", {}).get("model", {})
    print(f"# {composition.formula}, {', '.join(map(str, atoms))} atoms per primitive cell: the model's "
          "probabilities renormalised over the groups that fit")
    print(f"{'rank':>4}  {'group':>5}  {'symbol':<12} {'probability':>11}  {'model (all 230)':>15}")
    for rank, vote in enumerate(votes, 1):
        print(f"{rank:>4}  {vote.group:>5}  {vote.symbol:<12} {vote.probability:>11.3f}  {vote.model_probability:>15.3f}")
    if accuracy:
        print(f"# held-out formulas: the true group is first for {accuracy['1']:.0%}, among the first 5 for "
              f"{accuracy['5']:.0%}, the first 10 for {accuracy['10']:.0%}; Materials Project data, CC BY 4.0")
    return 0
