"""Benchmark sccop search against random symmetric search (sample, relax everything, keep the lowest) on
a CSPBench-format table: per row and method the best structure's space group against the row's, the
top-5, StructureMatcher success against <material_id>.cif or <full_formula>.cif in --cif-dir, and the
backend calls and minutes until the first hit. Each method's answer is then refined (symmetrise and
re-relax, duplicates merged; re-ranked with --rerank) and scored again, as relaxed, symmetrised and
re-ranked, in the same run. Writes DIR/results.csv and DIR/summary.md; running it again skips the
finished rows. The reference structures are read only for scoring.
"""

from __future__ import annotations

import argparse

HELP = "benchmark sccop against random search on a CSPBench-format table"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from sccop.bench.settings import DEFAULT_CALLS

    p.add_argument("table", help="CSV with material_id (or name), full_formula/primitive_formula (or formula), nsites, spacegroup")
    p.add_argument("--cif-dir", help="folder of reference CIFs named <material_id>.cif or <full_formula>.cif")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--rows", help="1-based rows, e.g. 1-10 or 1,4,7")
    which.add_argument("--ids", help="comma-separated ids, e.g. mp-1,mp-2")
    p.add_argument("--methods", default="sccop,random", help="sccop, random or both (default sccop,random)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--budget-calls", type=int, help=f"backend calls per row and method (default {DEFAULT_CALLS})")
    budget.add_argument("--budget-minutes", type=float, help="minutes per row and method")
    p.add_argument("--random-evaluations", type=float, metavar="F",
                   help="random search's budget per row: F times the energy-and-force evaluations of the row's "
                        "sccop pair (1: the same cost; sccop's pair runs first), instead of the calls or minutes")
    p.add_argument("--backend", help="energy backend (default chgnet)")
    p.add_argument("--rerank", help="second backend that re-ranks each method's final candidates, e.g. sevennet "
                   "(scored as reranked_*; may be added to a finished bench, which then re-scores without searching again)")
    p.add_argument("--model", help="model of the backend, e.g. 7net-l3i5 or 7net-mf-0 for sevennet")
    p.add_argument("--modal", help="fidelity of a multi-fidelity model: PBE or R2SCAN for 7net-mf-0")
    p.add_argument("--rerank-model", help="model of the re-ranking backend, e.g. 7net-l3i5")
    p.add_argument("--rerank-modal", help="fidelity of the re-ranking backend's model, e.g. PBE for 7net-mf-0")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--db", help="every row's database on one server: postgresql://user@host/database (default: "
                   "each row folder's own SQLite file)")
    p.add_argument("--workers", type=int, default=1, help="row-method pairs run at once on a local Dask cluster")
    p.add_argument("--config", help="TOML file with base settings (sampler, backend, relax, search ...)")
    p.add_argument("--out", required=True, help="benchmark directory (an existing one is resumed)")
    p.add_argument("--force", action="store_true", help="resume DIR even though the settings changed")
    p.add_argument("--rescore", action="store_true",
                   help="score the finished pairs again from their databases (no search is run again)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sccop.backends import parse_backend
    from sccop.bench import BenchSettings, read_table, run_bench
    from sccop.calls.rundir import load_config
    from sccop.cli.common import output_path
    from sccop.config import from_dict

    out = output_path(args.out)
    data = load_config(args.config) if args.config else {}
    if args.backend:
        data.setdefault("backend", {})["name"] = parse_backend(args.backend).value
    if args.seed is not None:
        data["seed"] = args.seed
    if args.db:
        data.setdefault("store", {})["url"] = args.db
    if args.rerank:
        data.setdefault("refine", {})["rerank"] = parse_backend(args.rerank).value
    for option, section, key in (("model", "backend", "model"), ("modal", "backend", "modal"),
                                 ("rerank_model", "refine", "rerank_model"), ("rerank_modal", "refine", "rerank_modal")):
        if getattr(args, option):
            data.setdefault(section, {})[key] = getattr(args, option)
    base = from_dict(data)
    table = read_table(args.table, rows=args.rows, ids=args.ids)
    settings = BenchSettings(
        methods=tuple(m.strip() for m in args.methods.split(",") if m.strip()),
        budget_calls=args.budget_calls, budget_minutes=args.budget_minutes,
        workers=args.workers, cif_dir=args.cif_dir, random_evaluations=args.random_evaluations,
    )
    results = run_bench(table, base, settings, out, force=args.force, progress=not args.quiet, rescore=args.rescore)
    print((Path(out) / "summary.md").read_text())
    failed = sum(r.get("status") != "ok" for r in results.values())
    if failed:
        print(f"{failed} row-method pair(s) failed; their reasons are in results.csv")
    return 1 if results and failed == len(results) else 0
