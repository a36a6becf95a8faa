"""Scores of one method's finished database against its benchmark row.

The answer is read where every reader reads it, sccop.answer.ranking.ranked: `score` takes it as
relaxed (duplicates merged, energy alone ranks, nothing symmetrised), `score_refined` refines it first
(symmetrise and re-relax, re-rank when configured) and scores each variant. Per answer: its best
structure's space group (symprec 0.1) against the row's, the groups of the top 5, and StructureMatcher
(ltol 0.2, stol 0.3, angle_tol 5, as CSPBench) against the reference when there is one. The costs come
from the method's own calls, in the order it made them: calls, evaluations (a single point counts one,
a relaxation its steps plus one) and minutes until the first relaxation in the answer's group, in the
row's group (a hit) and matching the reference.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sccop.answer.ranking import AS_RELAXED, ranked, rerank_name
from sccop.answer.refine import refine
from sccop.bench.settings import refine_key
from sccop.bench.table import BenchRow
from sccop.calls.rows import evaluations, ranking_energy, rerank_prefix, row_spacegroup
from sccop.calls.store import YEAR_MINUTES, Store
from sccop.config import RunConfig
from sccop.relaxation import describe_error
from sccop.symmetry.analysis import matcher, to_structure

TOP = 5


def read_reference(path: Path, config: RunConfig | None = None, formula: str | None = None):
    """The reference structure (pymatgen), read only to score; for a 2D search (`config`), as a layer of the
    search's cell height (sccop.bench.reference)."""
    if config is not None and config.sampler.dim == 2:
        from sccop.bench.reference import reference_atoms

        return to_structure(reference_atoms(path, config, formula))
    from pymatgen.core import Structure

    return Structure.from_file(path)


def answer_scores(row: BenchRow, structures: list, groups: list[int], best=None, reference=None) -> dict:
    """The scores of an answer (its top structures and their groups, best first; `best`: the stored row of
    its best structure, whose E/N and, under pressure, (E + PV)/N are reported)."""
    out = {
        "best_energy_per_atom": None if best is None else round(best.energy_per_atom, 6), "best_spacegroup": groups[0],
        "spacegroup_match": groups[0] == row.spacegroup, "top5_spacegroups": " ".join(map(str, groups)),
        "top5_spacegroup_match": row.spacegroup in groups,
    }
    if best is not None and best.get("enthalpy_per_atom") is not None:
        out["best_enthalpy_per_atom"] = round(best.enthalpy_per_atom, 6)
    if reference is not None:
        match = matcher()
        fits = [bool(match.fit(to_structure(a), reference)) for a in structures]
        out.update({"structure_match": fits[0], "top5_structure_match": any(fits)})
    return out


def best_by_evaluations(rows, groups: dict) -> str:
    """'evaluations:group ...': after each relaxation that lowered the best energy so far, the evaluations
    spent up to it and the new best structure's group (what a run cut there would answer, as relaxed)."""
    steps, best, out = 0, None, []
    for r in sorted(rows, key=lambda r: r.calls):
        steps += evaluations(r)
        if r.id in groups and (best is None or ranking_energy(r) < best):
            best = ranking_energy(r)
            out.append(f"{steps}:{groups[r.id]}")
    return " ".join(out)


def group_within(curve: str, spent: int) -> int | None:
    """The best structure's group of a run cut at `spent` evaluations (from `best_by_evaluations`); None
    when it had relaxed nothing by then."""
    group = None
    for item in (curve or "").split():
        at, g = item.split(":")
        if int(at) > spent:
            break
        group = int(g)
    return group


def _store(db) -> Store:
    return db if isinstance(db, Store) else Store(db)


def score(db, row: BenchRow, reference: Path | None, top: int = TOP, config: RunConfig | None = None) -> dict:
    """Scores of one method's database (a Store, or the path of a SQLite file) as relaxed, and its costs
    (see the module docstring)."""
    store = _store(db)
    rows = store.rows(backend_call=1)
    failed = [r for r in rows if r.get("status") != "ok"]
    relaxed = sorted((r for r in rows if r.get("stage") == "relax" and r.get("status") == "ok"), key=lambda r: r.calls)
    if not relaxed:
        reasons = sorted({str(r.get("reason")) for r in failed})
        return {"status": "failed", "reason": "no relaxed structure" + (f" ({reasons[0]})" if reasons else ""),
                "calls": len(rows), "failed_calls": len(failed)}
    start = min(r.ctime for r in store.rows())

    def elapsed(r) -> float:  # the run's own clock when the row was written (older rows: database time)
        return float(r.minutes) if r.get("minutes") is not None else (r.ctime - start) * YEAR_MINUTES

    groups = {r.id: row_spacegroup(r) for r in relaxed}
    answer = ranked(store, replace(RunConfig(), refine=AS_RELAXED), top)

    def first(predicate) -> tuple[int | None, float | None]:
        for r in relaxed:
            if predicate(r):
                return r.calls, round(elapsed(r), 2)
        return None, None

    final = answer[0].spacegroup
    out = {"status": "ok", "reason": "",
           **answer_scores(row, [], [c.spacegroup for c in answer], store.get(answer[0].uid)),
           "calls": len(rows), "failed_calls": len(failed), "minutes": round(max(elapsed(r) for r in rows), 2),
           "steps": int(sum(r.get("steps", 0) for r in rows))}
    out["calls_to_final_group"], out["minutes_to_final_group"] = first(lambda r: groups[r.id] == final)
    out["calls_to_hit"], out["minutes_to_hit"] = first(lambda r: groups[r.id] == row.spacegroup)
    # When the hit's structure was first evaluated: for a search, the single point of the label it was
    # relaxed from (the network picked it then; with relax_each = 0 the relaxation waits for the round's end).
    calls_of = {r.uid: r.calls for r in rows if r.get("uid")}
    hits = [r for r in relaxed if groups[r.id] == row.spacegroup]
    out["calls_to_hit_found"] = min((calls_of.get(r.get("parent"), r.calls) for r in hits), default=None)
    if out["calls_to_hit"] is not None:
        out["evaluations_to_hit"] = sum(evaluations(r) for r in rows if r.calls <= out["calls_to_hit"])
    out["evaluations"] = sum(evaluations(r) for r in rows)
    out["best_spacegroup_by_evaluations"] = best_by_evaluations(rows, groups)
    if reference is not None:
        try:
            ref = read_reference(reference, config, row.formula)
            fits = answer_scores(row, [c.atoms for c in answer], [c.spacegroup for c in answer], None, ref)
            out.update({"reference": reference.name, "structure_match": fits["structure_match"],
                        "top5_structure_match": fits["top5_structure_match"]})
            match, structures = matcher(), {}

            def fits_reference(r) -> bool:
                if r.id not in structures:
                    structures[r.id] = bool(match.fit(to_structure(r.toatoms()), ref))
                return structures[r.id]

            out["calls_to_match"], out["minutes_to_match"] = first(fits_reference)
        except Exception as exc:  # noqa: BLE001 - a broken reference file must not hide the search's result
            out["reference"] = reference.name
            out["reason"] = f"reference not scored: {describe_error(exc)}"
    return out


def score_refined(db, row: BenchRow, reference: Path | None, config: RunConfig, calculator=None,
                  top: int = TOP) -> dict:
    """Refine the method's answer (the calls not yet made) and score it twice: `refined_*` (symmetrised,
    ranked by the search's backend) and, with a re-ranking backend, `reranked_*`."""
    store = _store(db)
    final = refine(store, config, calculator=calculator)  # ranked as `config` says: one variant's answer
    variants = {"refined": replace(config, refine=replace(config.refine, rerank=None))}
    if config.refine.rerank:
        variants["reranked"] = config
    out: dict = {"refine_settings": refine_key(config), "refine_calls": store.count(stage="refine")}
    ref = None
    if reference is not None:
        try:
            ref = read_reference(reference, config, row.formula)
        except Exception:  # noqa: BLE001 - scored without it; score() already named the problem
            ref = None
    for name, variant in variants.items():
        candidates = final[:top] if variant.refine == config.refine else ranked(store, variant, top)
        structures = [c.atoms for c in candidates]
        groups = [c.spacegroup for c in candidates]
        if name == "reranked":  # as the second backend relaxed them; those it could not are left out
            candidates = [c for c in candidates if c.rerank_energy is not None]
            structures = [store.get(c.rerank_uid).toatoms() for c in candidates]
            groups = [c.rerank_spacegroup for c in candidates]
            if not candidates:
                out["rerank_reason"] = "no candidate was re-ranked"
        if not candidates:
            continue
        best = candidates[0]
        scores = answer_scores(row, structures, groups, store.get(best.rerank_uid if name == "reranked" else best.uid), ref)
        scores["symmetrized"] = best.symmetrized
        out.update({f"{name}_{k}": v for k, v in scores.items()})
    if config.refine.rerank:
        prefix = rerank_prefix(rerank_name(config))
        out["rerank_calls"] = sum(r.uid.startswith(prefix) for r in store.rows(stage="rerank"))
    return out


__all__ = ["TOP", "score", "score_refined", "answer_scores", "best_by_evaluations", "group_within", "read_reference"]
