"""Valid symmetric structures per second: sccop's sampler vs PyXtal's from_random, in one run.

Same compositions, same groups (every space group 1-230 that the cell size fits), same number of
requested structures per group for both. A request is one call that must return one valid structure:
sccop's `Sampler.sample_one` (which retries internally up to its attempt limit) and PyXtal's
`pyxtal().from_random` (which also retries internally); a failed request is a call that returned no
valid structure. Both are checked for the requested composition afterwards.

Group tables are loaded for both before timing. sccop's per-group set-up (compatibility check,
Wyckoff assignments, grids) is timed.

Usage: python benchmarks/sampler_vs_pyxtal.py [--per-group 2] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import Counter, defaultdict

import numpy as np

warnings.filterwarnings("ignore")

CASES = [("Mg2SiO4", 7), ("SrTiO3", 5), ("C", 8), ("CuIn5Se8", 14), ("B", 12)]


def run(per_group: int) -> dict:
    from pyxtal import pyxtal

    from sccop.composition import formula_units_for, parse_composition
    from sccop.config import SamplerConfig
    from sccop.errors import NoWyckoffCombinationError
    from sccop.sampling.sampler import Sampler, SamplerStats
    from sccop.symmetry.groups import get_group

    # Warm-up, untimed: load every group's tables once (this also fills PyXtal's own caches), so
    # neither method pays the one-time loading that whichever ran first would otherwise pay.
    for number in range(1, 231):
        get_group(number)
        pyxtal().from_random(3, number, ["C"], [get_group(number).wyckoffs[0].multiplicity], random_state=0)
    totals = {m: {"time": 0.0, "ok": 0, "requests": 0} for m in ("sccop", "pyxtal")}
    by_system = {m: defaultdict(Counter) for m in ("sccop", "pyxtal")}
    attempts = SamplerStats()
    for formula, natoms in CASES:
        comp = parse_composition(formula)
        z = formula_units_for(comp, atoms=(natoms, natoms))
        for number in range(1, 231):
            group = get_group(number)
            system = group.lattice_system
            # sccop: build a sampler for this one group (its set-up time counts) and request structures.
            t0 = time.perf_counter()
            try:
                sampler = Sampler(comp, z, SamplerConfig(spacegroups=(number,)))
            except NoWyckoffCombinationError:
                continue  # the composition fits no Wyckoff assignment here: skipped for both methods
            got = []
            for i in range(per_group):
                s = sampler.sample_one(np.random.default_rng([number, i]), attempts)
                if s is not None:
                    got.append(s.to_atoms())
            totals["sccop"]["time"] += time.perf_counter() - t0
            ok = sum(len(a) == natoms for a in got)
            for m, n_ok in (("sccop", ok),):
                totals[m]["ok"] += n_ok
                totals[m]["requests"] += per_group
                by_system[m][system]["requests"] += per_group
                by_system[m][system]["failed"] += per_group - n_ok
            # PyXtal: the same requests (conventional-cell counts, as PyXtal expects).
            species = [el for el, _ in comp.counts]
            counts = [n * z[0] * group.centring_factor for _, n in comp.counts]
            t0 = time.perf_counter()
            n_ok = 0
            for i in range(per_group):
                crystal = pyxtal()
                try:
                    crystal.from_random(3, number, species, counts, random_state=1000 * number + i)
                    if crystal.valid:
                        n_ok += len(crystal.to_ase()) == natoms * group.centring_factor
                except Exception:  # PyXtal signals some failures by raising
                    pass
            totals["pyxtal"]["time"] += time.perf_counter() - t0
            totals["pyxtal"]["ok"] += n_ok
            totals["pyxtal"]["requests"] += per_group
            by_system["pyxtal"][system]["requests"] += per_group
            by_system["pyxtal"][system]["failed"] += per_group - n_ok
        print(f"{formula}: done", flush=True)
    rate = {m: totals[m]["ok"] / totals[m]["time"] for m in totals}
    return {
        "per_group": per_group,
        "totals": totals,
        "rate_per_s": rate,
        "speedup": rate["sccop"] / rate["pyxtal"],
        "by_system": {m: {k: dict(v) for k, v in d.items()} for m, d in by_system.items()},
        "sccop_attempts": dict(attempts.attempts),
        "sccop_failed_attempts": dict(attempts.failures),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-group", type=int, default=2)
    parser.add_argument("--out")
    args = parser.parse_args()
    result = run(args.per_group)
    t = result["totals"]
    print(f"\nvalid structures per second: sccop {result['rate_per_s']['sccop']:.1f}, "
          f"PyXtal {result['rate_per_s']['pyxtal']:.1f}, ratio {result['speedup']:.1f}x")
    print(f"valid/requests: sccop {t['sccop']['ok']}/{t['sccop']['requests']}, PyXtal {t['pyxtal']['ok']}/{t['pyxtal']['requests']}")
    print(f"\n{'system':14s} {'requests':>8s} {'sccop failed':>12s} {'PyXtal failed':>13s} {'sccop failed attempts':>22s}")
    for system in ["triclinic", "monoclinic", "orthorhombic", "tetragonal", "trigonal", "hexagonal", "cubic"]:
        s = result["by_system"]["sccop"].get(system, {})
        p = result["by_system"]["pyxtal"].get(system, {})
        att = result["sccop_attempts"].get(system, 0)
        fail = result["sccop_failed_attempts"].get(system, 0)
        print(f"{system:14s} {s.get('requests', 0):8d} {s.get('failed', 0):12d} {p.get('failed', 0):13d} "
              f"{fail:>10d}/{att:<10d}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
