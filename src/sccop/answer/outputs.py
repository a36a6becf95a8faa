"""What a run writes for people, from the ranked candidates (sccop.answer.ranking):

- DIR/summary.csv: one line per candidate. `energy_per_atom` is E/N and, under pressure,
  `enthalpy_per_atom` is (E + PV)/N; `above_best` is in what the search ranks (the enthalpy under
  pressure, else the energy), eV/atom. With elemental references (layers by default;
  sccop.answer.references): `formation_energy_per_atom` (eV/atom) and, for a layer,
  `formation_energy_per_area` (eV/A^2) and `area_per_atom` (A^2).
- DIR/best: per candidate its symmetrised conventional cell as a CIF with space group and Wyckoff sites
  (NN_FORMULA_GROUP.cif) and its standard primitive cell (NN_FORMULA_GROUP.POSCAR).
- DIR/results.extxyz: every relaxed structure of the run (relaxations, symmetrised versions, re-ranked
  ones) with its uid, stage, energies and space group.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sccop.answer import references
from sccop.answer.candidates import Candidate
from sccop.answer.references import formation_energies
from sccop.answer.ranking import ranked, rerank_name
from sccop.config import RunConfig
from sccop.errors import SccopInputError
from sccop.symmetry.analysis import primitive_cell, spacegroup_and_symbol, symmetrized_cif, to_structure

SUMMARY_FIELDS = [
    "rank", "formula", "spacegroup_symbol", "spacegroup", "spacegroup_by_symprec", "energy_per_atom", "enthalpy_per_atom", "above_best",
    "formation_energy_per_atom", "formation_energy_per_area", "area_per_atom", "round",
    "calls", "relaxed", "uid", "relaxed_spacegroup", "relaxed_energy_per_atom", "symmetrized", "copies", "primary_rank",
    "rerank_backend", "rerank_energy_per_atom", "rerank_enthalpy_per_atom", "rerank_above_best", "rerank_spacegroup",
    "rerank_reason",
]
RESULT_KEYS = ("uid", "stage", "parent", "round", "calls", "spacegroup", "energy_per_atom", "enthalpy_per_atom",
               "backend", "converged", "steps")


# Tolerances (Angstrom) at which summary.csv gives each answer's group (`spacegroup_by_symprec`).
LADDER_SYMPREC = (0.001, 0.01, 0.1, 0.3)


def groups_by_symprec(atoms) -> str:
    """The space (or layer) group at each tolerance of LADDER_SYMPREC: '0.001:1 0.01:194 0.1:194 0.3:191'."""
    return " ".join(f"{tol:g}:{spacegroup_and_symbol(atoms, tol)[0]}" for tol in LADDER_SYMPREC)


def reported_atoms(store, c: Candidate):
    """The structure a candidate is reported as: as the re-ranking backend relaxed it, when it did."""
    return store.get(c.rerank_uid).toatoms() if c.rerank_energy is not None else c.atoms


def reduced_formula(atoms) -> str:
    """pymatgen's reduced formula (NaCl, not Na4Cl4), as files and tables name a structure."""
    return to_structure(atoms).composition.reduced_formula


def _per_atom(row) -> tuple[float | None, float | None]:
    """(E/N, (E + PV)/N or None) of a stored call."""
    enthalpy = row.get("enthalpy_per_atom")
    return row.get("energy_per_atom"), enthalpy


def _round(value):
    return None if value is None else round(float(value), 6)


def potentials_of(store, config: RunConfig) -> dict | None:
    """The run's elemental references (element -> (energy per atom, form)) when it reports formation
    energies (sccop.answer.references); None otherwise."""
    if not (references.wanted(config) and config.composition):
        return None
    from sccop.composition import parse_composition

    return references.chemical_potentials(store, parse_composition(config.composition).elements)


def summary_lines(store, candidates: list[Candidate], rerank: str | None = None,
                  potentials: dict | None = None) -> list[dict]:
    """One summary.csv line per candidate (`rerank`: the re-ranking backend's name; `potentials`: element ->
    (energy per atom, form) of the elemental references, for formation energies)."""
    lines = []
    best = min((c.energy for c in candidates), default=None)
    best_rerank = min((c.rerank_energy for c in candidates if c.rerank_energy is not None), default=None)
    for c in candidates:
        atoms = reported_atoms(store, c)
        number, symbol = spacegroup_and_symbol(atoms)
        energy, enthalpy = _per_atom(store.get(c.uid))
        line = {
            "rank": c.rank, "formula": reduced_formula(atoms), "spacegroup_symbol": symbol, "spacegroup": number,
            "spacegroup_by_symprec": groups_by_symprec(atoms),
            "energy_per_atom": _round(energy), "enthalpy_per_atom": _round(enthalpy),
            "above_best": round(c.energy - best, 6), "round": c.round, "calls": c.calls, "relaxed": c.relaxed,
            "uid": c.uid, "relaxed_spacegroup": c.raw_spacegroup,
            "relaxed_energy_per_atom": _round(_per_atom(store.get(c.source))[0]), "symmetrized": c.symmetrized,
            "copies": c.copies, "primary_rank": c.rank_primary,
        }
        if potentials and energy is not None and c.rerank_energy is None:
            line.update({k: _round(v) for k, v in formation_energies(atoms, energy, potentials).items()})
        if c.rerank_uid is not None:
            line.update({"rerank_backend": rerank, "rerank_reason": c.rerank_reason})
        if c.rerank_energy is not None:
            energy, enthalpy = _per_atom(store.get(c.rerank_uid))
            line.update({"rerank_energy_per_atom": _round(energy), "rerank_enthalpy_per_atom": _round(enthalpy),
                         "rerank_above_best": round(c.rerank_energy - best_rerank, 6),
                         "rerank_spacegroup": c.rerank_spacegroup})
        lines.append(line)
    return lines


def structure_name(line: dict) -> str:
    """The file stem of a summary line's structure in DIR/best: 01_NaCl_225."""
    return f"{int(line['rank']):02d}_{line['formula']}_{line['spacegroup']}"


def relaxed_structures(store) -> list:
    """Every ok relaxation, symmetrised version and re-ranked structure, in the order they were made, with
    RESULT_KEYS in their info."""
    out = []
    for stage in ("relax", "refine", "rerank"):
        for row in store.rows(stage=stage, status="ok"):
            atoms = row.toatoms()
            atoms.info.update({k: row.get(k) for k in RESULT_KEYS if row.get(k) is not None})
            out.append((row.id, atoms))
    return [atoms for _, atoms in sorted(out, key=lambda item: item[0])]


def write_outputs(store, out: str | Path, config: RunConfig, candidates: list[Candidate] | None = None) -> list[dict]:
    """DIR/best, DIR/summary.csv and DIR/results.extxyz for the `search.top` best candidates (default:
    `ranked`); returns the summary lines."""
    from ase.io import write

    from sccop.calls.rundir import atomic, write_text

    out = Path(out)
    candidates = (ranked(store, config) if candidates is None else candidates)[: config.search.top]
    potentials = potentials_of(store, config)
    lines = summary_lines(store, candidates, rerank_name(config) if config.refine.rerank else None, potentials)
    best_dir = out / "best"
    if best_dir.is_symlink():
        raise SccopInputError(f"{best_dir} is a symbolic link; sccop writes only into folders it made")
    best_dir.mkdir(exist_ok=True)
    names = set()
    for c, line in zip(candidates, lines):
        atoms = reported_atoms(store, c)
        name = structure_name(line)
        write_text(best_dir / f"{name}.cif", symmetrized_cif(atoms))
        with atomic(best_dir / f"{name}.POSCAR") as path:
            write(path, primitive_cell(atoms), format="vasp", direct=True)
        names |= {f"{name}.cif", f"{name}.POSCAR"}
    for old in best_dir.iterdir():  # the files of an earlier answer
        if old.is_file() and old.name not in names:
            old.unlink()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_FIELDS)
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in line.items()} for line in lines)
    write_text(out / "summary.csv", buffer.getvalue())
    structures = relaxed_structures(store)
    if structures:
        with atomic(out / "results.extxyz") as path:
            write(path, structures, format="extxyz")
    return lines


__all__ = ["SUMMARY_FIELDS", "potentials_of", "summary_lines", "write_outputs", "reported_atoms", "structure_name", "reduced_formula",
           "relaxed_structures"]
