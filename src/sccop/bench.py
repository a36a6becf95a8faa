"""`sccop bench`: sccop search and random symmetric search on a CSPBench-format table, in one run.

Each row asks for exactly `nsites` atoms of its composition; its reference structure (a CIF in
`cif_dir`, optional) is read only to score the result, never by a search. Per row and method:

- `sccop`: a `sccop search` in DIR/rows/<id>/sccop (its own database, resumable);
- `random`: sample symmetric structures and relax every one (sccop.baseline) in DIR/rows/<id>/random.

Both get the same budget (backend calls or minutes) and the same base config (sampler, backend, relax).
Scoring, from the databases: the best relaxed structure's space group (SpacegroupAnalyzer, symprec 0.1)
against the row's; the top-5 unique structures' groups; StructureMatcher(ltol=0.2, stol=0.3,
angle_tol=5) against the reference when there is one; and the backend calls and minutes until the first
relaxed structure in the final space group, in the row's space group (a hit) and matching the reference.

DIR/results.jsonl gets one line per finished (row, method), written by this process only; results.csv
and summary.md are rebuilt from it. Rerunning skips finished pairs; an interrupted pair resumes from its
own database. `workers` > 1 runs pairs on a local Dask cluster, one pair per worker process.
"""

from __future__ import annotations

import csv
import json
import logging
import statistics
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sccop.config import RunConfig, SearchConfig, describe_differences, setting_differences, to_dict, with_new_defaults
from sccop.errors import SccopInputError
from sccop.store import YEAR_MINUTES
from sccop.relax import describe_error

log = logging.getLogger(__name__)

METHODS = ("sccop", "random")
DEFAULT_CALLS = 150


@dataclass(frozen=True)
class BenchRow:
    """One row: an id (material_id or prototype name), composition, atoms, the reference group, and every
    column of the table as read (carried into the results)."""

    id: str
    formula: str
    nsites: int
    spacegroup: int
    category: str
    columns: dict = field(default_factory=dict)


def read_table(path: str | Path, rows: str | None = None, ids: str | None = None) -> list[BenchRow]:
    """Rows of a CSPBench-format CSV (material_id, primitive_formula or full_formula, nsites, spacegroup)
    or a prototype index (name, formula, nsites, spacegroup). `rows`: 1-based, e.g. "1-10" or "2,5";
    `ids`: comma-separated ids."""
    from sccop.composition import parse_composition, parse_range

    path = Path(path)
    if not path.exists():
        raise SccopInputError(f"benchmark table {path} does not exist")
    with open(path, newline="") as fh:
        table = list(csv.DictReader(fh))
    if not table:
        raise SccopInputError(f"benchmark table {path} has no rows")
    columns = set(table[0])
    id_key = next((k for k in ("material_id", "name") if k in columns), None)
    formula_key = next((k for k in ("full_formula", "primitive_formula", "formula") if k in columns), None)
    missing = [name for name, key in (("material_id (or name)", id_key), ("full_formula, primitive_formula or formula", formula_key))
               if key is None] + [k for k in ("nsites", "spacegroup") if k not in columns]
    if missing:
        raise SccopInputError(f"benchmark table {path} lacks the column(s): {'; '.join(missing)}")
    out = []
    for n, row in enumerate(table, 1):
        try:
            nsites, group = int(row["nsites"]), int(row["spacegroup"])
        except ValueError:
            raise SccopInputError(f"{path} line {n + 1}: nsites and spacegroup must be whole numbers") from None
        parse_composition(row[formula_key])  # unknown elements are named here, before anything runs
        out.append(BenchRow(row[id_key], row[formula_key], nsites, group, row.get("category") or "all", dict(row)))
    if rows:
        wanted: list[int] = []
        for part in rows.split(","):
            lo, hi = parse_range(part.strip(), "rows")
            wanted += range(lo, hi + 1)
        bad = [k for k in wanted if not 1 <= k <= len(out)]
        if bad:
            raise SccopInputError(f"--rows {rows}: the table has rows 1-{len(out)}, not {bad[0]}")
        out = [out[k - 1] for k in dict.fromkeys(wanted)]
    if ids:
        by_id = {r.id: r for r in out}
        wanted = list(dict.fromkeys(i.strip() for i in ids.split(",") if i.strip()))
        unknown = [i for i in wanted if i not in by_id]
        if unknown:
            raise SccopInputError(f"--ids: no row with id {', '.join(unknown)} in {path}")
        out = [by_id[i] for i in wanted]
    folders: dict[str, str] = {}
    for r in out:  # every row needs its own folder
        other = folders.setdefault(_safe(r.id), r.id)
        if other != r.id or sum(x.id == r.id for x in out) > 1:
            raise SccopInputError(f"{path}: rows {other!r} and {r.id!r} would share one folder; ids must be unique")
    return out


def reference_path(row: BenchRow, cif_dir: str | Path | None) -> Path | None:
    """<material_id>.cif, <full_formula>.cif, <name>.cif or <formula>.cif in cif_dir, the first that exists."""
    if not cif_dir:
        return None
    for key in (row.id, row.columns.get("full_formula"), row.columns.get("name"), row.formula):
        if key and (Path(cif_dir) / f"{key}.cif").exists():
            return Path(cif_dir) / f"{key}.cif"
    return None


@dataclass(frozen=True)
class BenchSettings:
    methods: tuple[str, ...] = METHODS
    budget_calls: int | None = None
    budget_minutes: float | None = None
    workers: int = 1
    cif_dir: str | None = None
    # Random search's budget per row: this many times the energy-and-force evaluations of the row's sccop
    # pair (1: both methods spend the same); None: the budget above, as sccop's.
    random_evaluations: float | None = None

    def budget(self) -> tuple[int | None, float | None]:
        if self.budget_calls is None and self.budget_minutes is None:
            return DEFAULT_CALLS, None
        return self.budget_calls, self.budget_minutes


def row_config(base: RunConfig, row: BenchRow, settings: BenchSettings) -> RunConfig:
    """The base config for one row: its composition, exactly `nsites` atoms, the bench budget."""
    from sccop.config import ExecutionConfig

    calls, minutes = settings.budget()
    train = base.train if settings.workers <= 1 else replace(base.train, threads=1)  # cores are shared
    # The budget is what stops both methods: no round limit or convergence stop for the search.
    search = replace(base.search or SearchConfig(), budget_calls=calls, budget_minutes=minutes, rounds=10**6,
                     patience=10**6)
    return replace(base, composition=row.formula, atoms=str(row.nsites), formula_units=None, search=search,
                   train=train, execution=ExecutionConfig())  # each pair runs in its own (worker) process


def run_pair(row: BenchRow, method: str, config: RunConfig, out: Path, reference: Path | None = None,
             calculator=None, force: bool = False, finished: dict | None = None,
             evaluations: int | None = None) -> dict:
    """Run one method on one row, refine its answer (sccop.refine: symmetrise and re-relax, re-rank when
    configured) and score it against the row (and `reference`, a structure file, when given); never
    raises: a failure is a result with its reason. `finished`: this pair's earlier result, whose method
    run is then not repeated: the pair is scored again from its database (and refined, if the refinement
    settings changed). `evaluations`: random search's budget in energy-and-force evaluations instead of
    the config's calls or minutes."""
    from sccop.baseline import random_search
    from sccop.search import Search

    folder = out / "rows" / _safe(row.id) / method
    rescoring = finished is not None and finished.get("status") == "ok"
    start = time.perf_counter()
    try:
        if method not in METHODS:
            raise SccopInputError(f"unknown method {method!r} (known: {', '.join(METHODS)})")
        db = folder / ("sccop.db" if method == "sccop" else "random.db")
        if not rescoring:
            if method == "sccop":
                Search(config, folder, force=force, progress=False, calculator=calculator).run()
            else:
                calls, minutes = config.search.budget_calls, config.search.budget_minutes
                if evaluations is not None:
                    calls = minutes = None
                random_search(config, folder, budget_calls=calls, budget_minutes=minutes,
                              budget_evaluations=evaluations, calculator=calculator, force=force)
        result = score(db, row, reference)
        if evaluations is not None:
            result["budget_evaluations"] = evaluations
        if method == "random":  # its relaxations are independent draws: their expectation is less noisy
            from sccop.resample import expectation, read_pool

            result.update(expectation(read_pool(db), row.spacegroup))
    except Exception as exc:  # noqa: BLE001 - one bad row must not stop the benchmark
        reason = str(exc) if isinstance(exc, SccopInputError) else describe_error(exc)
        log.warning("%s on %s failed: %s", method, row.id, reason)
        result = {"status": "failed", "reason": reason}
    if result.get("status") == "ok":
        try:
            result.update(score_refined(db, row, reference, config, calculator=calculator))
        except Exception as exc:  # noqa: BLE001 - the raw scores stand; the pair is refined again next time
            reason = str(exc) if isinstance(exc, SccopInputError) else describe_error(exc)
            log.warning("refining %s on %s failed: %s", method, row.id, reason)
            result["refine_reason"] = reason
    minutes = round((time.perf_counter() - start) / 60.0, 2)
    if rescoring and finished.get("wall_minutes") is not None:
        result["wall_minutes"] = finished["wall_minutes"]
        result["refine_wall_minutes"] = minutes
    else:
        result["wall_minutes"] = minutes
    return {"id": row.id, "method": method, **result}


def refine_key(config: RunConfig) -> str:
    """The refinement settings and ranking rules a result was scored with (a change to either is scored
    again)."""
    from dataclasses import asdict

    from sccop.refine import RANKING_VERSION

    return json.dumps({**asdict(config.refine), "ranking_version": RANKING_VERSION}, sort_keys=True)


def score_refined(db_path: Path, row: BenchRow, reference: Path | None, config: RunConfig, calculator=None,
                  top: int = 5) -> dict:
    """Refine the method's answer (the calls not yet made) and score it twice: `refined_*` (symmetrised,
    ranked by the search's backend) and, with a re-ranking backend, `reranked_*`."""
    from pymatgen.analysis.structure_matcher import StructureMatcher

    from sccop.refine import _structure, ranked, refine
    from sccop.store import Store

    store = Store(db_path)
    final = refine(store, config, calculator=calculator)  # ranked as `config` says: one variant's answer
    variants = {"refined": replace(config, refine=replace(config.refine, rerank=None))}
    if config.refine.rerank:
        variants["reranked"] = config
    out: dict = {"refine_settings": refine_key(config), "refine_calls": len(store.rows(stage="refine"))}
    ref = None
    if reference is not None:
        from pymatgen.core import Structure

        try:
            ref = Structure.from_file(reference)
        except Exception:  # noqa: BLE001 - scored without it; score() already named the problem
            ref = None
    matcher = StructureMatcher(ltol=0.2, stol=0.3, angle_tol=5)
    for name, variant in variants.items():
        candidates = final[:top] if variant.refine == config.refine else ranked(store, variant, top)
        structures = [c.atoms for c in candidates]
        if name == "reranked":  # as the second backend relaxed them; those it could not are left out
            candidates = [c for c in candidates if c.rerank_energy is not None]
            structures = [store.get(c.rerank_uid).toatoms() for c in candidates]
            if not candidates:
                out["rerank_reason"] = "no candidate was re-ranked"
        if not candidates:
            continue
        groups = [c.rerank_spacegroup if name == "reranked" else c.spacegroup for c in candidates]
        best = candidates[0]
        energy = best.rerank_energy if name == "reranked" else best.energy
        out.update({
            f"{name}_best_energy_per_atom": None if energy is None else round(energy, 6),
            f"{name}_best_spacegroup": groups[0], f"{name}_spacegroup_match": groups[0] == row.spacegroup,
            f"{name}_symmetrized": best.symmetrized,
            f"{name}_top5_spacegroups": " ".join(map(str, groups)),
            f"{name}_top5_spacegroup_match": row.spacegroup in groups,
        })
        if ref is not None:
            fits = [bool(matcher.fit(_structure(a), ref)) for a in structures]
            out.update({f"{name}_structure_match": fits[0], f"{name}_top5_structure_match": any(fits)})
    if config.refine.rerank:
        from sccop.refine import _rerank_name

        prefix = f"rerank:{_rerank_name(config)}:"
        out["rerank_calls"] = sum(r.uid.startswith(prefix) for r in store.rows(stage="rerank"))
    return out


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def score(db_path: Path, row: BenchRow, reference: Path | None, top: int = 5) -> dict:
    """Scores of one method's database (relax rows) against the row (see the module docstring)."""
    from ase.db import connect
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.io.ase import AseAtomsAdaptor

    from sccop.search import _spacegroup

    db = connect(db_path)
    rows = list(db.select(backend_call=1))
    calls = len(rows)
    failed = [r for r in rows if r.get("status") != "ok"]
    relaxed = sorted((r for r in rows if r.get("stage") == "relax" and r.get("status") == "ok"), key=lambda r: r.calls)
    if not relaxed:
        reasons = sorted({str(r.get("reason")) for r in failed})
        return {"status": "failed", "reason": "no relaxed structure" + (f" ({reasons[0]})" if reasons else ""),
                "calls": calls, "failed_calls": len(failed)}
    start = min(r.ctime for r in db.select())

    def elapsed(r) -> float:  # the run's own clock when the row was written (older rows: database time)
        return float(r.minutes) if r.get("minutes") is not None else (r.ctime - start) * YEAR_MINUTES

    structures = {r.id: AseAtomsAdaptor.get_structure(r.toatoms()) for r in relaxed}
    groups = {r.id: _spacegroup(r.toatoms()) for r in relaxed}
    matcher = StructureMatcher(ltol=0.2, stol=0.3, angle_tol=5)
    by_energy = sorted(relaxed, key=lambda r: (r.energy_per_atom, r.calls))
    best = by_energy[0]
    unique: list = []
    for r in by_energy:
        if len(unique) == top:
            break
        if not any(matcher.fit(structures[r.id], structures[u.id]) for u in unique):
            unique.append(r)

    def first(predicate) -> tuple[int | None, float | None]:
        for r in relaxed:
            if predicate(r):
                return r.calls, round(elapsed(r), 2)
        return None, None

    final = groups[best.id]
    out = {
        "status": "ok", "reason": "",
        "best_energy_per_atom": round(best.energy_per_atom, 6), "best_spacegroup": final,
        "spacegroup_match": final == row.spacegroup,
        "top5_spacegroups": " ".join(str(groups[u.id]) for u in unique),
        "top5_spacegroup_match": any(groups[u.id] == row.spacegroup for u in unique),
        "calls": calls, "failed_calls": len(failed),
        "minutes": round(max(elapsed(r) for r in rows), 2),
        "steps": int(sum(r.get("steps", 0) for r in rows)),
    }
    out["calls_to_final_group"], out["minutes_to_final_group"] = first(lambda r: groups[r.id] == final)
    out["calls_to_hit"], out["minutes_to_hit"] = first(lambda r: groups[r.id] == row.spacegroup)
    # When the hit's structure was first evaluated: for a search, the single point of the label it was
    # relaxed from (the network picked it then; with relax_each = 0 the relaxation waits for the round's end).
    calls_of = {r.uid: r.calls for r in rows if r.get("uid")}
    hits = [r for r in relaxed if groups[r.id] == row.spacegroup]
    out["calls_to_hit_found"] = min((calls_of.get(r.get("parent"), r.calls) for r in hits), default=None)
    # The cost to the first hit in energy-and-force evaluations: a single point is one, a relaxation its
    # optimizer steps plus one.
    if out["calls_to_hit"] is not None:
        out["evaluations_to_hit"] = sum(_evaluations(r) for r in rows if r.calls <= out["calls_to_hit"])
    out["evaluations"] = sum(_evaluations(r) for r in rows)
    out["best_spacegroup_by_evaluations"] = _best_by_evaluations(rows, groups)
    if reference is not None:
        try:
            out.update(_match_reference(reference, relaxed, unique, best, structures, matcher, first))
        except Exception as exc:  # noqa: BLE001 - a broken reference file must not hide the search's result
            out["reference"] = reference.name
            out["reason"] = f"reference not scored: {describe_error(exc)}"
    return out


def _evaluations(r) -> int:
    """Energy-and-force evaluations of one backend call: a single point is one, a relaxation its steps plus one."""
    return 1 + (int(r.get("steps") or 0) if r.get("stage") == "relax" else 0)


def _best_by_evaluations(rows, groups: dict) -> str:
    """'evaluations:group ...': after each relaxation that lowered the best energy so far, the evaluations
    spent up to it and the new best structure's group (what a run cut there would answer, as relaxed)."""
    steps, best, out = 0, None, []
    for r in sorted(rows, key=lambda r: r.calls):
        steps += _evaluations(r)
        if r.id in groups and (best is None or r.energy_per_atom < best):
            best = r.energy_per_atom
            out.append(f"{steps}:{groups[r.id]}")
    return " ".join(out)


def group_within(curve: str, evaluations: int) -> int | None:
    """The best structure's group of a run cut at `evaluations` (from `_best_by_evaluations`); None when
    it had relaxed nothing by then."""
    group = None
    for item in (curve or "").split():
        spent, g = item.split(":")
        if int(spent) > evaluations:
            break
        group = int(g)
    return group


def _match_reference(reference: Path, relaxed, unique, best, structures, matcher, first) -> dict:
    """StructureMatcher success of the best and of the top-5 against the reference, and the first match."""
    from pymatgen.core import Structure

    ref = Structure.from_file(reference)
    fits: dict[int, bool] = {}

    def fits_ref(r) -> bool:
        if r.id not in fits:
            fits[r.id] = bool(matcher.fit(structures[r.id], ref))
        return fits[r.id]

    out = {"reference": reference.name, "structure_match": fits_ref(best),
           "top5_structure_match": any(fits_ref(u) for u in unique)}
    out["calls_to_match"], out["minutes_to_match"] = first(fits_ref)
    return out


RAW_COLUMNS = [  # the scores of the method's own relaxations (`score`)
    "status", "reason", "best_energy_per_atom",
    "best_spacegroup", "spacegroup_match", "top5_spacegroups", "top5_spacegroup_match", "reference",
    "structure_match", "top5_structure_match", "calls", "failed_calls", "steps", "minutes", "calls_to_final_group",
    "minutes_to_final_group", "calls_to_hit", "minutes_to_hit", "calls_to_hit_found", "evaluations_to_hit",
    "evaluations", "budget_evaluations", "best_spacegroup_by_evaluations", "calls_to_match", "minutes_to_match",
    "top1_chance", "expected_calls_to_hit", "expected_evaluations_to_hit",  # random search only (sccop.resample)
]
VARIANT_COLUMNS = ["best_energy_per_atom", "best_spacegroup", "spacegroup_match", "symmetrized", "top5_spacegroups",
                   "top5_spacegroup_match", "structure_match", "top5_structure_match"]
RESULT_COLUMNS = (
    ["id", "formula", "nsites", "spacegroup", "category", "method"] + RAW_COLUMNS + ["wall_minutes"]
    + [f"refined_{c}" for c in VARIANT_COLUMNS] + ["refine_calls"]
    + [f"reranked_{c}" for c in VARIANT_COLUMNS] + ["rerank_calls", "refine_wall_minutes", "refine_reason", "rerank_reason",
                                                    "refine_settings"]
)


def write_results(out: Path, table: list[BenchRow], results: dict[tuple[str, str], dict], methods) -> None:
    """DIR/results.csv (one line per row and method, the table's own columns after ours) and summary.md."""
    extra = [c for c in (table[0].columns if table else {}) if c not in RESULT_COLUMNS]
    with open(out / "results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=RESULT_COLUMNS + extra, extrasaction="ignore")
        writer.writeheader()
        for row in table:
            for method in methods:
                result = results.get((row.id, method))
                if result is None:
                    continue
                line = {**row.columns, "id": row.id, "formula": row.formula, "nsites": row.nsites,
                        "spacegroup": row.spacegroup, "category": row.category, **result}
                writer.writerow({k: ("" if v is None else v) for k, v in line.items()})
    (out / "summary.md").write_text(summary_markdown(table, results, methods))


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    if len(values) == 1:
        return f"{values[0]:.2f}"
    q = statistics.quantiles(values, n=4, method="inclusive")
    return f"{statistics.median(values):.2f} (quartiles {q[0]:.2f}-{q[2]:.2f}, range {values[0]:.2f}-{values[-1]:.2f}, {len(values)} rows)"


VARIANTS = (("", "As relaxed"), ("refined_", "Symmetrised and re-relaxed (sccop.refine)"),
            ("reranked_", "Symmetrised, then re-ranked by the second backend"))


def _counts_table(table: list[BenchRow], results: dict, methods, prefix: str) -> list[str]:
    """Rows matched per category and overall, for one variant (`prefix` of the result keys)."""
    with_reference = any(f"{prefix}structure_match" in r for r in results.values())
    keys = [("spacegroup_match", "group top-1"), ("top5_spacegroup_match", "group top-5")]
    if with_reference:
        keys += [("structure_match", "match top-1"), ("top5_structure_match", "match top-5")]
    categories = sorted({r.category for r in table} - {"all"})  # a table without categories: one line
    header = "| category | rows | " + " | ".join(f"{m} {label}" for m in methods for _, label in keys) + " |"
    lines = [header, "|" + "---|" * (2 + len(methods) * len(keys))]
    for category in categories + ["all"]:
        members = [r for r in table if category in ("all", r.category)]
        cells = []
        for m in methods:
            for key, _ in keys:
                done = [results.get((r.id, m)) for r in members]
                done = [d for d in done if d is not None and (not prefix or f"{prefix}spacegroup_match" in d)]
                if "structure" in key:  # only rows with a reference structure count
                    done = [d for d in done if f"{prefix}structure_match" in d]
                cells.append(f"{sum(bool(d.get(prefix + key)) for d in done)}/{len(done)}")
        name = "**all**" if category == "all" else category
        lines.append(f"| {name} | {len(members)} | " + " | ".join(cells) + " |")
    return lines + [""]


def _pairs(table: list[BenchRow], results: dict) -> list[tuple[BenchRow, dict, dict]]:
    """(row, sccop's result, random's result) for the rows both methods have a result for."""
    out = []
    for r in table:
        a, b = results.get((r.id, "sccop")), results.get((r.id, "random"))
        if a and b:
            out.append((r, a, b))
    return out


def _ratios(table: list[BenchRow], results: dict, random_key: str, sccop_key: str) -> list[float]:
    """random's `random_key` / sccop's `sccop_key`, over the rows where both are known."""
    return [b[random_key] / a[sccop_key] for _, a, b in _pairs(table, results) if a.get(sccop_key) and b.get(random_key)]


def equal_cost(table: list[BenchRow], results: dict) -> list[str]:
    """Group top-1 (as relaxed) of random search cut at sccop's energy-and-force evaluations for the row:
    random search is sequential, so its first k relaxations are what a run with that budget makes."""
    both = [(a, b, r) for r, a, b in _pairs(table, results)
            if a.get("evaluations") and "best_spacegroup_by_evaluations" in b]
    if not both:
        return []
    cut = [group_within(b["best_spacegroup_by_evaluations"], a["evaluations"]) for a, b, _ in both]
    hits = sum(g == r.spacegroup for g, (_, _, r) in zip(cut, both))
    relaxed_nothing = sum(g is None for g in cut)
    ratio = [b["evaluations"] / a["evaluations"] for a, b, _ in both]
    return [f"At equal cost: random search cut at sccop's energy-and-force evaluations for each row matches the group "
            f"(top-1, as relaxed) on {hits}/{len(both)} rows, against sccop's "
            f"{sum(bool(a.get('spacegroup_match')) for a, _, _ in both)}/{len(both)} "
            f"({relaxed_nothing} cut runs had relaxed nothing by then). Uncut, random search spent this many times "
            f"sccop's evaluations: median {_spread(ratio)}.", ""]


def expected_random(table: list[BenchRow], results: dict) -> list[str]:
    """Random search's expected top-1 count and calls and evaluations to the first hit (sccop.resample),
    over the rows both methods finished, beside sccop's."""
    both = [(a, b) for _, a, b in _pairs(table, results) if "top1_chance" in b]
    if not both:
        return []
    from sccop.resample import expected_count

    mean, spread = expected_count([b["top1_chance"] for _, b in both])
    lines = [f"Random search's expectation from its own relaxations (independent draws, so any order of them is as "
             f"likely as the run's): group top-1, as relaxed, {mean:.1f} ± {spread:.1f} of {len(both)} rows "
             f"at its budget (bootstrap; its run {sum(bool(b.get('spacegroup_match')) for _, b in both)}, sccop "
             f"{sum(bool(a.get('spacegroup_match')) for a, _ in both)})."]
    for what in ("calls", "evaluations"):
        ratios = [b[f"expected_{what}_to_hit"] / a[f"{what}_to_hit"] for a, b in both
                  if b.get(f"expected_{what}_to_hit") and a.get(f"{what}_to_hit")]
        if ratios:
            lines.append(f"Expected {what} to the first hit, random / sccop: median {_spread(ratios)}.")
    return [" ".join(lines), ""]


def summary_markdown(table: list[BenchRow], results: dict[tuple[str, str], dict], methods) -> str:
    """Counts per category and overall (as relaxed, refined, re-ranked), the calls-to-first-hit ratio, and
    the rows one method won."""
    lines = ["# sccop bench summary", "", f"{len(table)} rows; methods: {', '.join(methods)}.", ""]
    for prefix, title in VARIANTS:
        if prefix and not any(f"{prefix}spacegroup_match" in r for r in results.values()):
            continue
        lines += [f"## {title}", ""] + _counts_table(table, results, methods, prefix)
    refine_calls = {m: sum(int(r.get("refine_calls") or 0) for (i, mm), r in results.items() if mm == m) for m in methods}
    if any(refine_calls.values()):
        lines += ["Refinement calls (not counted in the budget): "
                  + ", ".join(f"{m} {n}" for m, n in refine_calls.items()) + ".", ""]
    if {"sccop", "random"} <= set(methods):
        ratios, ratio_rows = [], []
        for r, a, b in _pairs(table, results):
            if a.get("calls_to_hit") and b.get("calls_to_hit"):
                ratios.append(b["calls_to_hit"] / a["calls_to_hit"])
                ratio_rows.append(f"{r.id} {b['calls_to_hit']}/{a['calls_to_hit']}")
        lines += ["Backend calls to the first structure in the row's space group, random / sccop, over rows both "
                  f"hit: median {_spread(ratios)}.", ""]
        if ratio_rows:
            lines += ["Per row (random/sccop calls): " + ", ".join(ratio_rows) + ".", ""]
        found = _ratios(table, results, "calls_to_hit", "calls_to_hit_found")
        if found:
            lines += ["The same ratio with sccop counted at the single point of the label its hit was relaxed from "
                      f"(the network picked the structure then; with relax_each = 0 relaxations wait for the round's end): median {_spread(found)}.", ""]
        evaluations = _ratios(table, results, "evaluations_to_hit", "evaluations_to_hit")
        if evaluations:
            lines += ["Energy and force evaluations to the first hit (a single point counts one, a relaxation its steps "
                      f"plus one), random / sccop: median {_spread(evaluations)}.", ""]
        lines += expected_random(table, results)
        lines += equal_cost(table, results)
        won = {"sccop": [], "random": []}
        lower = {"sccop": [], "random": []}
        for r, a, b in _pairs(table, results):
            if bool(a.get("spacegroup_match")) != bool(b.get("spacegroup_match")):
                won["sccop" if a.get("spacegroup_match") else "random"].append(r.id)
            ea, eb = a.get("best_energy_per_atom"), b.get("best_energy_per_atom")
            if ea is not None and eb is not None and abs(ea - eb) > 0.001:
                lower["sccop" if ea < eb else "random"].append(f"{r.id} ({abs(ea - eb) * 1000:.0f} meV/atom)")
        for m in ("sccop", "random"):
            lines.append(f"- Only {m} matched the space group: {', '.join(won[m]) or 'none'}.")
        for m in ("sccop", "random"):
            lines.append(f"- {m} found the lower energy (by more than 1 meV/atom): {', '.join(lower[m]) or 'none'}.")
        lines.append("")
    in_table = {r.id for r in table}
    failed = [(k, v) for k, v in results.items() if v.get("status") != "ok" and k[0] in in_table]
    if failed:
        lines += ["Failed:", ""] + [f"- {k[0]} ({k[1]}): {v.get('reason')}" for k, v in failed] + [""]
    return "\n".join(lines)


def _load_results(path: Path) -> dict[tuple[str, str], dict]:
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


def _check_settings(out: Path, record: dict, force: bool) -> None:
    path = out / "bench.json"
    if path.exists() and not force:
        old = json.loads(path.read_text())
        if isinstance(old.get("config"), dict):  # settings added since count at their defaults
            old["config"] = with_new_defaults(old["config"])
        changes = describe_differences(setting_differences(old, record))
        if changes:
            raise SccopInputError(f"{out} was benchmarked with other settings ({'; '.join(changes)}); "
                                  "use another --out, or --force to go on with the new ones")
    path.write_text(json.dumps(record, indent=1, sort_keys=True))


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
    from sccop.store import exclusive

    for m in settings.methods:
        if m not in METHODS:
            raise SccopInputError(f"unknown method {m!r} (known: {', '.join(METHODS)})")
    if settings.workers < 1:
        raise SccopInputError(f"workers must be at least 1, got {settings.workers}")
    if (settings.budget_calls is not None and settings.budget_calls < 1) or (
        settings.budget_minutes is not None and settings.budget_minutes <= 0
    ):
        raise SccopInputError("the budget must be positive")
    if settings.random_evaluations is not None and not settings.random_evaluations > 0:
        raise SccopInputError(f"--random-evaluations must be positive, got {settings.random_evaluations}")
    if base.refine.rerank:
        from sccop.backends import parse_backend

        parse_backend(base.refine.rerank)
    if settings.cif_dir and not Path(settings.cif_dir).is_dir():
        raise SccopInputError(f"--cif-dir {settings.cif_dir} is not a folder")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with exclusive(out, "a bench"):
        return _run_bench(table, base, settings, out, force=force, progress=progress, calculator=calculator,
                          rescore=rescore)


def _run_bench(table, base, settings, out: Path, *, force, progress, calculator, rescore):
    from functools import partial

    from tqdm import tqdm

    from sccop.config import ExecutionConfig
    from sccop.execution import make_executor

    calls, minutes = settings.budget()
    recorded = to_dict(replace(base, composition=None, atoms=None, formula_units=None))
    recorded.pop("refine", None)  # may change: finished pairs are then refined and scored again
    record = {"config": recorded, "budget_calls": calls, "budget_minutes": minutes, "cif_dir": settings.cif_dir}
    if settings.random_evaluations is not None:  # recorded only when set: older folders resume unchanged
        record["random_evaluations"] = settings.random_evaluations
    _check_settings(out, record, force)
    ledger = out / "results.jsonl"
    results = _load_results(ledger)
    # Finished pairs are skipped; failed ones run again (a lost worker, a fixed input), resuming their own
    # databases, so no backend call is repeated.
    key = refine_key(base)
    todo = [(row, m) for row in table for m in settings.methods
            if rescore or results.get((row.id, m), {}).get("status") != "ok" or results[(row.id, m)].get("refine_settings") != key]
    if len(todo) < len(table) * len(settings.methods):
        log.info("%d of %d row-method pairs already finished", len(table) * len(settings.methods) - len(todo),
                 len(table) * len(settings.methods))
    executor = make_executor(ExecutionConfig(workers=settings.workers))
    task = partial(_task, out=out, calculator=calculator, cif_dir=settings.cif_dir, force=force)
    # With random search's budget tied to sccop's evaluations, a row's sccop pair runs first.
    later = [(row, m) for row, m in todo if m == "random" and settings.random_evaluations is not None]
    phases = [[pair for pair in todo if pair not in later], later]
    try:
        with tqdm(total=len(table) * len(settings.methods), initial=len(table) * len(settings.methods) - len(todo),
                  desc="bench", unit="row-method", disable=not progress) as bar:
            for phase in phases:
                items = [(row, m, row_config(base, row, settings), results.get((row.id, m)),
                          _random_evaluations(results.get((row.id, "sccop")), settings) if m == "random" else None)
                         for row, m in phase]
                for k, result in executor.map(task, items):
                    row, method = items[k][:2]
                    if isinstance(result, BaseException):  # the worker was lost even after retries
                        result = {"id": row.id, "method": method, "status": "failed", "reason": f"task lost: {describe_error(result)}"}
                    results[(row.id, method)] = result
                    with open(ledger, "a") as fh:
                        fh.write(json.dumps(result) + "\n")
                    write_results(out, table, results, settings.methods)
                    bar.set_postfix_str(f"{row.id} {method}: {_brief(result)}")
                    bar.update(1)
    finally:
        executor.close()
    write_results(out, table, results, settings.methods)
    return {(r.id, m): results[(r.id, m)] for r in table for m in settings.methods if (r.id, m) in results}


def _random_evaluations(sccop: dict | None, settings: BenchSettings) -> int | None:
    """Random search's evaluation budget for a row: `random_evaluations` times its sccop pair's evaluations
    (0 when that pair has none to match: the random pair then fails with the reason)."""
    if settings.random_evaluations is None:
        return None
    if not sccop or sccop.get("status") != "ok" or not sccop.get("evaluations"):
        return 0
    return max(1, round(settings.random_evaluations * sccop["evaluations"]))


def _task(item, out: Path, calculator, cif_dir, force):
    row, method, config, finished, evaluations = item
    if evaluations == 0:
        return {"id": row.id, "method": method, "status": "failed",
                "reason": "no finished sccop pair whose evaluations random search's budget could match"}
    return run_pair(row, method, config, out, reference_path(row, cif_dir), calculator=calculator, force=force,
                    finished=finished, evaluations=evaluations)


def _brief(result: dict) -> str:
    if result.get("status") != "ok":
        return "failed"
    hit = "hit" if result.get("spacegroup_match") else "miss"
    return f"sg {result.get('best_spacegroup')} {hit}, {result.get('calls')} calls"


__all__ = ["BenchRow", "BenchSettings", "read_table", "run_bench", "score", "summary_markdown", "METHODS"]
