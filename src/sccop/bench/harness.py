"""`sccop bench`: sccop search and random symmetric search on a CSPBench-format table, in one run.

Each row asks for exactly `nsites` atoms of its composition; its reference structure (a CIF in
`cif_dir`, optional) is read only to score the result, never by a search. Per row and method:

- `sccop`: a `sccop search` in DIR/rows/<id>/sccop (its own database, resumable);
- `random`: sample symmetric structures and relax every one (sccop.baseline) in DIR/rows/<id>/random.

Both get the same budget (backend calls or minutes; with `random_evaluations`, random search gets that
many times the energy-and-force evaluations of the row's sccop pair, which then runs first) and the
same base config (sampler, backend, relax). Each finished method is refined and scored from its own
database (sccop.bench.scoring). DIR/results.jsonl gets one line per finished (row, method), written by
this process only; results.csv and summary.md are rebuilt from it. Rerunning skips finished pairs; an
interrupted pair resumes from its own database. `workers` > 1 runs pairs on a local Dask cluster, one
pair per worker process, each writing only inside its own row folder.
"""

from __future__ import annotations

import json
import logging
import time
from functools import partial
from pathlib import Path

from sccop.bench.scoring import score, score_refined
from sccop.bench.settings import METHODS, BenchSettings, bench_record, check, check_record, refine_key, row_config
from sccop.bench.summary import write_results
from sccop.bench.table import BenchRow, reference_path, safe_name
from sccop.calls.execution import make_executor
from sccop.calls.rundir import exclusive
from sccop.config import ExecutionConfig, RunConfig
from sccop.errors import SccopInputError
from sccop.relaxation import describe_error

log = logging.getLogger(__name__)


def run_pair(row: BenchRow, method: str, config: RunConfig, out: Path, reference: Path | None = None,
             calculator=None, force: bool = False, finished: dict | None = None,
             evaluations: int | None = None) -> dict:
    """Run one method on one row, refine its answer (symmetrise and re-relax, re-rank when configured) and
    score it against the row (and `reference`, a structure file, when given); never raises: a failure is
    a result with its reason. `finished`: this pair's earlier result, whose method run is then not
    repeated: the pair is scored again from its database (and refined, if the refinement settings
    changed). `evaluations`: random search's budget in energy-and-force evaluations instead of the
    config's calls or minutes."""
    from sccop.baseline import random_search
    from sccop.bench.resample import expectation, read_pool
    from sccop.loop.driver import Search

    from sccop.calls.store import open_store

    folder = out / "rows" / safe_name(row.id) / method
    rescoring = finished is not None and finished.get("status") == "ok"
    start = time.perf_counter()
    name = "sccop.db" if method == "sccop" else "random.db"
    try:
        if method not in METHODS:
            raise SccopInputError(f"unknown method {method!r} (known: {', '.join(METHODS)})")
        if not rescoring:
            if method == "sccop" and config.units.spec:  # rigid units ([units] spec in the bench's config)
                from sccop.units.search import UnitsSearch

                UnitsSearch(config, folder, force=force, progress=False, calculator=calculator).run()
            elif method == "sccop":
                Search(config, folder, force=force, progress=False, calculator=calculator).run()
            else:
                calls, minutes = config.search.budget_calls, config.search.budget_minutes
                if evaluations is not None:
                    calls = minutes = None
                random_search(config, folder, budget_calls=calls, budget_minutes=minutes,
                              budget_evaluations=evaluations, calculator=calculator, force=force)
        db = open_store(folder, config, name)
        result = score(db, row, reference, config=config)
        if method == "sccop":
            result["stopped"] = db.metadata.get("stopped")
        if evaluations is not None:
            result["budget_evaluations"] = evaluations
        if method == "random":  # its relaxations are independent draws: their expectation is less noisy
            result.update(expectation(read_pool(db), row.spacegroup))
    except Exception as exc:  # noqa: BLE001 - one bad row must not stop the benchmark
        reason = str(exc) if isinstance(exc, SccopInputError) else describe_error(exc)
        log.warning("%s on %s failed: %s", method, row.id, reason)
        result = {"status": "failed", "reason": reason}
    if result.get("status") == "ok":
        try:
            result.update(score_refined(open_store(folder, config, name), row, reference, config, calculator=calculator))
        except Exception as exc:  # noqa: BLE001 - the raw scores stand; the pair is refined again next time
            reason = str(exc) if isinstance(exc, SccopInputError) else describe_error(exc)
            log.warning("refining %s on %s failed: %s", method, row.id, reason)
            result["refine_reason"] = reason
    if result.get("status") == "ok" and reference is not None:
        try:
            result.update(reference_scores(row, reference, config, folder, open_store(folder, config, name), result,
                                           calculator))
        except Exception as exc:  # noqa: BLE001 - the other scores stand; the reference is tried again next time
            reason = str(exc) if isinstance(exc, SccopInputError) else describe_error(exc)
            log.warning("relaxing the reference of %s failed: %s", row.id, reason)
            result["reference_reason"] = reason
    minutes = round((time.perf_counter() - start) / 60.0, 2)
    if rescoring and finished.get("wall_minutes") is not None:
        result["wall_minutes"] = finished["wall_minutes"]
        result["refine_wall_minutes"] = minutes
    else:
        result["wall_minutes"] = minutes
    return {"id": row.id, "method": method, **result}


def reference_scores(row: BenchRow, reference: Path, config: RunConfig, folder: Path, store, result: dict,
                     calculator=None) -> dict:
    """The reference relaxed by the row's backend (in reference-METHOD beside the method's `folder`, read
    back on a rerun) and whether
    the method reached its energy, as relaxed and, when refined, after refinement (sccop.bench.reference)."""
    from sccop.bench.reference import reach_scores, relax_reference
    from sccop.bench.summary import ranked_energy

    out = relax_reference(reference, row.formula, config, folder.parent / f"reference-{folder.name}", calculator)
    energy = out.get("reference_energy_per_atom")
    out.update(reach_scores(store, ranked_energy(result), energy, result.get("structure_match")))
    refined = ranked_energy({k[len("refined_"):]: v for k, v in result.items() if k.startswith("refined_")})
    if refined is not None and energy is not None:
        scores = reach_scores(store, refined, energy, result.get("refined_structure_match"))
        out.update({f"refined_{k}": scores[k] for k in ("reached", "gap_mev", "miss_cause") if k in scores})
    return out


def load_results(path: Path) -> dict[tuple[str, str], dict]:
    """The results ledger DIR/results.jsonl: the last line of each (row, method) counts."""
    results = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                try:
                    item = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by a crash: that pair runs again
                    continue
                results[(item["id"], item["method"])] = item
    return results


def random_budget(sccop: dict | None, settings: BenchSettings) -> tuple[int | None, str | None]:
    """Random search's evaluation budget for a row (None: the bench budget) and, when it cannot be set,
    why: `random_evaluations` times the row's sccop pair's evaluations."""
    if settings.random_evaluations is None:
        return None, None
    if not sccop or sccop.get("status") != "ok" or not sccop.get("evaluations"):
        return None, "no finished sccop pair whose evaluations random search's budget could match"
    return max(1, round(settings.random_evaluations * sccop["evaluations"])), None


def run_bench(
    table: list[BenchRow],
    base: RunConfig,
    settings: BenchSettings,
    out: str | Path,
    *,
    force: bool = False,
    progress: bool = True,
    calculator=None,
    rescore: bool = False,
) -> dict[tuple[str, str], dict]:
    """Run every (row, method) of `table` not finished yet; returns their results (finished before and now).
    results.csv and summary.md cover `table` (the rows asked for this time). `rescore`: score the finished
    pairs again from their databases (after a change in scoring), without running their methods. One
    process at a time in DIR."""
    check(settings, base)
    out = Path(out)
    with exclusive(out, "a bench"):
        check_record(out, bench_record(base, settings), force)
        return _run_bench(table, base, settings, out, force=force, progress=progress, calculator=calculator,
                          rescore=rescore)


def _run_bench(table, base, settings, out: Path, *, force, progress, calculator, rescore):
    from tqdm import tqdm

    path = out / "results.jsonl"
    results = load_results(path)
    # Finished pairs are skipped; failed ones run again (a lost worker, a fixed input), resuming their own
    # databases, so no backend call is repeated.
    key = refine_key(base)
    todo = [(row, m) for row in table for m in settings.methods
            if rescore or results.get((row.id, m), {}).get("status") != "ok" or results[(row.id, m)].get("refine_settings") != key]
    total = len(table) * len(settings.methods)
    if len(todo) < total:
        log.info("%d of %d row-method pairs already finished", total - len(todo), total)
    executor = make_executor(ExecutionConfig(workers=settings.workers))
    task = partial(_task, out=out, calculator=calculator, cif_dir=settings.cif_dir, force=force)
    # With random search's budget tied to sccop's evaluations, a row's sccop pair runs first.
    later = [(row, m) for row, m in todo if m == "random" and settings.random_evaluations is not None]
    phases = [[pair for pair in todo if pair not in later], later]
    try:
        with tqdm(total=total, initial=total - len(todo), desc="bench", unit="row-method", disable=not progress) as bar:
            for phase in phases:
                items = [(row, m, row_config(base, row, settings), results.get((row.id, m)),
                          random_budget(results.get((row.id, "sccop")), settings) if m == "random" else (None, None))
                         for row, m in phase]
                for k, result in executor.map(task, items):
                    row, method = items[k][:2]
                    if isinstance(result, BaseException):  # the worker was lost even after retries
                        result = {"id": row.id, "method": method, "status": "failed", "reason": f"task lost: {describe_error(result)}"}
                    results[(row.id, method)] = result
                    with open(path, "a") as fh:
                        fh.write(json.dumps(result) + "\n")
                    write_results(out, table, results, settings.methods)
                    bar.set_postfix_str(f"{row.id} {method}: {_brief(result)}")
                    bar.update(1)
    finally:
        executor.close()
    write_results(out, table, results, settings.methods)
    return {(r.id, m): results[(r.id, m)] for r in table for m in settings.methods if (r.id, m) in results}


def _task(item, out: Path, calculator, cif_dir, force):
    row, method, config, finished, (evaluations, problem) = item
    if problem is not None:
        return {"id": row.id, "method": method, "status": "failed", "reason": problem}
    return run_pair(row, method, config, out, reference_path(row, cif_dir), calculator=calculator, force=force,
                    finished=finished, evaluations=evaluations)


def _brief(result: dict) -> str:
    if result.get("status") != "ok":
        return "failed"
    hit = "hit" if result.get("spacegroup_match") else "miss"
    return f"sg {result.get('best_spacegroup')} {hit}, {result.get('calls')} calls"


__all__ = ["run_pair", "run_bench", "load_results", "random_budget"]
