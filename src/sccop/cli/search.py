"""Search for the lowest-energy crystal structures of a composition (the SCCOP loop).

Every option can also be set in a TOML file (--config run.toml) with the sections of the resolved
config that the run writes to DIR/config.toml; options on the command line win over the file. Running
the same command again on an existing DIR resumes it: no finished backend call is repeated.
"""

from __future__ import annotations

import argparse
import logging

HELP = "search for low-energy structures of a composition (sample, learn, anneal, relax)"
log = logging.getLogger("sccop.search")


# Settings a user changes often, as flags: (flag, section or None for the top level, field, type, help).
# Every other setting goes in --config; `sccop config --show` lists them all with their descriptions.
FLAGS = (
    ("--dim", "sampler", "dim", int, "3 for crystals (default), 2 for layers"),
    ("--symmetry-bias", "sampler", "symmetry_bias", float,
     "draw groups by (point-group order)^B among those the cell fits; 0: uniformly (default 1)"),
    ("--orbit-bias", "sampler", "orbit_bias", float,
     "draw a group's Wyckoff assignments with weight exp(-B * extra orbits); 0: uniformly (default 0)"),
    ("--distance-factor", "sampler", "distance_factor", float, "f in the distance rule d_ij >= f (r_i + r_j) (default 0.7)"),
    ("--thickness", "sampler", "thickness", float, "2D: puckering thickness of the layer in Angstrom (default 0)"),
    ("--vacuum", "sampler", "vacuum", float, "2D: vacuum along c in Angstrom (default 15)"),
    ("--pressure", "relax", "pressure", float, "external pressure in GPa: the search ranks by enthalpy (default 0)"),
    ("--device", "backend", "device", str, "torch device of ML potentials: cpu (default) or cuda"),
    ("--rounds", "search", "rounds", int, "most rounds (default 3)"),
    ("--budget-calls", "search", "budget_calls", int, "stop after this many backend calls"),
    ("--budget-minutes", "search", "budget_minutes", float, "stop after this many minutes"),
    ("--model", "backend", "model", str, "model of the backend: 7net-0 (default), 7net-l3i5 or 7net-mf-0 for sevennet"),
    ("--modal", "backend", "modal", str, "fidelity of a multi-fidelity model: PBE or R2SCAN for 7net-mf-0"),
    ("--rerank-model", "refine", "rerank_model", str, "model of the re-ranking backend, e.g. 7net-l3i5"),
    ("--rerank-modal", "refine", "rerank_modal", str, "fidelity of the re-ranking backend's model, e.g. PBE"),
    ("--rerank-top", "refine", "rerank_top", int, "candidates re-ranked (default 10)"),
    ("--seed", None, "seed", int, "random seed (default 0): the same seed and inputs give the same result"),
    ("--workers", "execution", "workers", int, "run backend calls on a local Dask cluster of N worker processes"),
    ("--execution", "execution", "cluster", str,
     "where backend calls run: local (default), slurm or pbs (dask-jobqueue; the other [execution] settings in --config)"),
    ("--template", "ordering", "template", str,
     "order the composition (Vac: a vacancy) on this structure's sites instead of searching space groups"),
    ("--sites", "ordering", "sites", str,
     "with --template: the template species whose sites are ordered, e.g. \"Cu,In\" or \"Ga=Ga,Zn;N=N,O\""),
    ("--supercell", "ordering", "supercell", str, "with --template: repeat it, e.g. 2x1x1 (or give --atoms)"),
    ("--units", "units", "spec", str,
     "rigid units placed whole: B12, \"B12:2\" (and free atoms for the rest), CO2, a molecule file ... (SCCOP's two "
     "steps: a rigid-unit search and relaxation, then a free relaxation)"),
    ("--seeds", "search", "seeds", str,
     "seed structures (CIF/POSCAR/extxyz file, folder, or ASE database): labelled and relaxed first, they seed the sampler"),
    ("--db", "store", "url", str,
     "the run's database: DIR/sccop.db (default) or postgresql://user@host/database, a server runs share"),
)


def add_settings(p: argparse.ArgumentParser) -> None:
    """The options that make a search's settings (search and `config --show` share them)."""
    from sccop.cli.common import add_cell_size
    from sccop.config import BACKEND_NAMES

    backends = ", ".join(b for b in BACKEND_NAMES if b != "ase")
    p.add_argument("composition", nargs="?", help="chemical formula, e.g. Mg2SiO4 (or give it in --config)")
    add_cell_size(p)
    p.add_argument("--spacegroups", help="allowed groups, e.g. 1-230 or 225,221 (layer groups 1-80 with --dim 2)")
    p.add_argument("--backend", help=f"energy backend: {backends} (default chgnet)")
    p.add_argument("--rerank", help=f"second backend that relaxes the final candidates and ranks them: {backends}")
    p.add_argument("--no-symmetrize", action="store_true",
                   help="report the relaxed structures as they are (no symmetrise-and-re-relax)")
    for flag, section, field, kind, text in FLAGS:
        p.add_argument(flag, type=kind, dest=field if section is None else f"{section}__{field}", help=text)
    p.add_argument("--fixed-cell", action="store_true", help="relax atoms only, the cell kept (e.g. on a template)")
    p.add_argument("--config", help="TOML file with any of the settings (the options given here win)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_settings(p)
    p.add_argument("--out", required=True, help="run directory (created; an existing one is resumed)")
    p.add_argument("--force", action="store_true", help="resume DIR even though the settings changed")
    p.add_argument("--quiet", action="store_true", help="no progress bars, warnings only")


def resolve(args: argparse.Namespace, need_composition: bool = True):
    """The RunConfig from --config and the command-line options (the options win)."""
    from sccop.backends import parse_backend
    from sccop.calls.rundir import load_config
    from sccop.config import SECTIONS, from_dict
    from sccop.errors import SccopInputError
    from sccop.symmetry.groups import parse_groups

    data = load_config(args.config) if args.config else {}

    def put(section: str, key: str, value) -> None:
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise SccopInputError(f"[{section}] must be a table of settings")
        table[key] = value

    if args.composition:
        data["composition"] = args.composition
    if need_composition and not data.get("composition"):
        raise SccopInputError("give a composition, e.g. `sccop search NaCl --out runs/NaCl`")
    if args.atoms:
        data["atoms"] = args.atoms
        data.pop("formula_units", None)
    if args.formula_units:
        data["formula_units"] = args.formula_units
        data.pop("atoms", None)
    for flag, section, field, kind, text in FLAGS:
        value = getattr(args, field if section is None else f"{section}__{field}")
        if value is not None:
            if section is None:
                data[field] = value
            else:
                put(section, field, value)
    if args.spacegroups:
        dim = data.get("sampler", {}).get("dim", 3) if isinstance(data.get("sampler"), dict) else 3
        put("sampler", "spacegroups", list(parse_groups(args.spacegroups, dim)))
    if args.backend:
        put("backend", "name", parse_backend(args.backend).value)
    if args.rerank:
        put("refine", "rerank", parse_backend(args.rerank).value)
    if args.no_symmetrize:
        put("refine", "symmetrize", False)
    if getattr(args, "fixed_cell", False):
        put("relax", "relax_cell", False)
    from pathlib import Path

    for section, name in (("ordering", "template"), ("search", "seeds")):  # a resumed run finds them from anywhere
        if isinstance(data.get(section), dict) and isinstance(data[section].get(name), str) and data[section][name].strip():
            data[section][name] = str(Path(data[section][name]).expanduser().absolute())
    if isinstance(data.get("units"), dict) and isinstance(data["units"].get("spec"), str):
        data["units"]["spec"] = absolute_unit_files(data["units"]["spec"])  # found again from anywhere
    assert set(SECTIONS) >= {section for _, section, *_ in FLAGS if section}
    return from_dict(data)


def absolute_unit_files(spec: str) -> str:
    """The unit spec with each unit file's path made absolute (NAME:N counts kept)."""
    from pathlib import Path

    out = []
    for part in spec.split(","):
        name, sep, count = part.strip().rpartition(":")
        if not sep or not count.strip().isdigit():
            name, sep, count = part.strip(), "", ""
        path = Path(name).expanduser()
        out.append((str(path.absolute()) if path.is_file() else name) + (f":{count.strip()}" if sep else ""))
    return ",".join(out)


def run(args: argparse.Namespace) -> int:
    from sccop.answer.ranking import rerank_backend
    from sccop.backends import backend_label
    from sccop.cli.common import output_path
    from sccop.loop.driver import Search

    out = output_path(args.out)
    config = resolve(args)
    if config.ordering.template:
        return run_ordering(config, out, args)
    if config.units.spec:
        return run_units(config, out, args)
    result = Search(config, out, force=args.force, progress=not args.quiet).run()
    if result.candidates:
        top = result.candidates[0]
        best = f"best: space group {top.spacegroup}, {top.energy:.4f} eV/atom"
        if top.rerank_energy is not None:
            name = backend_label(rerank_backend(config))
            best += f" ({name}: space group {top.rerank_spacegroup}, {top.rerank_energy:.4f} eV/atom)"
    else:
        best = "no structure relaxed" if result.best_energy is None else f"best {result.best_energy:.4f} eV/atom"
    print(
        f"searched {config.composition}: {result.rounds} round(s), {result.calls} backend calls, {best}, "
        f"stopped on {result.stopped} -> {args.out}/summary.csv, {args.out}/best/"
    )
    if not result.succeeded:  # the answer is empty: say why, and do not report success
        import sys

        why = f" (the reason: {result.failure})" if result.failure else ""
        print(f"sccop: error: no backend call succeeded{why}", file=sys.stderr)
        return 1
    return 0


def run_ordering(config, out, args) -> int:
    from sccop.ordering.search import OrderingSearch

    result = OrderingSearch(config, out, force=args.force, progress=not args.quiet).run()
    space = f" of {result.distinct} distinct" if result.distinct is not None else ""
    best = "no arrangement labelled" if result.best_energy is None else f"best {result.best_energy:.4f} eV/atom"
    if result.candidates:
        best += f" (space group {result.candidates[0].spacegroup})"
    print(f"ordered {config.composition}: {result.rounds} round(s), {result.calls} backend calls{space}, {best}, "
          f"stopped on {result.stopped} -> {args.out}/summary.csv, {args.out}/best/")
    if result.best_energy is None:
        import sys

        print("sccop: error: no backend call succeeded (see sccop.log)", file=sys.stderr)
        return 1
    return 0


def run_units(config, out, args) -> int:
    from sccop.units.search import UnitsSearch

    result = UnitsSearch(config, out, force=args.force, progress=not args.quiet).run()
    best = "nothing relaxed" if result.best_energy is None else f"best {result.best_energy:.4f} eV/atom"
    if result.candidates:
        best += f" (space group {result.candidates[0].spacegroup})"
    kept = sum(bool(r["units_survived"]) for r in result.survival)
    print(f"searched {config.composition} with units {config.units.spec}: {result.rounds} round(s), {result.calls} "
          f"backend calls, {best}, units kept in {kept} of {len(result.survival)} free relaxations, stopped on "
          f"{result.stopped} -> {args.out}/summary.csv, {args.out}/units.csv")
    if result.best_energy is None:
        import sys

        print("sccop: error: no backend call succeeded (see sccop.log)", file=sys.stderr)
        return 1
    return 0
