"""Follow-up analyses of finished bench folders (benchmarks/bench_equal_cost.py and
benchmarks/bench_random_expectation.py print them); nothing is searched or relaxed.

- `equal_cost`: random search is sequential, so its first k relaxations are exactly what a run with a
  budget of k makes. Each row's random run is cut where its energy-and-force evaluations reach those
  sccop spent on the row, and the best structure so far is scored (group top-1, as relaxed).
- `random_expectation`: random search's relaxations are independent draws (each structure depends only
  on (seed, index)), so its run of n relaxations also gives (sccop.bench.resample) the chance that its
  answer is in the row's group at n relaxations (bootstrap) and at n/2 (exact), the same chance for a
  run cut at sccop's evaluations (Monte Carlo over orderings, seeded by `seed` and the row's id, so a
  row's figure does not depend on the other rows), and the expected calls and evaluations to its first
  relaxation in the row's group. Summed over rows, the chances are the expected number of top-1
  matches, with a standard deviation of sqrt(sum p(1 - p)).
Both methods are scored again from their databases (sccop.bench.scoring.score), so the folders may come
from separate bench runs.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sccop.bench.resample import expected_count, expected_first_hit, read_pool, top1_chance, top1_chance_within
from sccop.bench.scoring import group_within, score
from sccop.bench.summary import equal_cost as equal_cost_summary
from sccop.bench.summary import spread
from sccop.bench.table import BenchRow, safe_name


def finished_ids(folder: Path, method: str) -> set[str]:
    """The rows whose last result for `method` in DIR/results.jsonl is ok."""
    ids = set()
    for line in (Path(folder) / "results.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        result = json.loads(line)
        if result["method"] == method:
            (ids.add if result.get("status") == "ok" else ids.discard)(result["id"])
    return ids


def _db(folder: Path, row_id: str, method: str) -> Path:
    return Path(folder) / "rows" / safe_name(row_id) / method / ("sccop.db" if method == "sccop" else "random.db")


def _random_folder(row_id: str, random_dirs: list[Path], done: dict) -> Path | None:
    return next((d for d in random_dirs if row_id in done[d]), None)


@dataclass
class EqualCost:
    """Per row (id, formula, atoms, group, sccop's best group and evaluations, random's group when cut at
    them, random's best group and evaluations) and the summary line over them."""

    rows: list[dict] = field(default_factory=list)
    summary: str = ""

    def markdown(self) -> str:
        lines = ["| row | formula | atoms | group | sccop best | sccop evaluations | random at sccop's evaluations "
                 "| random best | random evaluations |", "|---|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            cut = "-" if r["random_cut"] is None else r["random_cut"]
            lines.append(f"| {r['id']} | {r['formula']} | {r['nsites']} | {r['spacegroup']} | {r['sccop_best']} | "
                         f"{r['sccop_evaluations']} | {cut} | {r['random_best']} | {r['random_evaluations']} |")
        return "\n".join(lines + ["", self.summary])


def equal_cost(table: list[BenchRow], sccop_dir: Path, random_dirs: list[Path]) -> EqualCost:
    """sccop against random search cut at sccop's evaluations, over the rows both finished."""
    by_id = {row.id: row for row in table}
    done = {d: finished_ids(d, "random") for d in random_dirs}
    out, rows, results = EqualCost(), [], {}
    for row_id in sorted(finished_ids(sccop_dir, "sccop") & set(by_id)):
        folder = _random_folder(row_id, random_dirs, done)
        if folder is None:
            continue
        row = by_id[row_id]
        a = score(_db(sccop_dir, row_id, "sccop"), row, None)
        b = score(_db(folder, row_id, "random"), row, None)
        results[(row_id, "sccop")], results[(row_id, "random")] = a, b
        rows.append(row)
        out.rows.append({"id": row_id, "formula": row.formula, "nsites": row.nsites, "spacegroup": row.spacegroup,
                         "sccop_best": a["best_spacegroup"], "sccop_evaluations": a["evaluations"],
                         "random_cut": group_within(b["best_spacegroup_by_evaluations"], a["evaluations"]),
                         "random_best": b["best_spacegroup"], "random_evaluations": b["evaluations"]})
    out.summary = " ".join(equal_cost_summary(rows, results)).strip()
    return out


@dataclass
class Expectation:
    """Per row: sccop's hit at each folder (seed), random's run, its chances at n, n/2 and sccop's
    evaluations, and calls and evaluations to the first hit (random expected, sccop); and the totals."""

    rows: list[dict] = field(default_factory=list)
    sccop_hits: list[int] = field(default_factory=list)
    random_run: int = 0
    chances: dict = field(default_factory=lambda: {"n": [], "half": [], "cut": []})
    calls_ratio: list[float] = field(default_factory=list)
    evaluations_ratio: list[float] = field(default_factory=list)
    seeds: str = ""

    def expected(self, what: str) -> tuple[float, float]:
        return expected_count(self.chances[what])

    def markdown(self) -> str:
        lines = [f"| row | formula | atoms | group | {self.seeds} | random, the run | random at n (bootstrap) | random at n/2 "
                 "| random at sccop's evaluations | calls to first hit, random expected / sccop | evaluations to first "
                 "hit, random expected / sccop |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            marks = " / ".join("yes" if hit else "no" for hit in r["sccop"])
            lines.append(f"| {r['id']} | {r['formula']} | {r['nsites']} | {r['spacegroup']} | {marks} | "
                         f"{'yes' if r['run'] else 'no'} | {r['at_n']:.2f} | {r['half']:.2f} | {r['cut']:.2f} | "
                         f"{r['calls_to_hit']} | {r['evaluations_to_hit']} |")

        def fmt(what) -> str:
            return "{:.1f} ± {:.1f}".format(*self.expected(what))

        lines += ["", f"Group top-1, as relaxed, {len(self.rows)} rows: sccop {' / '.join(map(str, self.sccop_hits))} "
                      f"({self.seeds}); random search's run {self.random_run}, expected at n relaxations {fmt('n')}, "
                      f"at n/2 {fmt('half')}, at sccop's evaluations {fmt('cut')}.",
                  f"Calls to the first hit, random expected / sccop: median {spread(self.calls_ratio)}.",
                  f"Evaluations to the first hit, random expected / sccop: median {spread(self.evaluations_ratio)}."]
        return "\n".join(lines)


def random_expectation(table: list[BenchRow], sccop_dirs: list[Path], random_dirs: list[Path], seed: int = 0,
                       draws: int = 4000) -> Expectation:
    """sccop's seeds against random search's expected scores, over the rows every sccop folder and one
    random folder finished (see the module docstring)."""
    by_id = {row.id: row for row in table}
    done = {d: finished_ids(d, "random") for d in random_dirs}
    out = Expectation(sccop_hits=[0] * len(sccop_dirs), seeds=" / ".join(f"sccop {Path(d).name}" for d in sccop_dirs))
    common = set.intersection(*(finished_ids(d, "sccop") for d in sccop_dirs)) & set(by_id)
    for row_id in sorted(common):
        folder = _random_folder(row_id, random_dirs, done)
        if folder is None:
            continue
        row = by_id[row_id]
        ours = [score(_db(d, row_id, "sccop"), row, None) for d in sccop_dirs]
        pool = read_pool(_db(folder, row_id, "random"))
        n = len(pool)
        rng = np.random.default_rng([seed, zlib.crc32(row_id.encode())])  # the same draws whatever the other rows
        item = {"id": row_id, "formula": row.formula, "nsites": row.nsites, "spacegroup": row.spacegroup,
                "sccop": [bool(o["spacegroup_match"]) for o in ours],
                "run": top1_chance(pool, row.spacegroup, n),  # every subset of n is the run itself: 0 or 1
                "at_n": top1_chance(pool, row.spacegroup, n, replace=True),
                "half": top1_chance(pool, row.spacegroup, n // 2),
                "cut": top1_chance_within(pool, row.spacegroup, ours[0]["evaluations"], rng, draws=draws),
                "calls_to_hit": "-", "evaluations_to_hit": "-"}
        first = expected_first_hit(pool, row.spacegroup)
        if first is not None:
            item["calls_to_hit"] = f"{first[0]:.1f} / {ours[0].get('calls_to_hit') or '-'}"
            item["evaluations_to_hit"] = f"{first[1]:.0f} / {ours[0].get('evaluations_to_hit') or '-'}"
            if ours[0].get("calls_to_hit"):
                out.calls_ratio.append(first[0] / ours[0]["calls_to_hit"])
                out.evaluations_ratio.append(first[1] / ours[0]["evaluations_to_hit"])
        out.rows.append(item)
        out.random_run += int(round(item["run"]))
        for what in ("n", "half", "cut"):
            out.chances[what].append(item["at_n" if what == "n" else what])
        for i, hit in enumerate(item["sccop"]):
            out.sccop_hits[i] += hit
    return out


__all__ = ["finished_ids", "EqualCost", "equal_cost", "Expectation", "random_expectation"]
