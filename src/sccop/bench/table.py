"""Benchmark tables: CSPBench-format CSVs (material_id, primitive_formula or full_formula, nsites,
spacegroup) or prototype indexes (name, formula, nsites, spacegroup), and the reference structures
beside them (read only to score a finished method, never by a search)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from sccop.errors import SccopInputError


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
    if not path.is_file():
        raise SccopInputError(f"benchmark table {path} is not a file")
    try:
        with open(path, newline="") as fh:
            table = list(csv.DictReader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SccopInputError(f"benchmark table {path} is not a readable CSV file ({exc})") from None
    if not table or None in table[0]:
        raise SccopInputError(f"benchmark table {path} has no rows" if not table else
                              f"benchmark table {path}: line 2 has more cells than the header")
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
            lo, hi = parse_range(part.strip(), "rows", limit=None)
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
        other = folders.setdefault(safe_name(r.id), r.id)
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


def safe_name(name: str) -> str:
    """A row id as a folder name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


__all__ = ["BenchRow", "read_table", "reference_path", "safe_name"]
