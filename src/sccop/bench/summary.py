"""A bench's tables for people: DIR/results.csv (one line per row and method, the table's own columns
after ours) and DIR/summary.md (counts per category and overall, as relaxed, refined and re-ranked;
costs to the first hit; random search's expectation and sccop against it at equal cost)."""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from pathlib import Path

from sccop.bench.resample import expected_count
from sccop.bench.scoring import group_within
from sccop.bench.table import BenchRow

RAW_COLUMNS = [  # the scores of the method's own relaxations (`score`)
    "status", "reason", "best_energy_per_atom", "best_enthalpy_per_atom",
    "best_spacegroup", "spacegroup_match", "top5_spacegroups", "top5_spacegroup_match", "reference",
    "structure_match", "top5_structure_match", "calls", "failed_calls", "steps", "minutes", "calls_to_final_group",
    "minutes_to_final_group", "calls_to_hit", "minutes_to_hit", "calls_to_hit_found", "evaluations_to_hit",
    "evaluations", "budget_evaluations", "best_spacegroup_by_evaluations", "calls_to_match", "minutes_to_match",
    "top1_chance", "expected_calls_to_hit", "expected_evaluations_to_hit",  # random search only (sccop.resample)
    # the reference relaxed by the row's backend (sccop.bench.reference)
    "reference_energy_per_atom", "reference_spacegroup", "reference_reason", "reached", "gap_mev", "calls_to_reached",
    "evaluations_to_reached", "minutes_to_reached", "miss_cause", "refined_reached", "refined_gap_mev",
    "refined_miss_cause",
]
VARIANT_COLUMNS = ["best_energy_per_atom", "best_enthalpy_per_atom", "best_spacegroup", "spacegroup_match", "symmetrized", "top5_spacegroups",
                   "top5_spacegroup_match", "structure_match", "top5_structure_match"]
RESULT_COLUMNS = (
    ["id", "formula", "nsites", "spacegroup", "category", "method"] + RAW_COLUMNS + ["wall_minutes", "stopped"]
    + [f"refined_{c}" for c in VARIANT_COLUMNS] + ["refine_calls"]
    + [f"reranked_{c}" for c in VARIANT_COLUMNS] + ["rerank_calls", "refine_wall_minutes", "refine_reason", "rerank_reason",
                                                    "refine_settings"]
)


def ranked_energy(result: dict) -> float | None:
    """A result's best energy in what was ranked: the enthalpy per atom under pressure, else the energy."""
    value = result.get("best_enthalpy_per_atom")
    return result.get("best_energy_per_atom") if value is None else value


def write_results(out: Path, table: list[BenchRow], results: dict[tuple[str, str], dict], methods) -> None:
    """DIR/results.csv (one line per row and method, the table's own columns after ours) and summary.md."""
    import io

    from sccop.calls.rundir import write_text

    extra = [c for c in (table[0].columns if table else {}) if c not in RESULT_COLUMNS]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESULT_COLUMNS + extra, extrasaction="ignore")
    writer.writeheader()
    for row in table:
        for method in methods:
            result = results.get((row.id, method))
            if result is None:
                continue
            line = {**row.columns, "id": row.id, "formula": row.formula, "nsites": row.nsites,
                    "spacegroup": row.spacegroup, "category": row.category, **result}
            writer.writerow({k: ("" if v is None else v) for k, v in line.items()})
    write_text(out / "results.csv", buffer.getvalue())
    write_text(out / "summary.md", summary_markdown(table, results, methods))


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    if len(values) == 1:
        return f"{values[0]:.2f}"
    q = statistics.quantiles(values, n=4, method="inclusive")
    return f"{statistics.median(values):.2f} (quartiles {q[0]:.2f}-{q[2]:.2f}, range {values[0]:.2f}-{values[-1]:.2f}, {len(values)} rows)"


VARIANTS = (("", "As relaxed"), ("refined_", "Symmetrised and re-relaxed (sccop.answer.refine)"),
            ("reranked_", "Symmetrised, then re-ranked by the second backend"))


def counts_table(table: list[BenchRow], results: dict, methods, prefix: str) -> list[str]:
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


def pairs(table: list[BenchRow], results: dict) -> list[tuple[BenchRow, dict, dict]]:
    """(row, sccop's result, random's result) for the rows both methods have a result for."""
    out = []
    for r in table:
        a, b = results.get((r.id, "sccop")), results.get((r.id, "random"))
        if a and b:
            out.append((r, a, b))
    return out


def ratios(table: list[BenchRow], results: dict, random_key: str, sccop_key: str) -> list[float]:
    """random's `random_key` / sccop's `sccop_key`, over the rows where both are known."""
    return [b[random_key] / a[sccop_key] for _, a, b in pairs(table, results) if a.get(sccop_key) and b.get(random_key)]


def equal_cost(table: list[BenchRow], results: dict) -> list[str]:
    """Group top-1 (as relaxed) of random search cut at sccop's energy-and-force evaluations for the row:
    random search is sequential, so its first k relaxations are what a run with that budget makes."""
    both = [(a, b, r) for r, a, b in pairs(table, results)
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
            f"sccop's evaluations: median {spread(ratio)}.", ""]


def expected_random(table: list[BenchRow], results: dict) -> list[str]:
    """Random search's expected top-1 count and calls and evaluations to the first hit (sccop.resample),
    over the rows both methods finished, beside sccop's."""
    both = [(a, b) for _, a, b in pairs(table, results) if "top1_chance" in b]
    if not both:
        return []
    mean, sd = expected_count([b["top1_chance"] for _, b in both])
    lines = [f"Random search's expectation from its own relaxations (independent draws, so any order of them is as "
             f"likely as the run's): group top-1, as relaxed, {mean:.1f} ± {sd:.1f} of {len(both)} rows "
             f"at its budget (bootstrap; its run {sum(bool(b.get('spacegroup_match')) for _, b in both)}, sccop "
             f"{sum(bool(a.get('spacegroup_match')) for a, _ in both)})."]
    for what in ("calls", "evaluations"):
        values = [b[f"expected_{what}_to_hit"] / a[f"{what}_to_hit"] for a, b in both
                  if b.get(f"expected_{what}_to_hit") and a.get(f"{what}_to_hit")]
        if values:
            lines.append(f"Expected {what} to the first hit, random / sccop: median {spread(values)}.")
    return [" ".join(lines), ""]


SIZE_BINS = ((1, 4), (5, 8), (9, 12), (13, 10**6))


def size_bin(nsites: int) -> str:
    for lo, hi in SIZE_BINS:
        if lo <= nsites <= hi:
            return f"{lo}-{hi}" if hi < 10**6 else f"{lo}+"
    return "?"


def reached_table(table: list[BenchRow], results: dict, methods) -> list[str]:
    """Rows whose best reached the reference's energy as the row's backend relaxes it (sccop.bench.reference),
    per size bin and method, with the miss causes and the calls until reached."""
    if not any("reached" in r for r in results.values()):
        return []
    from sccop.bench.reference import REACHED_MEV

    bins = [b for b in dict.fromkeys(size_bin(r.nsites) for r in sorted(table, key=lambda r: r.nsites))]
    lines = ["## Reaching the backend's minimum at the reference", "",
             f"The reference relaxed by the row's own backend; reached: the method's best (as relaxed) at most "
             f"{REACHED_MEV:g} meV/atom above it. Misses by cause: search (the backend puts the reference lower), "
             "backend (the method found something the backend puts lower than the reference), tie (within the "
             "tolerance, another structure).", "",
             "| atoms | rows | " + " | ".join(f"{m} reached | {m} refined reached | {m} misses (search/backend/tie)"
                                          for m in methods) + " |",
             "|" + "---|" * (2 + 3 * len(methods))]
    for name in bins + ["all"]:
        members = [r for r in table if name in ("all", size_bin(r.nsites))]
        cells = []
        for m in methods:
            done = [results.get((r.id, m)) for r in members]
            done = [d for d in done if d is not None and "reached" in d]
            refined = [d for d in done if "refined_reached" in d]
            causes = [d.get("miss_cause") for d in done]
            cells += [f"{sum(bool(d['reached']) for d in done)}/{len(done)}",
                      f"{sum(bool(d['refined_reached']) for d in refined)}/{len(refined)}",
                      "/".join(str(causes.count(c)) for c in ("search", "backend", "tie"))]
        label = "**all**" if name == "all" else name
        lines.append(f"| {label} | {len(members)} | " + " | ".join(cells) + " |")
    for m in methods:
        calls = [results[(r.id, m)]["calls_to_reached"] for r in table
                 if results.get((r.id, m), {}).get("calls_to_reached") is not None]
        minutes = [results[(r.id, m)]["minutes_to_reached"] for r in table
                   if results.get((r.id, m), {}).get("minutes_to_reached") is not None]
        gaps = [f"{r.id} {results[(r.id, m)]['gap_mev']:+.0f}" for r in table
                if results.get((r.id, m), {}).get("reached") is False]
        lines.append(f"- {m}: backend calls until reached, median {spread(calls)}; minutes {spread(minutes)}; "
                     f"not reached (gap, meV/atom): {', '.join(gaps) or 'none'}.")
    return lines + [""]


def summary_markdown(table: list[BenchRow], results: dict[tuple[str, str], dict], methods) -> str:
    """Counts per category and overall (as relaxed, refined, re-ranked), the calls-to-first-hit ratio, and
    the rows one method won."""
    lines = ["# sccop bench summary", "", f"{len(table)} rows; methods: {', '.join(methods)}.", ""]
    for prefix, title in VARIANTS:
        if prefix and not any(f"{prefix}spacegroup_match" in r for r in results.values()):
            continue
        lines += [f"## {title}", ""] + counts_table(table, results, methods, prefix)
    lines += reached_table(table, results, methods)
    stops = Counter(r.get("stopped") for (i, m), r in results.items() if m == "sccop" and r.get("status") == "ok")
    if any(stops):
        lines += ["sccop runs stopped: " + ", ".join(f"{k or 'unknown'} {n}" for k, n in sorted(stops.items(), key=str))
                  + " (converged: the best unchanged for `patience` rounds; budget, time, rounds: stopped before that).",
                  ""]
    refine_calls = {m: sum(int(r.get("refine_calls") or 0) for (i, mm), r in results.items() if mm == m) for m in methods}
    if any(refine_calls.values()):
        lines += ["Refinement calls (not counted in the budget): "
                  + ", ".join(f"{m} {n}" for m, n in refine_calls.items()) + ".", ""]
    if {"sccop", "random"} <= set(methods):
        call_ratios, ratio_rows = [], []
        for r, a, b in pairs(table, results):
            if a.get("calls_to_hit") and b.get("calls_to_hit"):
                call_ratios.append(b["calls_to_hit"] / a["calls_to_hit"])
                ratio_rows.append(f"{r.id} {b['calls_to_hit']}/{a['calls_to_hit']}")
        lines += ["Backend calls to the first structure in the row's space group, random / sccop, over rows both "
                  f"hit: median {spread(call_ratios)}.", ""]
        if ratio_rows:
            lines += ["Per row (random/sccop calls): " + ", ".join(ratio_rows) + ".", ""]
        found = ratios(table, results, "calls_to_hit", "calls_to_hit_found")
        if found:
            lines += ["The same ratio with sccop counted at the single point of the label its hit was relaxed from "
                      f"(the network picked the structure then; with relax_each = 0 relaxations wait for the round's end): median {spread(found)}.", ""]
        evaluations = ratios(table, results, "evaluations_to_hit", "evaluations_to_hit")
        if evaluations:
            lines += ["Energy and force evaluations to the first hit (a single point counts one, a relaxation its steps "
                      f"plus one), random / sccop: median {spread(evaluations)}.", ""]
        lines += expected_random(table, results)
        lines += equal_cost(table, results)
        won = {"sccop": [], "random": []}
        lower = {"sccop": [], "random": []}
        for r, a, b in pairs(table, results):
            if bool(a.get("spacegroup_match")) != bool(b.get("spacegroup_match")):
                won["sccop" if a.get("spacegroup_match") else "random"].append(r.id)
            ea, eb = ranked_energy(a), ranked_energy(b)
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


__all__ = ["RESULT_COLUMNS", "SIZE_BINS", "size_bin", "reached_table", "write_results", "summary_markdown", "spread", "pairs", "ratios", "equal_cost",
           "expected_random", "counts_table"]
