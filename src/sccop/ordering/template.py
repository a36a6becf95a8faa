"""A fixed lattice to order species on: the template structure, its sublattices and its symmetry.

`load_template(path, composition, sites, supercell, atoms)` reads the template (CIF, POSCAR, extxyz,
anything ASE reads), repeats it (a supercell given as 2x1x1, or the smallest diagonal one whose atom
count falls in `atoms`), and splits its sites into sublattices: `sites` names, per sublattice, the
template species whose sites form it and (after `=`) the species ordered on it, e.g.
``"Cu,In"`` (one sublattice, holding every composition species that the fixed sites do not use) or
``"Ga=Ga,Zn;N=N,O"`` (two). Sites of species no sublattice names stay fixed and must appear in the
composition with exactly their count. `Vac` in a composition is a vacancy: a site left empty.

The template's symmetry (spglib on the repeated cell, so the supercell's translations are included) acts
on the ordered sites as permutations; two arrangements related by one are the same candidate.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms

from sccop.errors import SccopInputError

VACANCY = "Vac"
MAX_REPEAT = 6


@dataclass(frozen=True)
class Sublattice:
    sites: tuple[int, ...]  # indices into Template.atoms
    counts: tuple[tuple[str, int], ...]  # (species or Vac, how many of its sites)


@dataclass(frozen=True)
class Template:
    """The repeated template (`atoms`), its sublattices, and `permutations`: (n_ops, n_ordered) arrays, row
    k mapping ordered site i to ordered site permutations[k, i] (ordered sites numbered sublattice by
    sublattice, as in `ordered`)."""

    atoms: Atoms
    sublattices: tuple[Sublattice, ...]
    fixed: tuple[int, ...]
    permutations: np.ndarray
    repeat: tuple[int, int, int]
    source: str

    @property
    def ordered(self) -> tuple[int, ...]:
        return tuple(i for sub in self.sublattices for i in sub.sites)

    @property
    def species(self) -> tuple[str, ...]:
        """The codes of an arrangement: index into this tuple (Vac last when present)."""
        names = sorted({s for sub in self.sublattices for s, _ in sub.counts} - {VACANCY})
        has_vacancy = any(s == VACANCY for sub in self.sublattices for s, _ in sub.counts)
        return tuple(names) + ((VACANCY,) if has_vacancy else ())

    def describe(self) -> str:
        parts = []
        for sub in self.sublattices:
            counts = " ".join(f"{s}{n}" for s, n in sub.counts)
            parts.append(f"{len(sub.sites)} sites <- {counts}")
        return (f"template {self.source} repeated {'x'.join(map(str, self.repeat))}: {len(self.atoms)} sites, "
                f"{len(self.fixed)} fixed; {'; '.join(parts)}; {len(self.permutations)} symmetry operations")


def parse_amounts(text: str) -> dict[str, int]:
    """A formula with whole amounts and optional vacancies: ``Cu1In5Vac2Se8`` -> {Cu: 1, In: 5, Vac: 2, Se: 8}."""
    from ase.data import chemical_symbols

    if not isinstance(text, str) or not text.strip():
        raise SccopInputError("empty composition")
    compact = text.replace(" ", "")
    tokens = re.findall(r"([A-Z][a-z]*)(\d*)", compact)
    if "".join(e + n for e, n in tokens) != compact:
        raise SccopInputError(f"cannot parse composition {text!r}: write it as element symbols with whole amounts, "
                              "e.g. Cu1In5Vac2Se8 (Vac: a vacancy)")
    amounts: dict[str, int] = {}
    for element, number in tokens:
        if element != VACANCY and element not in chemical_symbols[1:]:
            raise SccopInputError(f"unknown element {element!r} in composition {text!r} (a vacancy is written Vac)")
        n = int(number) if number else 1
        if n <= 0:
            raise SccopInputError(f"composition {text!r} has zero {element}: leave it out instead")
        amounts[element] = amounts.get(element, 0) + n
    if all(e == VACANCY for e in amounts):
        raise SccopInputError(f"composition {text!r} has no atoms")
    return amounts


def parse_sites(spec: str | None, template_species: list[str]) -> list[tuple[list[str], list[str] | None]]:
    """[(template species, ordered species or None)] per sublattice (see the module docstring)."""
    if spec is None or not spec.strip():
        return [(sorted(set(template_species)), None)]
    out = []
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        left, _, right = part.partition("=")
        names = [s.strip() for s in left.split(",") if s.strip()]
        species = [s.strip() for s in right.split(",") if s.strip()] if right.strip() else None
        for name in names:
            if name not in template_species:
                raise SccopInputError(f"--sites names {name!r}, which is not a species of the template "
                                      f"(it has {', '.join(sorted(set(template_species)))})")
        if not names:
            raise SccopInputError(f"--sites part {part!r} names no template species")
        out.append((names, species))
    seen = [n for names, _ in out for n in names]
    if len(seen) != len(set(seen)):
        raise SccopInputError(f"--sites {spec!r} puts one template species in two sublattices")
    return out


def read_template(path: str | Path) -> Atoms:
    from ase.io import read

    path = Path(path)
    if not path.exists():
        raise SccopInputError(f"template {path} does not exist")
    try:
        atoms = read(path)
    except Exception as exc:  # noqa: BLE001 - any reader's complaint, in one line
        raise SccopInputError(f"cannot read template {path}: {exc}") from None
    if len(atoms) == 0 or not atoms.pbc.all():
        raise SccopInputError(f"template {path} must be a periodic crystal with atoms")
    return atoms


def parse_repeat(text: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX*]\s*(\d+)\s*[xX*]\s*(\d+)\s*", text or "")
    if not m or min(int(g) for g in m.groups()) < 1:
        raise SccopInputError(f"supercell {text!r}: write it as NAxNBxNC with whole numbers >= 1, e.g. 2x1x1")
    return tuple(int(g) for g in m.groups())


def _repeats_for(atoms: Atoms, n_vacancy_share: float, low: int, high: int) -> tuple[int, int, int]:
    """The smallest diagonal repeat whose atom count (sites less vacancies) lies in [low, high], the most
    compact (face-to-face distances) first."""
    cell = atoms.cell
    best = None
    for rep in itertools.product(range(1, MAX_REPEAT + 1), repeat=3):
        sites = len(atoms) * int(np.prod(rep))
        real = round(sites * (1 - n_vacancy_share))
        if not low <= real <= high:
            continue
        heights = [float(cell.volume / np.linalg.norm(np.cross(cell[(k + 1) % 3], cell[(k + 2) % 3]))) * rep[k]
                   for k in range(3)]
        key = (sites, max(heights) / min(heights), rep)
        if best is None or key < best:
            best = key
    if best is None:
        raise SccopInputError(f"no supercell of the template (up to {MAX_REPEAT} repeats per axis) has {low}-{high} atoms")
    return best[2]


def symmetry_permutations(atoms: Atoms, ordered: list[int], symprec: float = 1e-3) -> np.ndarray:
    """Each operation of the template (with its own species) as a permutation of the ordered sites."""
    import spglib

    cell = (np.asarray(atoms.cell[:]), atoms.get_scaled_positions(wrap=True), atoms.numbers)
    data = spglib.get_symmetry(cell, symprec=symprec)
    frac = atoms.get_scaled_positions(wrap=True)[ordered]
    perms = []
    for rot, trans in zip(data["rotations"], data["translations"]):
        image = (frac @ rot.T + trans) % 1.0
        diff = image[:, None, :] - frac[None, :, :]
        diff -= np.round(diff)
        dist = np.linalg.norm(diff @ np.asarray(atoms.cell[:]), axis=2)
        target = dist.argmin(axis=1)
        if dist[np.arange(len(ordered)), target].max() > 0.05 or len(set(target)) != len(ordered):
            continue  # not a permutation of the ordered sites (cannot happen for an operation of the template)
        perms.append(target)
    if not perms:
        perms.append(np.arange(len(ordered)))
    return np.unique(np.array(perms, dtype=np.int64), axis=0)


def load_template(path: str | Path, composition: str, sites: str | None = None, supercell: str | None = None,
                  atoms_range: tuple[int, int] | None = None) -> Template:
    """The Template for ordering `composition` on the template at `path` (see the module docstring)."""
    base = read_template(path)
    amounts = parse_amounts(composition)
    total = sum(amounts.values())
    if supercell and atoms_range:
        raise SccopInputError("give either --supercell or --atoms with --template, not both")
    if supercell:
        repeat = parse_repeat(supercell)
    elif atoms_range:
        repeat = _repeats_for(base, amounts.get(VACANCY, 0) / total, *atoms_range)
    else:
        repeat = (1, 1, 1)
    atoms = base.repeat(repeat)
    symbols = atoms.get_chemical_symbols()
    if len(atoms) % total:
        raise SccopInputError(f"the template{' supercell' if repeat != (1, 1, 1) else ''} has {len(atoms)} sites, "
                              f"not a whole number of {composition}'s {total} sites (atoms and vacancies)")
    units = len(atoms) // total
    wanted = {e: n * units for e, n in amounts.items()}
    spec = parse_sites(sites, symbols)
    named = {n for names, _ in spec for n in names}
    fixed = [i for i, s in enumerate(symbols) if s not in named]
    for element in sorted({symbols[i] for i in fixed}):
        have = sum(1 for i in fixed if symbols[i] == element)
        if wanted.get(element, 0) < have:
            raise SccopInputError(f"the template's {have} fixed {element} sites need {have} {element} in the cell; "
                                  f"{composition} gives {wanted.get(element, 0)} (name {element} in --sites to order it)")
    left = dict(wanted)
    for i in fixed:
        left[symbols[i]] -= 1
    left = {e: n for e, n in left.items() if n > 0}
    unplaced = [e for names, species in spec if species for e in species if e not in left]
    if unplaced:
        raise SccopInputError(f"--sites orders {', '.join(unplaced)}, which {composition} does not hold beyond the fixed sites")
    sublattices = []
    for names, species in spec:
        members = tuple(i for i, s in enumerate(symbols) if s in names)
        if species is None:
            listed = {e for _, sp in spec if sp for e in sp}
            species = [e for e in left if e not in listed]
        counts = tuple((e, left.pop(e)) for e in species if e in left)
        n = sum(c for _, c in counts)
        if n != len(members):
            what = " ".join(f"{e}{c}" for e, c in counts) or "nothing"
            raise SccopInputError(f"the sublattice of {','.join(names)} has {len(members)} sites in the "
                                  f"{'x'.join(map(str, repeat))} template, but {composition} puts {what} ({n}) on it: "
                                  "the composition (with Vac for vacancies) must fill the sublattice exactly")
        sublattices.append(Sublattice(members, counts))
    if left:
        raise SccopInputError(f"{composition} holds {' '.join(f'{e}{n}' for e, n in left.items())} that no template "
                              "site takes: name their sublattice in --sites")
    ordered = [i for sub in sublattices for i in sub.sites]
    if len({s for sub in sublattices for s, _ in sub.counts}) < 2 and all(len(sub.counts) < 2 for sub in sublattices):
        raise SccopInputError(f"{composition} on this template has one arrangement only: nothing to order")
    return Template(atoms=atoms, sublattices=tuple(sublattices), fixed=tuple(fixed),
                    permutations=symmetry_permutations(atoms, ordered), repeat=repeat, source=str(path))


__all__ = ["VACANCY", "Sublattice", "Template", "parse_amounts", "parse_sites", "parse_repeat", "read_template",
           "symmetry_permutations", "load_template"]
