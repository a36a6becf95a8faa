"""The relaxation's optimizer on sampled structures: evaluations per relaxation and the minima reached.

    python benchmarks/optimizer_compare.py GdOs2:4 Y5S7:1 ... [--samples 20] [--optimizers fire,bfgs]
                                          [--seed 0] [--out DIR]

Per composition (FORMULA:formula units per cell): the sampler's first `samples` structures at the default
settings, each relaxed with CHGNet on the CPU through sccop's own relaxation (`relax_many`, the default
`[relax]` settings but the optimizer), once per optimizer from the same start. Results are kept in
DIR/FORMULA_UNITS_SEED_OPTIMIZER.json and read back when present.

Printed per composition and optimizer: the mean evaluations of a relaxation (optimizer steps plus one),
the share converged and failed, the seconds, the lowest relaxed energy against the lowest of all
optimizers, and, start by start against the first optimizer, the share that lands more than 5 meV/atom
lower or higher. Then the same summed over the compositions. Nothing here reads a reference structure.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def relaxations(formula: str, units: int, samples: int, seed: int, optimizer: str) -> list[dict]:
    from sccop.composition import parse_composition
    from sccop.config import RunConfig
    from sccop.relaxation import relax_many
    from sccop.sampling.sampler import Sampler

    config = RunConfig()
    sampler = Sampler(parse_composition(formula), [units], config.sampler)
    starts = [structure.to_atoms() for _, structure in sampler.sample(samples, seed, start=0)]
    t0 = time.perf_counter()
    results = relax_many(starts, config.backend, replace(config.relax, optimizer=optimizer))
    seconds = time.perf_counter() - t0
    return [{"ok": r.ok, "energy_per_atom": r.energy_per_atom if r.ok else None, "evaluations": r.steps + 1,
             "converged": bool(r.converged), "reason": r.reason, "seconds": seconds / len(results)} for r in results]


def load(out: Path, formula: str, units: int, samples: int, seed: int, optimizer: str) -> list[dict]:
    path = out / f"{formula}_{units}_{seed}_{optimizer}.json"
    if path.exists():
        found = json.loads(path.read_text())
        if len(found) >= samples:
            return found[:samples]
    found = relaxations(formula, units, samples, seed, optimizer)
    path.write_text(json.dumps(found))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("compositions", nargs="+", help="FORMULA:units, e.g. GdOs2:4")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--optimizers", default="fire,bfgs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="optimizer_compare")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = args.optimizers.split(",")
    totals = {name: {"evaluations": 0, "seconds": 0.0, "lower": 0, "higher": 0, "pairs": 0, "best": 0} for name in names}
    for item in args.compositions:
        formula, units = item.split(":")
        runs = {name: load(out, formula, int(units), args.samples, args.seed, name) for name in names}
        lowest = min(r["energy_per_atom"] for rs in runs.values() for r in rs if r["ok"])
        print(f"{formula} x{units} ({args.samples} starts; lowest of all {lowest:.4f} eV/atom)")
        first = runs[names[0]]
        for name in names:
            rs = runs[name]
            ok = [r for r in rs if r["ok"]]
            evaluations = sum(r["evaluations"] for r in rs)
            seconds = sum(r["seconds"] for r in rs)
            best = min(r["energy_per_atom"] for r in ok) if ok else float("nan")
            pairs = [(a["energy_per_atom"], b["energy_per_atom"]) for a, b in zip(first, rs) if a["ok"] and b["ok"]]
            diff = np.array([b - a for a, b in pairs]) * 1000
            lower, higher = int((diff < -5).sum()), int((diff > 5).sum())
            t = totals[name]
            t["evaluations"] += evaluations
            t["seconds"] += seconds
            t["lower"] += lower
            t["higher"] += higher
            t["pairs"] += len(pairs)
            t["best"] += int((best - lowest) * 1000 <= 5)
            print(f"  {name:6s} {evaluations / len(rs):6.1f} ev/relaxation, converged {sum(r['converged'] for r in rs)}"
                  f"/{len(rs)}, failed {len(rs) - len(ok)}, {seconds:6.1f} s, best {1000 * (best - lowest):+6.1f} meV/atom;"
                  f" against {names[0]}: lower {lower}, higher {higher} of {len(pairs)}")
    print("all compositions")
    base = totals[names[0]]
    for name in names:
        t = totals[name]
        print(f"  {name:6s} evaluations {t['evaluations']} ({t['evaluations'] / base['evaluations']:.2f} x {names[0]}), "
              f"{t['seconds']:.0f} s ({t['seconds'] / base['seconds']:.2f} x), lowest reached on {t['best']} of "
              f"{len(args.compositions)}; against {names[0]}: lower {t['lower']}, higher {t['higher']} of {t['pairs']}")


if __name__ == "__main__":
    main()
