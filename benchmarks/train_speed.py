"""Training the network: this checkout against an earlier commit, same data and seeds, in one run.

The earlier commit is checked out into a temporary git worktree and imported from there in a child
process; both sides train the same ensemble (the search's TrainConfig with patience off and fixed
epochs, so both do the same number of steps), alternated, median of the repeats. The script also
reports whether the two ensembles' weights are bit-for-bit the same: a speed-up that changed them
would change every search.

Usage: python benchmarks/train_speed.py --baseline REV [--labels 30,90] [--epochs 40] [--repeats 3] [--busy]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks_common import busy_core

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import hashlib, json, sys, time
import numpy as np, torch
import sccop
from sccop.composition import parse_composition
from sccop.config import SamplerConfig, TrainConfig
from sccop.graph import au_graph
from sccop.model.train import train_ensemble
from sccop.sampling.sampler import Sampler

n, epochs = int(sys.argv[1]), int(sys.argv[2])
sampler = Sampler(parse_composition("SrTiO3"), [1, 2], SamplerConfig())
graphs = [au_graph(s) for _, s in sampler.sample(n, seed=5)]
y = np.array([g.distances.mean() * (1 + 0.1 * len(g.numbers)) for g in graphs])
config = TrainConfig(epochs=epochs, patience=10**6, threads=1)
start = time.perf_counter()
ensemble, _ = train_ensemble(graphs, y, config, np.random.default_rng(0))
seconds = time.perf_counter() - start
digest = hashlib.sha256()
for member in ensemble.members:
    for value in member.state_dict().values():
        digest.update(value.numpy().tobytes())
print(json.dumps({"seconds": seconds, "weights": digest.hexdigest(), "module": sccop.__file__}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", required=True, help="the commit to compare against, e.g. HEAD~1")
    parser.add_argument("--labels", default="30,90")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="keep one core busy in another process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, busy_core(args.busy) as busy:
        tree = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.baseline],
                       check=True, capture_output=True)
        try:
            measure(args, {"baseline": tree / "src", "this checkout": ROOT / "src"}, busy)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)


def run(src: Path, n: int, epochs: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src), OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(epochs)], env=env, check=True,
                         capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not Path(result["module"]).is_relative_to(src):
        raise RuntimeError(f"imported {result['module']}, not the code under {src}")
    return result


def measure(args, sources: dict[str, Path], busy: bool) -> None:
    print(f"baseline {args.baseline}; {args.epochs} epochs x 3 members, fixed; median of {args.repeats}; "
          f"{'one core busy in another process' if busy else 'nothing else started by this script'}")
    print("labels  baseline s  this checkout s  ratio  same weights")
    for n in map(int, args.labels.split(",")):
        times = {name: [] for name in sources}
        weights = {}
        for _ in range(args.repeats):
            for name, src in sources.items():
                result = run(src, n, args.epochs)
                times[name].append(result["seconds"])
                weights[name] = result["weights"]
        old, new = (statistics.median(times[name]) for name in sources)
        print(f"{n:6d}  {old:10.2f}  {new:15.2f}  {old / new:4.2f}x  {len(set(weights.values())) == 1}", flush=True)


if __name__ == "__main__":
    main()
