"""Relax structures with an energy backend (CHGNet by default) and write the results.

Input and output: CIF, POSCAR, extxyz or an ASE database (.db), anything ASE reads or writes. Every
structure comes out, relaxed or not: info keys `status` (ok/failed), `reason` (failures only), `energy`
(eV) and `energy_per_atom` (E/N), under pressure `enthalpy` (E + PV) and `enthalpy_per_atom`,
`converged`, `steps`, `seconds`. A failure never stops the run.
"""

from __future__ import annotations

import argparse
import logging
import time

HELP = "relax structures with an energy backend (chgnet, sevennet, emt, espresso, vasp, gpaw)"
log = logging.getLogger("sccop.relax")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from sccop.config import OPTIMIZERS, BackendConfig, RelaxConfig

    relax, backend = RelaxConfig(), BackendConfig()  # the defaults are those of a search's [relax] and [backend]
    p.add_argument("input", help="structure file or ASE database (.cif, POSCAR, .extxyz, .db ...)")
    p.add_argument("--backend", default=backend.name, help=f"energy backend (default {backend.name})")
    p.add_argument("--model", help="model variant, e.g. 7net-l3i5 or 7net-mf-0 for sevennet")
    p.add_argument("--modal", help="fidelity of a multi-fidelity model: PBE or R2SCAN for 7net-mf-0")
    p.add_argument("--fmax", type=float, default=relax.fmax, help=f"force convergence in eV/A (default {relax.fmax:g})")
    p.add_argument("--steps", type=int, default=relax.steps, help=f"maximum optimizer steps (default {relax.steps})")
    p.add_argument("--pressure", type=float, default=relax.pressure, help=f"external pressure in GPa (default {relax.pressure:g})")
    p.add_argument("--optimizer", default=relax.optimizer, choices=OPTIMIZERS,
                   help=f"ASE optimizer on the cell filter: {' or '.join(OPTIMIZERS)} (default {relax.optimizer})")
    p.add_argument("--fix-symmetry", action="store_true", help="keep the starting symmetry (ASE FixSymmetry)")
    p.add_argument("--rattle", type=float, default=relax.rattle,
                   help=f"displace atoms randomly by this many Angstrom (std) before relaxing (default {relax.rattle:g})")
    p.add_argument("--positions-only", action="store_true", help="do not relax the cell")
    p.add_argument("--timeout", type=float, default=backend.timeout_s, help=f"seconds allowed per structure (default {backend.timeout_s:g})")
    p.add_argument("--batch-size", type=int, default=backend.batch_size, help=f"structures per batched ML call (default {backend.batch_size})")
    p.add_argument("--device", default=backend.device, help=f"torch device for ML potentials (cpu or cuda; default {backend.device})")
    p.add_argument("--pseudo-dir", help="Quantum ESPRESSO pseudopotential folder")
    p.add_argument("--ecutwfc", type=float, help="Quantum ESPRESSO wavefunction cutoff (Ry)")
    p.add_argument("--out", required=True, help="output file (.extxyz, .cif, .db, POSCAR ...)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sccop.backends import check_backend, parse_backend
    from sccop.cli.common import output_path
    from sccop.config import BackendConfig, RelaxConfig
    from sccop.io import output_format, read_structures, write_structures
    from sccop.relaxation import relax_many

    out_path = output_path(args.out)
    output_format(out_path)
    structures = read_structures(args.input)
    backend = BackendConfig(
        name=parse_backend(args.backend).value,
        model=args.model,
        modal=args.modal,
        device=args.device,
        batch_size=args.batch_size,
        timeout_s=args.timeout,
        **{k: v for k, v in {"pseudo_dir": args.pseudo_dir, "ecutwfc": args.ecutwfc}.items() if v is not None},
    )
    config = RelaxConfig(
        optimizer=args.optimizer,
        fmax=args.fmax,
        steps=args.steps,
        pressure=args.pressure,
        relax_cell=not args.positions_only,
        fix_symmetry=args.fix_symmetry,
        rattle=args.rattle,
    )
    check_backend(backend, sorted({s for atoms in structures for s in atoms.get_chemical_symbols()}))
    start = time.perf_counter()
    with tqdm(total=len(structures), disable=args.quiet, desc=f"relaxing ({backend.name})", unit="structure") as bar:
        results = relax_many(structures, backend, config, progress=bar.update)
    out = []
    for source, result in zip(structures, results):
        atoms = result.atoms.copy()
        atoms.calc = None
        atoms.set_constraint()
        atoms.info = dict(source.info)
        atoms.info.update(
            status=result.status,
            converged=bool(result.converged),
            steps=int(result.steps),
            seconds=round(float(result.seconds), 3),
            backend=backend.name,
        )
        if result.reason:
            atoms.info["reason"] = result.reason
        if result.energy is not None:
            atoms.info.update(energy=float(result.energy), energy_per_atom=float(result.energy_per_atom))
        if "enthalpy" in result.info:  # under pressure: (E + PV), in total and per atom
            atoms.info.update(enthalpy=float(result.info["enthalpy"]),
                              enthalpy_per_atom=float(result.info["enthalpy"]) / len(atoms))
        out.append(atoms)
    write_structures(out, out_path)
    n_ok = sum(r.ok for r in results)
    n_conv = sum(r.ok and r.converged for r in results)
    elapsed = time.perf_counter() - start
    best = min((r for r in results if r.ok), key=lambda r: r.energy_per_atom, default=None)
    best_text = f", lowest {best.energy_per_atom:.4f} eV/atom" if best else ""
    print(
        f"relaxed {len(results)} structures with {backend.name}: {n_ok} ok ({n_conv} converged), "
        f"{len(results) - n_ok} failed{best_text}, {elapsed:.1f} s -> {args.out}"
    )
    for i, r in enumerate(results):
        if not r.ok:
            log.warning("structure %d failed: %s", i, r.reason)
    if not n_ok:
        import sys

        print(f"sccop: error: no structure relaxed (the first reason: {results[0].reason})", file=sys.stderr)
        return 1
    return 0
