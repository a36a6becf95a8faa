"""Ordering on a fixed lattice against ground truth by exhaustion (issue 25).

For each case: every distinct arrangement (up to the template's symmetry) gets a CHGNet single point on
the template's geometry; the lowest is the ground truth. Then sccop orders the composition on the same
template at default settings (seeds 0, 1, 2) and we record the backend calls until it first labelled
that arrangement, and its best label within the budget. Random search's expectation at equal calls is
exact: the mean of the lowest of k arrangements drawn without repetition, each distinct one weighted by
the arrangements it stands for (its orbit under the template's operations).

    python benchmarks/ordering_exhaustive.py --cases cis16 cis32 gazno --out /tmp/ordering
    python benchmarks/ordering_exhaustive.py --cases cis16 --prior random --out /tmp/ordering   # round 0 at random

Cases: cis16: Cu1In5Vac2Se8 on the 16-site chalcopyrite cell; cis32: the same on 2x1x1 (32 sites,
Cu2In10Vac4Se16, 28 atoms); gazno: GaZnNO on 2x2x1 wurtzite (16 sites, Ga4Zn4N4O4). The templates are
built from their textbook crystallography (CuInSe2: I-42d, a 5.782, c 11.619, Se x 0.2271; GaN: P6_3mc,
a 3.189, c 5.185, u 0.377); the answer is never read.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def templates(folder: Path) -> dict:
    from ase.io import write
    from ase.spacegroup import crystal

    cis = crystal(["Cu", "In", "Se"], basis=[(0, 0, 0), (0, 0, 0.5), (0.2271, 0.25, 0.125)], spacegroup=122,
                  cellpar=[5.782, 5.782, 11.619, 90, 90, 90])
    gan = crystal(["Ga", "N"], basis=[(1 / 3, 2 / 3, 0), (1 / 3, 2 / 3, 0.377)], spacegroup=186,
                  cellpar=[3.189, 3.189, 5.185, 90, 90, 120])
    folder.mkdir(parents=True, exist_ok=True)
    write(folder / "CuInSe2.cif", cis)
    write(folder / "GaN.cif", gan)
    return {
        "cis16": ("Cu1In5Vac2Se8", folder / "CuInSe2.cif", "Cu,In", None, 60),
        "cis32": ("Cu1In5Vac2Se8", folder / "CuInSe2.cif", "Cu,In", "2x1x1", 120),
        "gazno": ("GaZnNO", folder / "GaN.cif", "Ga=Ga,Zn;N=N,O", "2x2x1", 120),
    }


def orbit_sizes(template, distinct: np.ndarray) -> np.ndarray:
    from sccop.ordering.arrangement import count_arrangements

    perms = template.permutations
    sizes = np.array([len({tuple(row[p]) for p in perms}) for row in distinct], dtype=float)
    assert abs(sizes.sum() - count_arrangements(template)) < 0.5, (sizes.sum(), count_arrangements(template))
    return sizes


def random_expectation(energies: np.ndarray, weights: np.ndarray, k: int, draws: int = 4000, seed: int = 0) -> float:
    """Mean lowest energy of k distinct arrangements drawn with probability by orbit size, without repetition."""
    rng = np.random.default_rng(seed)
    p = weights / weights.sum()
    best = [energies[rng.choice(len(energies), size=min(k, len(energies)), replace=False, p=p)].min() for _ in range(draws)]
    return float(np.mean(best))


def hit_probability(energies, weights, k, target, draws=4000, seed=0) -> float:
    rng = np.random.default_rng(seed)
    p = weights / weights.sum()
    hits = [energies[rng.choice(len(energies), size=min(k, len(energies)), replace=False, p=p)].min() <= target + 1e-9
            for _ in range(draws)]
    return float(np.mean(hits))


def main() -> None:
    from sccop.config import BackendConfig, RunConfig
    from sccop.ordering.arrangement import distinct_arrangements, key, to_atoms
    from sccop.ordering.search import order
    from sccop.ordering.template import load_template
    from sccop.relaxation import single_points

    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", nargs="+", default=["cis16", "cis32", "gazno"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default="/tmp/ordering")
    parser.add_argument("--kappa", type=float, default=None, help="[ordering] kappa (default: the program's)")
    parser.add_argument("--prior", default=None, help="[ordering] prior: valence or random (default: the program's)")
    args = parser.parse_args()
    out = Path(args.out)
    cases = templates(out / "templates")
    backend = BackendConfig(name="chgnet")
    results = {}
    for name in args.cases:
        composition, path, sites, supercell, budget = cases[name]
        template = load_template(path, composition, sites, supercell)
        distinct = distinct_arrangements(template)
        cache = out / f"{name}_exhaustive.npz"
        start = time.perf_counter()
        if cache.exists():
            energies = np.load(cache)["energies"]
        else:
            energies = []
            for k in range(0, len(distinct), 256):
                found = single_points([to_atoms(template, c)[0] for c in distinct[k : k + 256]], backend)
                energies += [r.energy_per_atom if r.ok else np.inf for r in found]
            energies = np.array(energies)
            np.savez(cache, energies=energies, codes=distinct)
        exhaust_min = (time.perf_counter() - start) / 60
        weights = orbit_sizes(template, distinct)
        lowest = int(np.argmin(energies))
        target = float(energies[lowest])
        print(f"{name}: {template.describe()}")
        print(f"  {int(weights.sum())} arrangements before symmetry, {len(distinct)} distinct; exhaustive single points "
              f"{exhaust_min:.1f} min; lowest {target:.5f} eV/atom ({key(distinct[lowest])}), next "
              f"{np.sort(energies)[1]:.5f}")
        rows = []
        for seed in args.seeds:
            config = RunConfig(backend=backend, seed=seed)
            config = replace(config, search=replace(config.search, budget_calls=budget))
            if args.kappa is not None:
                config = replace(config, ordering=replace(config.ordering, kappa=args.kappa))
            if args.prior is not None:
                config = replace(config, ordering=replace(config.ordering, prior=args.prior))
            shutil.rmtree(out / f"{name}_s{seed}", ignore_errors=True)  # a fresh run, not a resumed one
            t = time.perf_counter()
            result = order(composition, path, out / f"{name}_s{seed}", sites=sites, supercell=supercell, config=config,
                           force=True)
            minutes = (time.perf_counter() - t) / 60
            from sccop.calls.store import open_store

            store = open_store(out / f"{name}_s{seed}", config)
            labels = sorted(store.rows(stage="label", status="ok"), key=lambda r: int(r.get("calls")))
            hit = next((int(r.get("calls")) for r in labels if r.get("energy_per_atom") <= target + 1e-6), None)
            best = min(r.get("energy_per_atom") for r in labels)
            n = len(labels)
            rand = random_expectation(energies, weights, n)
            p_hit = hit_probability(energies, weights, n, target)
            rows.append({"seed": seed, "labels": n, "calls": result.calls, "hit_call": hit, "best": best, "minutes": minutes,
                         "random_best": rand, "random_hit_p": p_hit})
            print(f"  seed {seed}: {n} labels ({result.calls} calls with relaxations, {minutes:.1f} min, "
                  f"stopped {result.stopped}); lowest found at call {hit}; best label {best:.5f} "
                  f"({1000 * (best - target):+.1f} meV/atom); random at {n} labels: expected best "
                  f"{1000 * (rand - target):+.1f} meV/atom, P(hit) {p_hit:.2f}")
        results[name] = {"distinct": len(distinct), "before_symmetry": int(weights.sum()), "lowest": target,
                         "lowest_key": key(distinct[lowest]), "runs": rows}
    (out / "ordering_exhaustive.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
