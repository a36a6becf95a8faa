"""What a run writes for people: DIR/summary.csv (one line per candidate) and DIR/best (a CIF and a
POSCAR of each), from the ranked candidates (sccop.answer.ranking)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sccop.answer.candidates import Candidate
from sccop.answer.ranking import ranked, rerank_name
from sccop.config import RunConfig
from sccop.errors import SccopInputError
from sccop.symmetry.analysis import spacegroup_and_symbol, to_structure

SUMMARY_FIELDS = [
    "rank", "formula", "spacegroup_symbol", "spacegroup", "energy_per_atom", "above_best", "round", "calls", "relaxed",
    "uid", "relaxed_spacegroup", "relaxed_energy_per_atom", "symmetrized", "copies", "primary_rank", "rerank_backend",
    "rerank_energy_per_atom", "rerank_above_best", "rerank_spacegroup", "rerank_reason",
]


def reported_atoms(store, c: Candidate):
    """The structure a candidate is reported as: as the re-ranking backend relaxed it, when it did."""
    return store.get(c.rerank_uid).toatoms() if c.rerank_energy is not None else c.atoms


def summary_lines(store, candidates: list[Candidate], rerank: str | None = None) -> list[dict]:
    """One summary.csv line per candidate (`rerank`: the re-ranking backend's name)."""
    lines = []
    best = min((c.energy for c in candidates), default=None)
    best_rerank = min((c.rerank_energy for c in candidates if c.rerank_energy is not None), default=None)
    for c in candidates:
        atoms = reported_atoms(store, c)
        number, symbol = spacegroup_and_symbol(atoms)
        line = {
            "rank": c.rank, "formula": reduced_formula(atoms),
            "spacegroup_symbol": symbol, "spacegroup": number,
            "energy_per_atom": round(c.energy, 6), "above_best": round(c.energy - best, 6),
            "round": c.round, "calls": c.calls, "relaxed": c.relaxed, "uid": c.uid,
            "relaxed_spacegroup": c.raw_spacegroup, "relaxed_energy_per_atom": round(c.raw_energy, 6),
            "symmetrized": c.symmetrized, "copies": c.copies, "primary_rank": c.rank_primary,
        }
        if c.rerank_uid is not None:
            line.update({"rerank_backend": rerank, "rerank_reason": c.rerank_reason})
        if c.rerank_energy is not None:
            line.update({"rerank_energy_per_atom": round(c.rerank_energy, 6),
                         "rerank_above_best": round(c.rerank_energy - best_rerank, 6), "rerank_spacegroup": c.rerank_spacegroup})
        lines.append(line)
    return lines


def reduced_formula(atoms) -> str:
    """pymatgen's reduced formula (NaCl, not Na4Cl4), as files and tables name a structure."""
    return to_structure(atoms).composition.reduced_formula


def structure_name(line: dict) -> str:
    """The file stem of a summary line's structure in DIR/best: 01_NaCl_225."""
    return f"{int(line['rank']):02d}_{line['formula']}_{line['spacegroup']}"


def write_outputs(store, out: str | Path, config: RunConfig, candidates: list[Candidate] | None = None) -> list[dict]:
    """DIR/best and DIR/summary.csv for the `search.top` best candidates (default: `ranked`); returns the
    summary lines."""
    from ase.io import write

    from sccop.calls.rundir import atomic, write_text

    out = Path(out)
    candidates = (ranked(store, config) if candidates is None else candidates)[: config.search.top]
    lines = summary_lines(store, candidates, rerank_name(config) if config.refine.rerank else None)
    best_dir = out / "best"
    if best_dir.is_symlink():
        raise SccopInputError(f"{best_dir} is a symbolic link; sccop writes only into folders it made")
    best_dir.mkdir(exist_ok=True)
    names = set()
    for c, line in zip(candidates, lines):
        atoms = reported_atoms(store, c)
        name = structure_name(line)
        with atomic(best_dir / f"{name}.cif") as path:
            write(path, atoms, format="cif")
        with atomic(best_dir / f"{name}.POSCAR") as path:
            write(path, atoms, format="vasp", direct=True)
        names |= {f"{name}.cif", f"{name}.POSCAR"}
    for old in best_dir.iterdir():  # the files of an earlier answer
        if old.is_file() and old.name not in names:
            old.unlink()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_FIELDS)
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in line.items()} for line in lines)
    write_text(out / "summary.csv", buffer.getvalue())
    return lines


__all__ = ["SUMMARY_FIELDS", "summary_lines", "write_outputs", "reported_atoms", "structure_name"]
