"""Train the composition -> space-group model shipped in sccop (src/sccop/prior/group_model.npz).

    python scripts/train_group_prior.py [--data ../shared/data/mp_composition_spacegroup.csv]
                                        [--benchmarks ../shared/benchmarks] [--seed 0] [--out FILE]

The data's distinct formulas are split 90/10 (a formula's rows all on one side); 10% of the training
formulas are held out again to stop the fit. Printed: top-1/5/10 accuracy on the held-out formulas,
against the majority baseline (the groups ranked by how often they occur in training), and on the
benchmark's dev rows. The script refuses data that holds a benchmark composition (the shared file has
them removed; keep it that way): the model must never have seen a benchmark's answer.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

from sccop.prior.features import feature_matrix
from sccop.prior.model import CREDIT, MODEL_FILE
from sccop.prior.training import formula_key, split_by_formula, top_k_accuracy, train_model

ROOT = Path(__file__).resolve().parents[1]


def benchmark_formulas(folder: Path) -> dict[str, int | None]:
    """{formula key: group or None} of every benchmark composition: the dev table, and the CIFs of the
    prototypes and mp20_medium (read for their compositions only)."""
    keys: dict[str, int | None] = {}
    table = folder / "cspbench_dev.csv"
    if table.exists():
        with table.open() as fh:
            for row in csv.DictReader(fh):
                keys[formula_key(row["pretty_formula"])] = int(row["spacegroup"])
    from pymatgen.core import Structure

    for cif in sorted(folder.glob("**/*.cif")):
        try:
            formula = Structure.from_file(cif).composition.reduced_formula
        except Exception:  # noqa: BLE001 - a CIF pymatgen cannot read names no composition
            continue
        keys.setdefault(formula_key(formula), None)
    return keys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/mp_composition_spacegroup.csv")
    p.add_argument("--benchmarks", type=Path, default=ROOT.parent / "shared/benchmarks")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=MODEL_FILE)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    with args.data.open() as fh:
        rows = [(r["formula"], int(r["spacegroup"])) for r in csv.DictReader(fh)]
    formulas = [f for f, _ in rows]
    groups = np.array([g for _, g in rows])
    bench = benchmark_formulas(args.benchmarks)
    seen = sorted({formula_key(f) for f in formulas} & set(bench))
    if seen:
        sys.exit(f"the data holds {len(seen)} benchmark composition(s), e.g. {seen[:5]}: remove them first")
    start = time.time()
    features = feature_matrix(formulas)
    print(f"{len(rows)} rows, {len({formula_key(f) for f in formulas})} formulas, {features.shape[1]} features "
          f"({time.time() - start:.0f} s)")
    kept, test = split_by_formula(formulas, 0.1, args.seed)
    sub_train, sub_val = split_by_formula([formulas[i] for i in kept], 0.1, args.seed + 1)
    train, val = kept[sub_train], kept[sub_val]
    print(f"train {len(train)} rows, validation {len(val)}, test {len(test)} (no formula on two sides)")
    start = time.time()
    model = train_model(features[train], groups[train], (features[val], groups[val]), seed=args.seed)
    minutes = (time.time() - start) / 60
    counts = np.bincount(groups[train], minlength=231)[1:].astype(float)
    majority = np.tile(counts / counts.sum(), (len(test), 1))
    result = {"test_rows": len(test), "train_rows": len(train), "minutes": round(minutes, 1),
              "model": top_k_accuracy(model.probabilities_of(features[test]), groups[test]),
              "majority": top_k_accuracy(majority, groups[test])}
    dev = [(k, g) for k, g in bench.items() if g is not None]
    if dev:
        dev_features = feature_matrix([k for k, _ in dev])
        dev_groups = np.array([g for _, g in dev])
        result["dev_rows"] = len(dev)
        result["dev_model"] = top_k_accuracy(model.probabilities_of(dev_features), dev_groups)
        result["dev_majority"] = top_k_accuracy(np.tile(counts / counts.sum(), (len(dev), 1)), dev_groups)
    model.info.update({"data": args.data.name, "rows": len(rows), "split_seed": args.seed, "credit": CREDIT,
                       "accuracy": result})
    model.save(args.out)
    print(json.dumps(result, indent=1))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
