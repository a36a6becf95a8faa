"""How the space-group prior treats a benchmark table's rows (scoring only: each row's group is read to
score, never given to the model or the sampler).

    python scripts/prior_on_dev.py ../shared/benchmarks/cspbench_dev.csv [--weight 0.5]

Per row, for its cell of exactly `nsites` atoms: the rank of the row's group in `sccop predict-groups`
(among the groups that fit), and the chance that one draw of the sampler lands in it, with the default
point-group weights and with `group_prior = "model"`. Then the counts over the table.
"""

from __future__ import annotations

import argparse
import csv

import numpy as np

from sccop.composition import cell_sizes, parse_composition
from sccop.config import SamplerConfig
from sccop.prior.predict import predict_groups
from sccop.sampling.sampler import Sampler


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("table")
    p.add_argument("--weight", type=float, default=0.5)
    args = p.parse_args(argv)
    rows = list(csv.DictReader(open(args.table)))
    ranks, plain_mass, prior_mass = [], [], []
    print("| row | formula | atoms | group | rank (of fitting) | P(draw) point groups | P(draw) with prior |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        composition = parse_composition(row["full_formula"])
        units = cell_sizes(composition, row["nsites"])
        group = int(row["spacegroup"])
        votes = predict_groups(composition, units, top=230)
        rank = next((k for k, v in enumerate(votes, 1) if v.group == group), None)
        masses = []
        for config in (SamplerConfig(), SamplerConfig(group_prior="model", prior_weight=args.weight)):
            sampler = Sampler(composition, units, config)
            numbers = [g.number for g, _ in sampler.options]
            masses.append(float(sampler.group_probabilities[numbers.index(group)]) if group in numbers else 0.0)
        ranks.append(rank or 999)
        plain_mass.append(masses[0])
        prior_mass.append(masses[1])
        print(f"| {row['material_id']} | {row['full_formula']} | {row['nsites']} | {group} | {rank} | "
              f"{masses[0]:.3f} | {masses[1]:.3f} |")
    ranks = np.array(ranks)
    print(f"\n{len(rows)} rows: the row's group first among the fitting groups for {(ranks == 1).sum()}, in the first 5 "
          f"for {(ranks <= 5).sum()}, the first 10 for {(ranks <= 10).sum()}; mean chance per draw "
          f"{np.mean(plain_mass):.3f} with point-group weights, {np.mean(prior_mass):.3f} with the prior "
          f"(weight {args.weight:g}); median {np.median(plain_mass):.3f} -> {np.median(prior_mass):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
