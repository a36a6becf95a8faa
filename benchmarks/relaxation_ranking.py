"""How well a sampled structure's energy, before and early in its relaxation, ranks where it relaxes to.

    python benchmarks/relaxation_ranking.py GdOs2:4 Y5S7:1 Ti5Te4:1 NdLuSe3:2 [--samples 40] [--seed 0] [--out DIR]

Per composition (FORMULA:formula units per cell): the sampler's first `samples` structures at the default
settings, each relaxed with CHGNet on the CPU (ASE's FIRE on a FrechetCellFilter, fmax 0.05 eV/A, at most
300 steps), recording the energy per atom at every step (DIR/FORMULA_SEED.json, read back when present).
Printed: the Spearman correlation of the energy after k steps with the relaxed energy (k = 0 is the single
point a search labels with), and, over 3,000 random draws, two ways of spending the same evaluations:

- plain: relax 6 random structures in full (random search);
- screen: relax as many random structures for k steps, then the third lowest after those steps in full,
  drawing structures until the evaluations reach plain's.

For each, the mean gap of its best relaxed energy above the lowest of all `samples` relaxations and the
share of draws within 5 meV/atom of that lowest. Nothing here reads a reference structure.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def trajectories(formula: str, units: int, samples: int, seed: int) -> list[list[float]]:
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE

    from sccop.backends.ml import chgnet_calculator
    from sccop.composition import parse_composition
    from sccop.config import RunConfig
    from sccop.sampling.sampler import Sampler

    sampler = Sampler(parse_composition(formula), [units], RunConfig().sampler)
    calc = chgnet_calculator("cpu")
    out = []
    for _, structure in sampler.sample(samples, seed, start=0):
        atoms = structure.to_atoms()
        atoms.calc = calc
        path: list[float] = []
        opt = FIRE(FrechetCellFilter(atoms), logfile=None)
        opt.attach(lambda: path.append(float(atoms.get_potential_energy()) / len(atoms)))
        try:
            opt.run(fmax=0.05, steps=300)
        except Exception:  # noqa: BLE001 - a structure CHGNet cannot treat is left out
            continue
        distances = atoms.get_all_distances(mic=True)[np.triu_indices(len(atoms), 1)]
        if np.isfinite(path[-1]) and distances.min() > 0.6:
            out.append(path)
    return out


def compare(paths: list[list[float]], rng: np.random.Generator, draws: int = 3000, plain_count: int = 6) -> None:
    from scipy.stats import spearmanr

    final = np.array([p[-1] for p in paths])
    steps = np.array([len(p) for p in paths])

    def after(k: int) -> np.ndarray:
        return np.array([p[min(k, len(p) - 1)] for p in paths])

    print(f"  {len(paths)} relaxations, mean {steps.mean():.0f} evaluations; Spearman(energy after k steps, relaxed): "
          + ", ".join(f"k={k} {spearmanr(after(k), final)[0]:.2f}" for k in (0, 5, 10, 20, 40)))
    best = final.min()
    for k in (5, 10, 20):
        early = after(k)
        plain_gap, screen_gap, starts = [], [], []
        for _ in range(draws):
            plain = rng.choice(len(paths), plain_count, replace=False)
            cost = steps[plain].sum()
            order = rng.permutation(len(paths))
            for m in range(1, len(paths) + 1):
                drawn = order[:m]
                kept = drawn[np.argsort(early[drawn])[: max(1, m // 3)]]
                spent = np.minimum(steps[drawn], k).sum() + (steps[kept] - np.minimum(steps[kept], k)).sum()
                if spent >= cost:
                    break
            plain_gap.append(1000 * (final[plain].min() - best))
            screen_gap.append(1000 * (final[kept].min() - best))
            starts.append(m)
        plain_gap, screen_gap = np.array(plain_gap), np.array(screen_gap)
        print(f"  k={k}: plain ({plain_count} starts) gap {plain_gap.mean():.1f} meV/atom, within 5: {np.mean(plain_gap < 5):.2f}"
              f" | screen ({np.mean(starts):.1f} starts) gap {screen_gap.mean():.1f}, within 5: {np.mean(screen_gap < 5):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", nargs="+", help="FORMULA:UNITS, e.g. GdOs2:4")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="relaxation_ranking")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    for case in args.cases:
        formula, units = case.split(":")
        path = out / f"{formula}_{args.seed}.json"
        if path.exists():
            paths = json.loads(path.read_text())
        else:
            start = time.perf_counter()
            paths = trajectories(formula, int(units), args.samples, args.seed)
            path.write_text(json.dumps(paths))
            print(f"{formula}: relaxed in {time.perf_counter() - start:.0f} s")
        print(f"{formula} ({units} formula units, {args.samples} samples, seed {args.seed}):")
        compare(paths, np.random.default_rng(0))


if __name__ == "__main__":
    main()
