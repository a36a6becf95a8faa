"""Dynamical stability: finite-displacement phonons with the energy backend, through phonopy.

The structure is first relaxed tightly with its symmetry fixed (ASE FixSymmetry), then phonopy builds a
diagonal supercell at least `min_length` across in every direction, displaces the symmetry-distinct
atoms by `displacement`, and the backend gives the forces (batched single points for ML potentials).
From the force constants: frequencies on a Monkhorst-Pack mesh and along the band path of the cell's
Bravais lattice (seekpath, through phonopy's auto_band_structure), and the total DOS. A structure is
flagged unstable when a frequency lies below -`threshold` THz (phonopy gives imaginary modes as
negative frequencies); the threshold absorbs the numerical noise of acoustic modes near Gamma.

A layer (pbc True, True, False) is repeated in its plane only, its displaced supercells stay layers,
and its wave vectors lie in the plane (a mesh of 1 along c, and the band path of its 2D lattice:
Gamma-M-K-Gamma for a hexagonal layer, Gamma-X-S-Y-Gamma otherwise). A layer's flexural acoustic mode
(ZA) goes slightly imaginary near Gamma in any finite-displacement calculation that does not impose
rotational invariance (graphene: -0.3 THz with CHGNet, by Fourier interpolation between the supercell's
wave vectors), so a layer is flagged by the wave vectors its supercell holds exactly (i/n1, j/n2, 0), the
three acoustic modes at Gamma left out, as C2DB does; `min_frequency` still reports the lowest anywhere.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace

import numpy as np
from ase import Atoms

from sccop.config import BackendConfig, RelaxConfig
from sccop.relaxation import enthalpy_per_atom, relax, single_points
from sccop.symmetry.analysis import is_layer

log = logging.getLogger(__name__)


@dataclass
class PhononResult:
    """`min_frequency`: the lowest frequency (THz) over the mesh and the band path; `imaginary`: below
    -threshold; `energy_per_atom` (E/N) and, under pressure, `enthalpy_per_atom` ((E + PV)/N): after the tight
    relaxation. `bands`: distances, frequencies and labels per segment; `dos`: frequency points and DOS."""

    status: str
    reason: str | None = None
    atoms: Atoms | None = None
    energy_per_atom: float | None = None
    enthalpy_per_atom: float | None = None
    supercell: tuple[int, int, int] = (1, 1, 1)
    displacements: int = 0
    min_frequency: float | None = None
    min_commensurate_frequency: float | None = None  # a layer: at the supercell's own wave vectors
    imaginary: bool | None = None
    bands: dict = field(default_factory=dict)
    dos: dict = field(default_factory=dict)


def layer_band_path(atoms: Atoms) -> tuple[list[list[list[float]]], list[str]]:
    """The in-plane band path of a layer (fractional reciprocal coordinates of its cell) and its labels."""
    a, b = atoms.cell[0], atoms.cell[1]
    la, lb = np.linalg.norm(a), np.linalg.norm(b)
    angle = math.degrees(math.acos(np.clip(a @ b / (la * lb), -1.0, 1.0)))
    if abs(la - lb) < 1e-3 * la and (abs(angle - 120.0) < 0.5 or abs(angle - 60.0) < 0.5):
        k = [1 / 3, 1 / 3, 0.0] if angle > 90.0 else [2 / 3, 1 / 3, 0.0]
        points, labels = [[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], k, [0.0, 0.0, 0.0]], ["$\\Gamma$", "M", "K", "$\\Gamma$"]
    else:
        points = [[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.0]]
        labels = ["$\\Gamma$", "X", "S", "Y", "$\\Gamma$"]
    return [points], labels


def supercell_for(atoms: Atoms, min_length: float) -> tuple[int, int, int]:
    """Repeats of each cell vector so that the supercell is at least `min_length` between opposite faces
    (a layer is not repeated along its normal c)."""
    cell = np.asarray(atoms.cell[:])
    volume = abs(np.linalg.det(cell))
    reps = []
    for i in range(3):
        j, k = (i + 1) % 3, (i + 2) % 3
        width = volume / np.linalg.norm(np.cross(cell[j], cell[k]))
        reps.append(max(1, math.ceil(min_length / width - 1e-9)))
    if is_layer(atoms):
        reps[2] = 1
    return tuple(reps)


def phonons(
    atoms: Atoms,
    backend: BackendConfig,
    *,
    calculator=None,
    relax_config: RelaxConfig | None = None,
    fmax: float = 0.01,
    min_length: float = 10.0,
    displacement: float = 0.01,
    mesh: int = 16,
    threshold: float = 0.1,
    band_points: int = 41,
) -> PhononResult:
    """Phonons of one structure (see the module docstring). `fmax`: the tight relaxation first (None
    skips it); `calculator`: an ASE calculator instead of the backend's (tests)."""
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    relax_config = relax_config or RelaxConfig()
    energy = enthalpy = None
    if fmax is not None:
        tight = replace(relax_config, fmax=fmax, fix_symmetry=True, symprec=min(relax_config.symprec, 0.01),
                        steps=max(relax_config.steps, 1000))
        result = relax(atoms, backend, tight, calculator=calculator)
        if not result.ok:
            return PhononResult(status="failed", reason=f"tight relaxation failed: {result.reason}", atoms=atoms)
        atoms, energy, enthalpy = result.atoms, result.energy_per_atom, enthalpy_per_atom(result, relax_config.pressure)
    atoms = atoms.copy()
    atoms.calc = None
    reps = supercell_for(atoms, min_length)
    unit = PhonopyAtoms(symbols=atoms.get_chemical_symbols(), cell=atoms.cell[:], scaled_positions=atoms.get_scaled_positions())
    layer = is_layer(atoms)
    # A layer's wave vectors (band path, supercell's own) are written in its own cell's reciprocal basis.
    ph = Phonopy(unit, supercell_matrix=np.diag(reps), **({"primitive_matrix": "P"} if layer else {}))
    ph.generate_displacements(distance=displacement)
    supercells = [Atoms(s.symbols, cell=s.cell, scaled_positions=s.scaled_positions, pbc=atoms.pbc if layer else True)
                  for s in ph.supercells_with_displacements]
    results = single_points(supercells, backend, relax_config, calculator=calculator)
    bad = [r for r in results if not r.ok]
    out = PhononResult(status="ok", atoms=atoms, energy_per_atom=energy, supercell=reps, displacements=len(supercells),
                       enthalpy_per_atom=enthalpy if relax_config.pressure else None)
    if bad:
        out.status, out.reason = "failed", f"force calculation failed: {bad[0].reason}"
        return out
    ph.forces = np.array([r.forces for r in results])
    ph.produce_force_constants()
    ph.symmetrize_force_constants()
    ph.run_mesh([mesh, mesh, 1] if layer else [mesh] * 3, is_gamma_center=True)
    lowest = float(np.min(ph.mesh.frequencies))
    try:
        if layer:
            from phonopy.phonon.band_structure import get_band_qpoints_and_path_connections

            path, labels = layer_band_path(atoms)
            qpoints, connections = get_band_qpoints_and_path_connections(path, npoints=band_points)
            ph.run_band_structure(qpoints, path_connections=connections, labels=labels)
        else:
            ph.auto_band_structure(npoints=band_points, with_eigenvectors=False)
        bands = ph.band_structure
        labels = getattr(bands, "labels", None)
        out.bands = {"distances": [np.asarray(d) for d in bands.distances],
                     "frequencies": [np.asarray(f) for f in bands.frequencies],
                     "labels": list(labels) if labels is not None else None,
                     "connections": list(getattr(ph.band_structure, "path_connections", []) or [])}
        lowest = min(lowest, min(float(np.min(f)) for f in out.bands["frequencies"]))
    except Exception as exc:  # noqa: BLE001 - seekpath can fail on odd cells; the mesh still decides
        log.warning("no band path for %s: %s", atoms.get_chemical_formula(), exc)
    ph.run_total_dos()
    out.dos = {"frequencies": np.asarray(ph.total_dos.frequency_points), "dos": np.asarray(ph.total_dos.dos)}
    out.min_frequency = lowest
    out.imaginary = bool(lowest < -threshold)
    if layer:
        out.min_commensurate_frequency = commensurate_minimum(ph, reps)
        out.imaginary = bool(out.min_commensurate_frequency < -threshold)
    return out


def commensurate_minimum(ph, reps: tuple[int, int, int]) -> float:
    """The lowest frequency (THz) at the wave vectors a diagonal supercell `reps` holds exactly, the three
    acoustic modes at Gamma left out."""
    qpoints = [[i / reps[0], j / reps[1], k / reps[2]] for i in range(reps[0]) for j in range(reps[1]) for k in range(reps[2])]
    ph.run_qpoints(qpoints)
    frequencies = np.asarray(ph.qpoints.frequencies)
    gamma = np.sort(frequencies[0])[3:]
    rest = frequencies[1:].ravel()
    return float(min(gamma.min() if len(gamma) else np.inf, rest.min() if len(rest) else np.inf))


def _label(text: str) -> str:
    for old, new in (("$", ""), ("\\mathrm{", ""), ("}", ""), ("\\Gamma", "Γ"), ("GAMMA", "Γ")):
        text = text.replace(old, new)
    return text


def _band_ticks(bands: dict) -> tuple[list[float], list[str]]:
    """Tick positions and names along the path: a segment end joined to the next start shares one
    label; a jump in the path shows both, as X|U."""
    distances, labels = bands["distances"], bands.get("labels") or []
    connections = bands.get("connections") or [True] * len(distances)
    ticks, names, k = [float(distances[0][0])], [], 0
    if labels:
        names.append(_label(labels[0]))
        k = 1
    for i, d in enumerate(distances):
        ticks.append(float(d[-1]))
        if not labels:
            continue
        last = i == len(distances) - 1
        if connections[i] or last or k + 1 >= len(labels):
            names.append(_label(labels[k]) if k < len(labels) else "")
            k += 1
        else:
            names.append(f"{_label(labels[k])}|{_label(labels[k + 1])}")
            k += 2
    return ticks, names if len(names) == len(ticks) else [""] * len(ticks)


def plot_phonons(result: PhononResult, title: str):
    """Band structure and DOS side by side (a matplotlib Figure); imaginary modes show below zero."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax_dos) = plt.subplots(1, 2, figsize=(8, 4), gridspec_kw={"width_ratios": [3, 1]}, sharey=True)
    if result.bands:
        ticks, names = _band_ticks(result.bands)
        for d, f in zip(result.bands["distances"], result.bands["frequencies"]):
            ax.plot(d, f, color="tab:blue", lw=1)
        ax.set_xticks(ticks, names)
        ax.set_xlim(ticks[0], ticks[-1])
        for t in ticks:
            ax.axvline(t, color="0.8", lw=0.5)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylabel("frequency (THz)")
    verdict = "imaginary modes" if result.imaginary else "no imaginary mode"
    if result.min_commensurate_frequency is not None:  # a layer, judged at the supercell's wave vectors
        verdict += (f" (lowest {result.min_commensurate_frequency:.2f} THz at the supercell's wave vectors, "
                    f"{result.min_frequency:.2f} THz anywhere)")
    else:
        verdict += f" (lowest {result.min_frequency:.2f} THz)"
    ax.set_title(f"{title}: {verdict}", fontsize=9)
    if result.dos:
        ax_dos.plot(result.dos["dos"], result.dos["frequencies"], color="tab:blue", lw=1)
        ax_dos.set_xlabel("DOS")
        ax_dos.set_xticks([])
    fig.tight_layout()
    return fig


PHONON_FIELDS = ["rank", "uid", "formula", "spacegroup", "backend", "status", "reason", "imaginary", "min_frequency_thz",
                 "min_commensurate_frequency_thz",
                 "energy_per_atom", "enthalpy_per_atom", "supercell", "displacements", "plot"]


def trusted_backend(stored: BackendConfig, given: dict | None = None) -> BackendConfig:
    """The backend settings to compute with for a run folder: the folder's, but never its commands (a
    folder is data: its DFT commands are not run), with `given` (the user's own [backend] settings) on top."""
    fresh = BackendConfig()
    safe = replace(stored, espresso_command=fresh.espresso_command, vasp_command=fresh.vasp_command)
    return replace(safe, **(given or {}))


def phonons_of_run(out, top: int = 3, backend: str | None = None, *, calculator=None, progress: bool = True,
                   backend_settings: dict | None = None, **options) -> list[dict]:
    """Phonons of the `top` structures of a search directory (its answer, sccop.answer.ranking.ranked);
    writes DIR/phonons/phonons.csv and one band-structure/DOS plot per structure; returns the csv rows.

    Each structure is taken as its ranking backend left it: a re-ranked candidate as the re-ranking
    backend relaxed it, with that backend; the others with the search's. `backend` overrides both.
    `backend_settings`: [backend] settings of the user's (e.g. espresso_command); the folder's own
    commands are never run. `options` go to `phonons` (fmax, min_length, displacement, mesh, threshold).
    """
    import csv
    import io
    from pathlib import Path

    from tqdm import tqdm

    from sccop.answer.outputs import structure_name, summary_lines
    from sccop.answer.ranking import ranked, rerank_backend, rerank_name
    from sccop.backends import backend_label, parse_backend
    from sccop.calls.rundir import atomic, read_settings, write_text
    from sccop.calls.store import open_store
    from sccop.errors import SccopInputError

    out = Path(out)
    config = read_settings(out, writing=True)
    config = replace(config, backend=trusted_backend(config.backend, backend_settings))
    store = open_store(out, config)
    candidates = [c for c in ranked(store, config, top) if c.relaxed]
    if not candidates:
        raise SccopInputError(f"{out} holds no relaxed structure yet")
    summary = summary_lines(store, candidates, rerank_name(config) if config.refine.rerank else None)
    folder = out / "phonons"
    folder.mkdir(exist_ok=True)
    rows = []
    csv_path = folder / "phonons.csv"
    for c, line in tqdm(list(zip(candidates, summary)), desc="phonons", unit="structure", disable=not progress):
        uid, chosen = c.uid, config.backend
        if c.rerank_energy is not None:
            uid, chosen = c.rerank_uid, rerank_backend(config)
        if backend:  # the run's own model and fidelity of that backend, where the run used it
            name = parse_backend(backend).value
            used = [config.backend] + ([rerank_backend(config)] if config.refine.rerank else [])
            chosen = next((b for b in used if b.name == name), replace(config.backend, name=name, model=None, modal=None))
        stem = structure_name(line)
        plot = ""
        try:
            result = phonons(store.get(uid).toatoms(), chosen, calculator=calculator, relax_config=config.relax, **options)
        except Exception as exc:  # noqa: BLE001 - one structure's failure must not lose the others
            from sccop.relaxation import describe_error

            result = PhononResult(status="failed", reason=describe_error(exc))
        if result.status == "ok":
            import matplotlib.pyplot as plt

            fig = plot_phonons(result, f"#{line['rank']} {line['formula']} {line['spacegroup_symbol']}")
            plot = f"{stem}.png"
            with atomic(folder / plot) as path:
                fig.savefig(path, dpi=110, format="png")
            plt.close(fig)
        else:
            log.warning("phonons of %s failed: %s", uid, result.reason)
        rows.append({
            "rank": line["rank"], "uid": uid, "formula": line["formula"], "spacegroup": line["spacegroup"],
            "backend": backend_label(chosen), "status": result.status,
            "reason": result.reason or "", "imaginary": "" if result.imaginary is None else result.imaginary,
            "min_frequency_thz": "" if result.min_frequency is None else round(result.min_frequency, 4),
            "min_commensurate_frequency_thz": "" if result.min_commensurate_frequency is None
            else round(result.min_commensurate_frequency, 4),
            "energy_per_atom": "" if result.energy_per_atom is None else round(result.energy_per_atom, 6),
            "enthalpy_per_atom": "" if result.enthalpy_per_atom is None else round(result.enthalpy_per_atom, 6),
            "supercell": "x".join(map(str, result.supercell)), "displacements": result.displacements, "plot": plot,
        })
        buffer = io.StringIO()  # after every structure: an interruption keeps the rest
        writer = csv.DictWriter(buffer, fieldnames=PHONON_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        write_text(csv_path, buffer.getvalue())
    return rows


__all__ = ["PhononResult", "phonons", "phonons_of_run", "plot_phonons", "supercell_for"]
