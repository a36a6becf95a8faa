"""`sccop report DIR`: one self-contained HTML page (images inlined) from a search directory.

Everything comes from what the search wrote: DIR/sccop.db (every structure and backend call, and the
answer ranked from its rows as every reader ranks it, sccop.answer.ranking) and DIR/landscape/*.npz
(each learning iteration's partition). Sections:
best energy vs backend calls, the landscape map (KernelPCA coordinates coloured by predicted energy,
regions marked), energy distributions per round, space groups sampled and found, and the top structures
drawn. The page opens offline: no scripts, styles or images are fetched.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from sccop.calls.store import YEAR_MINUTES
from sccop.errors import SccopInputError


def _figure(width: float = 7.0, height: float = 4.0, ncols: int = 1):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width, height), squeeze=False)
    return fig, axes[0]


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _energy_limits(values: np.ndarray, span: float = 1.0) -> tuple[float, float]:
    """y limits that show the low end: from just below the minimum to at most `span` eV/atom above it."""
    lo = float(np.min(values))
    hi = min(float(np.percentile(values, 95)), lo + span)
    pad = max(0.05 * (hi - lo), 0.005)
    return lo - pad, hi + pad


def plot_progress(rows: list) -> str | None:
    """Every backend energy against the call that made it, and the running best."""
    calls = [r for r in rows if r.get("backend_call") and r.get("status") == "ok" and r.get("energy_per_atom") is not None]
    if not calls:
        return None
    calls.sort(key=lambda r: r.calls)
    fig, (ax,) = _figure()
    for stage, marker, label in (("label", ".", "single point"), ("relax", "^", "relaxation")):
        sel = [r for r in calls if r.stage == stage]
        if sel:
            ax.scatter([r.calls for r in sel], [r.energy_per_atom for r in sel], marker=marker, s=14, alpha=0.6, label=label)
    for stage, style, label in ((None, "-", "best of all calls"), ("relax", "--", "best relaxed")):
        sel = [r for r in calls if stage is None or r.stage == stage]
        if sel:
            best = np.minimum.accumulate([r.energy_per_atom for r in sel])
            ax.step([r.calls for r in sel], best, style, where="post", color="k", lw=1.2, label=label)
    ax.set_ylim(*_energy_limits(np.array([r.energy_per_atom for r in calls])))
    ax.set_xlabel("backend calls")
    ax.set_ylabel("energy (eV/atom)")
    ax.legend(fontsize=8)
    return _png(fig)


def _latest_landscape(out: Path) -> tuple[str, dict] | None:
    files = []
    for path in (out / "landscape").glob("r*_i*.npz"):
        match = re.fullmatch(r"r(\d+)_i(\d+)\.npz", path.name)
        if match:
            files.append(((int(match[1]), int(match[2])), path))
    for (r, i), path in sorted(files, reverse=True):
        try:
            with np.load(path) as data:
                return f"round {r}, iteration {i}", {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):  # cut short: use the one before
            continue
    return None


def plot_landscape(out: Path) -> tuple[str, str] | None:
    """The last partition: KernelPCA coordinates coloured by predicted energy, regions numbered at their
    centres, representatives circled, backend-labelled structures marked."""
    found = _latest_landscape(out)
    if found is None:
        return None
    title, d = found
    xy, regions, pred = d["embedding"], d["regions"], d["predicted"]
    fig, (ax,) = _figure(6.5, 5.0)
    order = np.argsort(-pred)  # low energies drawn last, on top
    points = ax.scatter(xy[order, 0], xy[order, 1], c=pred[order], cmap="viridis", s=12,
                        vmin=np.min(pred), vmax=_energy_limits(pred)[1])
    fig.colorbar(points, ax=ax, label="predicted energy (eV/atom)")
    reps = d["representatives"]
    if len(reps):
        ax.scatter(xy[reps, 0], xy[reps, 1], s=60, facecolors="none", edgecolors="k", lw=0.8, label="representatives")
    labelled = np.isfinite(d["backend"])
    if labelled.any():
        ax.scatter(xy[labelled, 0], xy[labelled, 1], marker="x", c="r", s=18, lw=0.8, label="backend-labelled")
    for region in np.unique(regions):
        centre = xy[regions == region].mean(axis=0)
        ax.annotate(str(int(region)), centre, fontsize=10, weight="bold", ha="center", va="center",
                    bbox={"boxstyle": "round", "fc": "white", "alpha": 0.7})
    ax.set_xlabel("KernelPCA 1")
    ax.set_ylabel("KernelPCA 2")
    ax.legend(fontsize=8, loc="best")
    return title, _png(fig)


def plot_distributions(rows: list) -> str | None:
    """Backend energies of single points and relaxations, one histogram per round."""
    by_round: dict[tuple[str, int], list[float]] = defaultdict(list)
    for r in rows:
        if r.get("backend_call") and r.get("status") == "ok" and r.get("energy_per_atom") is not None:
            by_round[(r.stage, int(r.get("round", 0)))].append(r.energy_per_atom)
    if not by_round:
        return None
    fig, axes = _figure(10.0, 3.8, ncols=2)
    everything = np.concatenate([np.asarray(v) for v in by_round.values()])
    lo, hi = _energy_limits(everything, span=2.0)
    bins = np.linspace(lo, hi, 40)
    for ax, stage, title in ((axes[0], "label", "single points"), (axes[1], "relax", "relaxations")):
        for (s, r), values in sorted(by_round.items()):
            if s == stage:
                ax.hist(np.clip(values, lo, hi), bins=bins, histtype="step", lw=1.4, label=f"round {r} ({len(values)})")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("energy (eV/atom)")
        ax.set_ylabel("structures")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return _png(fig)


def plot_spacegroups(rows: list, most: int = 25) -> str | None:
    """How often each space group was sampled, and in which groups the relaxed structures ended up."""
    sampled = Counter(int(r.spacegroup) for r in rows if r.stage in ("sample", "anneal") and r.get("spacegroup"))
    found = Counter(int(r.spacegroup) for r in rows if r.stage == "relax" and r.get("status") == "ok" and r.get("spacegroup"))
    if not sampled and not found:
        return None
    fig, axes = _figure(10.0, 3.8, ncols=2)
    for ax, counts, title in ((axes[0], sampled, "sampled and annealed"), (axes[1], found, "relaxed structures")):
        top = counts.most_common(most)
        ax.bar(range(len(top)), [n for _, n in top], color="tab:blue" if counts is sampled else "tab:orange")
        ax.set_xticks(range(len(top)), [str(g) for g, _ in top], rotation=90, fontsize=7)
        ax.set_title(f"{title}: {len(counts)} groups", fontsize=10)
        ax.set_xlabel("space group")
        ax.set_ylabel("structures")
    return _png(fig)


def draw_structure(atoms) -> str:
    """The conventional cell (spglib at 0.1 A) drawn with ASE, a little rotated."""
    from ase.visualize.plot import plot_atoms

    from sccop.symmetry.analysis import conventional_cell

    atoms = conventional_cell(atoms)
    fig, (ax,) = _figure(3.0, 3.0)
    plot_atoms(atoms, ax, rotation="10x,-20y,0z", radii=0.4)
    ax.set_axis_off()
    return _png(fig)


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(data: str | None, alt: str) -> str:
    if data is None:
        return f"<p class='none'>No data yet for {html.escape(alt)}.</p>"
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>"


STYLE = """body{font-family:sans-serif;max-width:1100px;margin:1em auto;color:#222}
table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}
th{background:#eee}.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ccc;padding:6px;
font-size:85%;text-align:center}.none{color:#888}img{max-width:100%}"""


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
             "modes show as negative frequencies.</p>", _table(keys, [[row.get(k, "") for k in keys] for row in rows])]
    for row in rows:
        image = out / "phonons" / row["plot"] if row.get("plot") else None
        if image is not None and image.exists():
            data = base64.b64encode(image.read_bytes()).decode()
            parts.append(_img(data, f"phonons of #{row['rank']}"))
    return parts


def write_report(out: str | Path, top: int = 6) -> Path:
    """Write DIR/report.html and return its path."""
    from sccop.answer.outputs import reported_atoms, summary_lines
    from sccop.answer.ranking import ranked, rerank_name
    from sccop.calls.rundir import refuse_links, write_text
    from sccop.calls.store import Store
    from sccop.config import from_dict, with_new_defaults

    out = Path(out)
    if not (out / "sccop.db").exists():
        raise SccopInputError(f"{out} holds no search (no sccop.db)")
    refuse_links(out)
    store = Store(out / "sccop.db")
    rows = list(store.rows())
    meta = store.metadata
    config = meta.get("config", {})
    run_config = from_dict(with_new_defaults(config))
    candidates = ranked(store, run_config, run_config.search.top)
    summary = summary_lines(store, candidates, rerank_name(run_config) if run_config.refine.rerank else None)

    calls = [r for r in rows if r.get("backend_call")]
    failed = [r for r in calls if r.get("status") != "ok"]
    times = [r.ctime for r in rows]
    minutes = (max(times) - min(times)) * YEAR_MINUTES if times else 0.0
    facts = [
        ["composition", config.get("composition", "?")],
        ["atoms per cell", config.get("atoms") or f"{config.get('formula_units')} formula units"],
        ["backend", config.get("backend", {}).get("name", "?")],
        ["seed", config.get("seed", "?")],
        ["rounds reached", 1 + max((int(r.get("round", 0)) for r in rows), default=-1)],
        ["structures stored", len(rows)],
        ["backend calls (failed)", f"{len(calls)} ({len(failed)})"],
        ["minutes from first to last row", f"{minutes:.1f}"],
        ["lowest energy (eV/atom)", min((float(r["energy_per_atom"]) for r in summary), default="-")],
        ["refinement / re-ranking relaxations", f"{sum(r.get('stage') == 'refine' for r in rows)} / "
                                                f"{sum(r.get('stage') == 'rerank' for r in rows)}"],
        ["sccop version", meta.get("version", "?")],
    ]
    parts = [f"<h1>sccop search: {html.escape(str(config.get('composition', out.name)))}</h1>",
             f"<p>{html.escape(str(out.resolve()))}</p>", _table(["", ""], facts)]

    parts.append("<h2>Top structures</h2>")
    if summary:
        keys = ["rank", "formula", "spacegroup_symbol", "spacegroup", "energy_per_atom", "above_best", "relaxed_spacegroup",
                "symmetrized", "copies", "round", "calls", "relaxed"]
        if any(row.get("rerank_backend") for row in summary):
            keys[6:6] = ["primary_rank", "rerank_backend", "rerank_energy_per_atom", "rerank_above_best"]
        parts.append(_table(keys, [[row.get(k, "") for k in keys] for row in summary]))
        cards = []
        for c, row in list(zip(candidates, summary))[:top]:
            caption = f"#{row['rank']} {row['formula']} {row['spacegroup_symbol']} ({row['spacegroup']}), +{float(row['above_best']) * 1000:.1f} meV/atom"
            image = _img(draw_structure(reported_atoms(store, c)), f"#{row['rank']} {row['formula']}")
            cards.append(f"<div class='card'>{image}<br>{html.escape(caption)}</div>")
        parts.append(f"<div class='cards'>{''.join(cards)}</div>")
    else:
        parts.append("<p class='none'>No structure labelled or relaxed yet.</p>")

    parts += ["<h2>Best energy vs backend calls</h2>", _img(plot_progress(rows), "best energy vs backend calls")]
    landscape = plot_landscape(out)
    parts.append("<h2>Landscape map</h2>")
    if landscape:
        title, image = landscape
        parts += [f"<p>The last partition ({html.escape(title)}): the network's crystal vectors of the sample pool, "
                  "KernelPCA (first two components), KMeans regions numbered at their centres.</p>", _img(image, "landscape")]
    else:
        parts.append("<p class='none'>No landscape saved yet (DIR/landscape).</p>")
    parts += ["<h2>Energy distributions per round</h2>", _img(plot_distributions(rows), "energy distributions"),
              "<h2>Space groups sampled and found</h2>", _img(plot_spacegroups(rows), "space groups")]
    parts += _phonon_section(out)
    if failed:
        reasons = Counter(str(r.get("reason", "?"))[:120] for r in failed)
        parts += ["<h2>Failed backend calls</h2>", _table(["reason", "calls"], [[k, v] for k, v in reasons.most_common()])]

    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>sccop report</title><style>{STYLE}</style>"
            f"</head><body>{''.join(parts)}</body></html>")
    path = out / "report.html"
    write_text(path, page)
    return path


__all__ = ["write_report", "plot_progress", "plot_landscape", "plot_distributions", "plot_spacegroups", "draw_structure"]
