"""`sccop report DIR`: one self-contained HTML page from a search directory.

Everything comes from what the search wrote: DIR/sccop.db (every structure and backend call, the
cursor's phase times, and the answer ranked from its rows as every reader ranks it), DIR/models (training
times) and DIR/landscape/*.npz (each learning iteration's partition). Sections: the run overview (cell
size, backend, groups found, energy spread, time per stage), the top structures (a sortable table, and
each structure in an interactive 3D viewer with its element legend, drawn statically where WebGL is
missing), best energy against backend calls, the landscape map, energy distributions per round, space
groups sampled and found (symbols beside numbers), phonons when computed, and failed calls. The page
opens offline: its images are inlined and its viewer library (3Dmol.js) embedded; nothing is fetched.
"""

from __future__ import annotations

import base64
import csv
import html
from collections import Counter
from pathlib import Path

from sccop.errors import SccopInputError
from sccop.report.page import image, page, table, viewer
from sccop.report.pictures import draw_structure, viewer_data
from sccop.report.plots import (
    group_label,
    plot_coordination,
    plot_distributions,
    plot_landscape,
    plot_progress,
    plot_spacegroups,
)


def _phonon_section(out: Path) -> list[str]:
    """The table and plots of DIR/phonons (written by `sccop phonons`), when there are any."""
    path = out / "phonons" / "phonons.csv"
    if not path.exists():
        return []
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    keys = ["rank", "formula", "spacegroup", "backend", "status", "imaginary", "min_frequency_thz", "supercell", "reason"]
    parts = ["<h2>Dynamical stability (phonons)</h2>",
             "<p>Finite-displacement phonons (phonopy) after a tight relaxation with the symmetry fixed; imaginary "
             "modes show as negative frequencies.</p>", table(keys, [[row.get(k, "") for k in keys] for row in rows],
                                                              sortable=True)]
    for row in rows:
        plot = out / "phonons" / row["plot"] if row.get("plot") else None
        if plot is not None and plot.exists():
            parts.append(image(base64.b64encode(plot.read_bytes()).decode(), f"phonons of #{row['rank']}"))
    return parts


def _units_section(out: Path) -> list[str]:
    """Whether the rigid units survived the free relaxations (DIR/units.csv, a `--units` search)."""
    path = out / "units.csv"
    if not path.exists():
        return []
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    keys = ["uid", "rigid_energy_per_atom", "energy_per_atom", "units_survived", "largest_distortion"]
    return ["<h2>Rigid units</h2>",
            "<p>SCCOP's two steps: the lowest labels relaxed with every unit rigid, then the lowest of those with every "
            "atom free. A unit survived when no distance inside it changed by more than 10%.</p>",
            table(["structure", "rigid (eV/atom)", "free (eV/atom)", "units survived", "largest distortion"],
                  [[row.get(k, "") for k in keys] for row in rows], sortable=True)]


def _coordination_section(out: Path) -> list[str]:
    """The first-shell patterns of DIR/coordination.json (written by `sccop analyze`), when there are any."""
    import json

    path = out / "coordination.json"
    if not path.exists():
        return []
    payload = json.loads(path.read_text())
    rows = []
    for s in payload["structures"]:
        for name, n in sorted(s["patterns"].items(), key=lambda kv: -kv[1]):
            k = s.get("k", {}).get(name)
            rows.append([s["rank"], f"{s['energy_per_atom']:.4f}", name, n, "" if k is None else f"{k:g}"])
    return [f"<h2>Coordination around {html.escape(str(payload['center']))}</h2>",
            "<p>First shells (within 1 + {:g} of each centre's nearest distance; vacant template sites as Vac) and k, the "
            "sum of the shell's oxidation states {}.</p>".format(payload.get("shell", 0.2), html.escape(str(payload.get("oxidation")))),
            table(["rank", "energy (eV/atom)", "pattern", "centres", "k"], rows, sortable=True),
            image(plot_coordination(payload), "coordination patterns")]


def _training_seconds(out: Path) -> float:
    """Seconds the ensembles took to train, from the reports saved with them (weights-only loads)."""
    import torch

    total = 0.0
    for path in (out / "models").glob("r*_i*.pt"):
        try:
            total += float(torch.load(path, weights_only=True).get("report", {}).get("seconds", 0.0))
        except Exception:  # noqa: BLE001 - a model the report cannot read adds nothing
            continue
    return total


def stage_seconds(rows: list, phases: dict, out: Path) -> dict[str, float]:
    """Seconds per stage: the backend calls by stage, sampling and learning from the cursor's phase times,
    training from the saved ensembles."""
    seconds: Counter = Counter()
    names = {"label": "labelling (single points)", "relax": "relaxing", "refine": "symmetrising", "rerank": "re-ranking"}
    for r in rows:
        if r.get("backend_call") or r.get("refine_call"):
            seconds[names.get(r.get("stage"), r.get("stage"))] += float(r.get("seconds") or 0.0)
    for key, record in phases.items():
        kind = key.split("/")[1]
        if kind in ("pool", "learn") and "seconds" in record:
            seconds["sampling" if kind == "pool" else "scoring, partition, annealing"] += float(record["seconds"])
    trained = _training_seconds(out)
    if trained:
        seconds["training"] += trained
    return dict(seconds)


def _layer_fact(config) -> str:
    from sccop.composition import parse_composition
    from sccop.sampling.sampler import layer_thickness

    try:
        thickness = layer_thickness(parse_composition(config.composition), config.sampler)
    except SccopInputError:
        thickness = config.sampler.thickness
    return (f"2D: layer groups, c the layer normal; thickness window {thickness or 0:.2f} A, vacuum "
            f"{config.sampler.vacuum:g} A; cells relaxed in the plane only")


def _references_fact(potentials: dict) -> str:
    return "; ".join(f"{el}: {form}, {energy:.4f} eV/atom" for el, (energy, form) in potentials.items()) + \
        " (relaxed by the backend; formation energies are against these)"


def stop_fact(config, meta: dict) -> str:
    """Why the search stopped, in words a user can trust: converged, or ran out of budget, time or rounds
    (and whether its best was still improving then)."""
    stopped, history = meta.get("stopped"), [h for h in meta.get("history") or [] if h is not None]
    cfg = config.search
    if not stopped:
        return "not finished (resume it with the same command)"
    if stopped == "converged":
        return (f"converged: the best energy changed by less than {1000 * cfg.tolerance:g} meV/atom over the last "
                f"{cfg.patience} rounds")
    improving = len(history) > 1 and history[-1] < history[-2] - cfg.tolerance
    rounds = config.units.rounds if config.units.spec else config.ordering.rounds if config.ordering.template else cfg.rounds
    words = {"budget": "ran out of its call budget", "time": "ran out of its time budget",
             "rounds": f"after its {rounds} rounds", "exhausted": "every candidate labelled",
             "labels": "too few usable labels to train on"}.get(stopped, stopped)
    if len(history) > 1:
        words += (f", not converged: the last round lowered the best by {1000 * (history[-2] - history[-1]):.1f} "
                  f"meV/atom" if improving else ", the last round did not lower the best")
    return words


def overview(config, meta: dict, rows: list, summary: list[dict], out: Path, potentials: dict | None = None) -> list[list]:
    """The facts of a run, one [name, value] per line."""
    from sccop.backends import backend_label
    from sccop.calls.rows import ranking_energy
    from sccop.calls.store import YEAR_MINUTES
    from sccop.composition import cell_sizes, parse_composition

    calls = [r for r in rows if r.get("backend_call")]
    failed = [r for r in calls if r.get("status") != "ok"]
    times = [r.ctime for r in rows]
    minutes = float(meta.get("seconds", 0.0)) / 60.0 or ((max(times) - min(times)) * YEAR_MINUTES if times else 0.0)
    try:
        composition = parse_composition(config.composition)
        units = cell_sizes(composition, config.atoms, config.formula_units)
        atoms = sorted({z * composition.atoms_per_formula for z in units})
        cell = (f"{atoms[0]}-{atoms[-1]} atoms" if len(atoms) > 1 else f"{atoms[0]} atoms") + \
            f" ({', '.join(map(str, units))} formula units of {composition.formula})"
    except SccopInputError:
        cell = "?"
    relaxed = [r for r in rows if r.get("stage") == "relax" and r.get("status") == "ok"]
    groups = Counter(int(r.spacegroup) for r in relaxed if r.get("spacegroup"))
    energies = sorted(ranking_energy(r) for r in relaxed)
    quantity = "enthalpy" if config.relax.pressure else "energy"
    backend = backend_label(config.backend)
    if config.backend.calculator:
        backend += f" ({config.backend.calculator})"
    stages = stage_seconds(rows, meta.get("phases") or {}, out)
    facts = [
        ["composition", f"{config.composition}"],
        ["cell", cell],
        ["backend", backend + (f", re-ranked by {config.refine.rerank}" if config.refine.rerank else "")],
        ["pressure", f"{config.relax.pressure:g} GPa (ranked by enthalpy)" if config.relax.pressure else "0 GPa"],
        ["seed", config.seed],
        *([["layer", _layer_fact(config)]] if config.sampler.dim == 2 else []),
        *([["elemental references", _references_fact(potentials)]] if potentials else []),
        ["rounds reached", 1 + max((int(r.get("round", 0)) for r in rows), default=-1)],
        ["stopped", stop_fact(config, meta)],
        ["structures stored", len(rows)],
        ["backend calls (failed)", f"{len(calls)} ({len(failed)})"],
        ["relaxed structures, space groups found", f"{len(relaxed)}, {len(groups)}: "
         + ", ".join(f"{group_label(g, config.sampler.dim)} x{n}" for g, n in groups.most_common(6)) + (" ..." if len(groups) > 6 else "")],
        [f"lowest {quantity} (eV/atom)", f"{energies[0]:.4f}" if energies else "-"],
        [f"{quantity} spread of the 10 lowest relaxations (meV/atom)",
         f"{1000 * (energies[min(9, len(energies) - 1)] - energies[0]):.1f}" if energies else "-"],
        ["minutes", f"{minutes:.1f}"],
        ["time per stage", "; ".join(f"{k} {v / 60:.1f} min" for k, v in sorted(stages.items(), key=lambda kv: -kv[1]))
         or "-"],
        ["sccop version", meta.get("version", "?")],
    ]
    return facts


def write_report(out: str | Path, top: int = 6) -> Path:
    """Write DIR/report.html and return its path."""
    from sccop.answer.outputs import potentials_of, reported_atoms, summary_lines
    from sccop.answer.ranking import ranked, rerank_name
    from sccop.calls.rundir import read_settings, refuse_links, write_text
    from sccop.calls.store import Store, open_store
    from sccop.config import from_dict, with_new_defaults

    out = Path(out)
    if (out / "config.toml").exists():  # where the run's store is, and its settings
        config = read_settings(out)
    elif (out / "sccop.db").exists():
        config = None
    else:
        raise SccopInputError(f"{out} holds no search (no config.toml or sccop.db)")
    refuse_links(out)
    store = open_store(out, config) if config is not None else Store(out / "sccop.db")
    rows = list(store.rows())
    meta = store.metadata
    if config is None:
        config = from_dict(with_new_defaults(meta.get("config", {})))
    candidates = ranked(store, config, config.search.top)
    potentials = potentials_of(store, config)
    summary = summary_lines(store, candidates, rerank_name(config) if config.refine.rerank else None, potentials)
    quantity = f"enthalpy at {config.relax.pressure:g} GPa" if config.relax.pressure else "energy"
    title = config.composition or out.name
    parts = [f"<h1>sccop search: {html.escape(str(title))}</h1>", f"<p class='note'>{html.escape(str(out.resolve()))}</p>",
             "<h2>Run overview</h2>", table(["", ""], overview(config, meta, rows, summary, out, potentials), css="facts")]

    parts.append("<h2>Top structures</h2>")
    if summary:
        columns = [("rank", "rank"), ("formula", "formula"), ("space group", None), ("energy (eV/atom)", "energy_per_atom")]
        if config.relax.pressure:
            columns.append(("enthalpy (eV/atom)", "enthalpy_per_atom"))
        columns.append(("above best (meV/atom)", None))
        if any(line.get("formation_energy_per_atom") is not None for line in summary):
            columns.append(("formation energy (eV/atom)", "formation_energy_per_atom"))
        if any(line.get("formation_energy_per_area") is not None for line in summary):
            columns += [("formation energy (meV/A^2)", None), ("area (A^2/atom)", "area_per_atom")]
        columns += [("relaxed in", None), ("symmetrised", "symmetrized"),
                    ("copies", "copies"), ("round", "round"), ("calls", "calls")]
        if any(line.get("rerank_backend") for line in summary):
            columns += [("first backend's rank", "primary_rank"), ("re-ranked by", "rerank_backend"),
                        ("re-ranked energy (eV/atom)", "rerank_energy_per_atom"),
                        ("re-ranked above best (meV/atom)", None)]

        def cell(line, header, key):
            if header == "space group":
                return f"{line['spacegroup_symbol']} ({line['spacegroup']})"
            if header == "relaxed in":
                return group_label(line["relaxed_spacegroup"], config.sampler.dim)
            if header == "formation energy (meV/A^2)":
                value = line.get("formation_energy_per_area")
                return "" if value is None else f"{1000 * float(value):.1f}"
            if header == "above best (meV/atom)":
                return f"{1000 * float(line['above_best']):.1f}"
            if header == "re-ranked above best (meV/atom)":
                return "" if line.get("rerank_above_best") is None else f"{1000 * float(line['rerank_above_best']):.1f}"
            value = line.get(key)
            return "" if value is None else value

        parts.append(table([h for h, _ in columns], [[cell(line, h, k) for h, k in columns] for line in summary],
                           sortable=True))
        if not summary[0]["relaxed"]:
            parts.append("<p class='note'>Nothing was relaxed yet: these are the lowest labelled single points.</p>")
        cards = []
        for c, line in list(zip(candidates, summary))[:top]:
            atoms = reported_atoms(store, c)
            caption = (f"#{line['rank']} {line['formula']} {line['spacegroup_symbol']} ({line['spacegroup']}), "
                       f"+{1000 * float(line['above_best']):.1f} meV/atom")
            alt = f"#{line['rank']} {line['formula']}"
            still = image(draw_structure(atoms), alt, css="still")
            cards.append(f"<div class='card'>{viewer(viewer_data(atoms))}{still}<br>{html.escape(caption)}</div>")
        if config.sampler.dim == 2:
            parts.append("<p class='note'>The layers, symmetrised in their own cells (c the layer normal); the still "
                         "pictures show 3 x 3 cells from the top and the layer from the side. Drag to turn a structure, "
                         "scroll to zoom.</p>")
        else:
            parts.append("<p class='note'>The symmetrised conventional cells, atoms on faces and edges drawn on every side; "
                         "drag to turn a structure, scroll to zoom.</p>")
        parts.append(f"<div class='cards'>{''.join(cards)}</div>")
    else:
        parts.append("<p class='none'>No structure labelled or relaxed yet.</p>")

    parts += ["<h2>Best energy vs backend calls</h2>", image(plot_progress(rows, quantity), "best energy vs backend calls")]
    landscape = plot_landscape(out, quantity)
    parts.append("<h2>Landscape map</h2>")
    if landscape:
        name, picture = landscape
        parts += [f"<p>The last partition ({html.escape(name)}): the network's crystal vectors of the sample pool, "
                  "KernelPCA (first two components), KMeans regions numbered at their centres.</p>",
                  image(picture, "landscape")]
    else:
        parts.append("<p class='none'>No landscape saved yet (DIR/landscape).</p>")
    parts += ["<h2>Energy distributions per round</h2>", image(plot_distributions(rows, quantity), "energy distributions"),
              "<h2>Space groups sampled and found</h2>", image(plot_spacegroups(rows, dim=config.sampler.dim), "space groups")]
    parts += _phonon_section(out)
    parts += _units_section(out)
    parts += _coordination_section(out)
    failed = [r for r in rows if r.get("backend_call") and r.get("status") != "ok"]
    if failed:
        reasons = Counter(str(r.get("reason", "?"))[:120] for r in failed)
        parts += ["<h2>Failed backend calls</h2>", table(["reason", "calls"], [[k, v] for k, v in reasons.most_common()])]
    path = out / "report.html"
    write_text(path, page(f"sccop report: {title}", parts))
    return path


__all__ = ["write_report", "overview", "stage_seconds"]
