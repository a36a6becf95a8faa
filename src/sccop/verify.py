"""DFT on top of a search: the top structures of a finished run get PBE single points (or relaxations) with
a DFT backend (GPAW or Quantum ESPRESSO), are re-ranked by the DFT energy, and the agreement between the
ML ranking and the DFT ranking is reported, as SCCOP ends its searches.

Writes DIR/verify/verify.csv (one line per structure: its ML rank and energy, its DFT energy and rank,
status and reason), DIR/verify/verify.json (the DFT settings, the agreement) and, with relaxations,
each DFT-relaxed structure as DIR/verify/NN_FORMULA_GROUP.cif. The csv is written after every structure,
so an interrupted verification keeps what it computed; a failed calculation is recorded with its reason
and the others go on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from itertools import combinations

from sccop.config import BackendConfig

log = logging.getLogger(__name__)

VERIFY_FIELDS = [
    "ml_rank", "dft_rank", "uid", "formula", "spacegroup", "atoms", "ml_backend", "ml_energy_per_atom",
    "ml_above_best_mev", "dft_backend", "mode", "status", "reason", "dft_energy_per_atom", "dft_above_best_mev",
    "dft_spacegroup", "seconds",
]
DFT_BACKENDS = ("gpaw", "espresso", "vasp")


@dataclass
class Agreement:
    """How the DFT ranking agrees with the ML ranking over the structures both ranked."""

    structures: int
    same_lowest: bool | None  # the DFT's lowest is the ML's lowest
    pairs_in_order: float | None  # share of pairs that the two rank in the same order
    spearman: float | None
    kendall: float | None
    dft_lowest_ml_rank: int | None  # the ML rank of the structure DFT puts lowest
    details: dict = field(default_factory=dict)


def agreement(ml: list[float], dft: list[float], ml_ranks: list[int], tie_mev: float = 1.0) -> Agreement:
    """Agreement of two energy lists (eV/atom, one entry per structure, same order). Pairs that either
    method puts within `tie_mev` meV/atom of each other count as neither agreeing nor disagreeing."""
    n = len(ml)
    if n == 0:
        return Agreement(0, None, None, None, None, None)
    lowest = min(range(n), key=lambda i: dft[i])
    same_lowest = ml_ranks[lowest] == min(ml_ranks)
    decided = agreeing = 0
    for i, j in combinations(range(n), 2):
        dm, dd = ml[i] - ml[j], dft[i] - dft[j]
        if abs(dm) * 1000 < tie_mev or abs(dd) * 1000 < tie_mev:
            continue
        decided += 1
        agreeing += (dm > 0) == (dd > 0)
    spearman = kendall = None
    if n >= 3:
        from scipy.stats import kendalltau, spearmanr

        spearman = float(spearmanr(ml, dft).statistic)
        kendall = float(kendalltau(ml, dft).statistic)
    return Agreement(n, same_lowest, agreeing / decided if decided else None, spearman, kendall, ml_ranks[lowest],
                     {"pairs_decided": decided, "pairs_agreeing": agreeing, "tie_mev": tie_mev})


def dft_backend(stored: BackendConfig, name: str, given: dict | None = None) -> BackendConfig:
    """The DFT backend settings: the run's [backend] numbers (cut-off, k-spacing, smearing, setups), never
    its commands (sccop.phonons.trusted_backend), with the user's `given` settings on top."""
    from sccop.backends import parse_backend
    from sccop.errors import SccopInputError
    from sccop.phonons import trusted_backend

    backend = parse_backend(name)
    if not backend.is_dft:
        raise SccopInputError(f"sccop verify checks with DFT: backend {name!r} is not one of {', '.join(DFT_BACKENDS)}")
    return replace(trusted_backend(stored, given), name=backend.value, model=None, batch_size=1)


def verify_run(out, backend: str, top: int = 5, relax: bool = False, *, backend_settings: dict | None = None,
               progress: bool = True, calculator=None) -> tuple[list[dict], Agreement]:
    """DFT energies of the `top` structures of a search directory, re-ranked; see the module docstring.

    `backend`: gpaw, espresso or vasp; `backend_settings`: the user's [backend] settings (ecutwfc, kspacing,
    espresso_command, ...); `relax`: relax with DFT (atoms and cell, the run's [relax] settings) instead of
    single points; `calculator`: an ASE calculator to use instead (tests).
    """
    import csv
    import io
    import json
    from pathlib import Path

    from tqdm import tqdm

    from sccop.answer.outputs import reported_atoms, structure_name, summary_lines
    from sccop.answer.ranking import ranked, rerank_name
    from sccop.backends import backend_label, check_backend
    from sccop.calls.rundir import atomic, read_settings, write_text
    from sccop.calls.store import open_store
    from sccop.composition import parse_composition
    from sccop.errors import SccopInputError
    from sccop.relaxation import describe_error, enthalpy_per_atom, relax as relax_one, single_points
    from sccop.symmetry.analysis import spacegroup_and_symbol

    out = Path(out)
    config = read_settings(out, writing=True)
    chosen = dft_backend(config.backend, backend, backend_settings)
    store = open_store(out, config)
    candidates = [c for c in ranked(store, config, top) if c.relaxed]
    if not candidates:
        raise SccopInputError(f"{out} holds no relaxed structure yet")
    elements = sorted({s for c in candidates for s in reported_atoms(store, c).get_chemical_symbols()})
    if calculator is None:
        check_backend(chosen, elements)  # a missing binary, setup or pseudopotential, before anything runs
    elif config.composition:
        parse_composition(config.composition)
    rerank = rerank_name(config) if config.refine.rerank else None
    lines = summary_lines(store, candidates, rerank)
    pressure = config.relax.pressure
    ml_name = backend_label(config.backend)

    folder = out / "verify"
    folder.mkdir(exist_ok=True)
    rows: list[dict] = []
    ml_best = min(c.rerank_energy if c.rerank_energy is not None else c.energy for c in candidates)

    def write_all(final: Agreement | None) -> None:
        ok = [r for r in rows if r["status"] == "ok"]
        best = min((r["dft_energy_per_atom"] for r in ok), default=None)
        for r in rows:
            r["dft_rank"] = r["dft_above_best_mev"] = ""
        for rank, r in enumerate(sorted(ok, key=lambda r: r["dft_energy_per_atom"]), start=1):
            r["dft_rank"] = rank
            r["dft_above_best_mev"] = round((r["dft_energy_per_atom"] - best) * 1000, 2)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=VERIFY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        write_text(folder / "verify.csv", buffer.getvalue())
        if final is not None:
            settings = {k: getattr(chosen, k) for k in ("name", "ecutwfc", "ecutrho", "kspacing", "smearing", "encut")}
            write_text(folder / "verify.json", json.dumps({
                "backend": settings, "mode": "relax" if relax else "single point", "pressure_gpa": pressure,
                "ml_backend": ml_name, "structures": len(rows),
                "agreement": final.__dict__,
            }, indent=2, default=str))

    for c, line in tqdm(list(zip(candidates, lines)), desc=f"verify ({chosen.name})", unit="structure",
                        disable=not progress):
        atoms = reported_atoms(store, c)
        ml_energy = c.rerank_energy if c.rerank_energy is not None else c.energy
        row = {
            "ml_rank": line["rank"], "uid": c.rerank_uid if c.rerank_energy is not None else c.uid,
            "formula": line["formula"], "spacegroup": line["spacegroup"], "atoms": len(atoms),
            "ml_backend": rerank if c.rerank_energy is not None else ml_name,
            "ml_energy_per_atom": round(ml_energy, 6), "ml_above_best_mev": round((ml_energy - ml_best) * 1000, 2),
            "dft_backend": chosen.name, "mode": "relax" if relax else "single point", "status": "failed",
            "reason": "", "dft_energy_per_atom": "", "dft_spacegroup": "", "seconds": "",
        }
        start = time.perf_counter()
        try:
            if relax:
                result = relax_one(atoms, chosen, config.relax, calculator=calculator)
            else:
                result = single_points([atoms], chosen, config.relax, calculator=calculator)[0]
        except Exception as exc:  # noqa: BLE001 - one structure's failure must not lose the others
            row["reason"] = describe_error(exc)
            result = None
        row["seconds"] = round(time.perf_counter() - start, 1)
        if result is not None:
            row["status"], row["reason"] = result.status, result.reason or ""
            if result.ok:
                value = enthalpy_per_atom(result, pressure) if pressure else result.energy_per_atom
                row["dft_energy_per_atom"] = round(float(value), 6)
                row["dft_spacegroup"] = spacegroup_and_symbol(result.atoms)[0]
                if relax:
                    from sccop.symmetry.analysis import symmetrized_cif

                    with atomic(folder / f"{structure_name(line)}.cif") as path:
                        Path(path).write_text(symmetrized_cif(result.atoms))
        if row["status"] != "ok":
            log.warning("DFT %s of %s failed: %s", row["mode"], row["uid"], row["reason"])
        rows.append(row)
        write_all(None)

    ok = [r for r in rows if r["status"] == "ok"]
    final = agreement([r["ml_energy_per_atom"] for r in ok], [r["dft_energy_per_atom"] for r in ok],
                      [r["ml_rank"] for r in ok])
    write_all(final)
    return rows, final


__all__ = ["Agreement", "VERIFY_FIELDS", "agreement", "dft_backend", "verify_run"]
