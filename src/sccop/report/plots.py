"""The report's figures (matplotlib, Agg), each returned as base64 PNG data, or None when there is nothing to
draw. Energies are what the search ranks: the energy per atom, or the enthalpy per atom under pressure
(`quantity` names it on the axes). No value is cut off without saying so: points beyond an axis are
counted in a note on the figure."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from sccop.calls.rows import ranking_energy

SPAN = 3.0  # eV/atom shown above the lowest value; further points are counted, not drawn off-axis


def figure(width: float = 7.0, height: float = 4.0, ncols: int = 1):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width, height), squeeze=False)
    return fig, axes[0]


def png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def energy_limits(values: np.ndarray, span: float = SPAN) -> tuple[float, float, int]:
    """(low, high, values above high): every value from the lowest up to `span` above it."""
    values = np.asarray(values, dtype=float)
    lo, top = float(np.min(values)), float(np.max(values))
    hi = min(top, lo + span)
    pad = max(0.05 * (hi - lo), 0.005)
    return lo - pad, hi + pad, int((values > hi + pad).sum())


def _note_above(ax, count: int) -> None:
    if count:
        ax.annotate(f"{count} more above", (0.99, 0.98), xycoords="axes fraction", ha="right", va="top", fontsize=8,
                    color="0.35")


def _calls(rows: list) -> list:
    return [r for r in rows if r.get("backend_call") and ranking_energy(r) is not None]


def plot_progress(rows: list, quantity: str = "energy") -> str | None:
    """Every backend energy against the call that made it, and the running best."""
    calls = sorted(_calls(rows), key=lambda r: r.calls)
    if not calls:
        return None
    fig, (ax,) = figure()
    for stage, marker, label in (("label", ".", "single point"), ("relax", "^", "relaxation")):
        sel = [r for r in calls if r.stage == stage]
        if sel:
            ax.scatter([r.calls for r in sel], [ranking_energy(r) for r in sel], marker=marker, s=14, alpha=0.6, label=label)
    for stage, style, label in ((None, "-", "best of all calls"), ("relax", "--", "best relaxed")):
        sel = [r for r in calls if stage is None or r.stage == stage]
        if sel:
            best = np.minimum.accumulate([ranking_energy(r) for r in sel])
            ax.step([r.calls for r in sel], best, style, where="post", color="k", lw=1.2, label=label)
    lo, hi, above = energy_limits(np.array([ranking_energy(r) for r in calls]))
    ax.set_ylim(lo, hi)
    _note_above(ax, above)
    ax.set_xlabel("backend calls")
    ax.set_ylabel(f"{quantity} (eV/atom)")
    ax.legend(fontsize=8, loc="lower left")
    return png(fig)


def latest_landscape(out: Path) -> tuple[str, dict] | None:
    """(title, arrays) of the last learning iteration's partition that can be read."""
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


def plot_landscape(out: Path, quantity: str = "energy") -> tuple[str, str] | None:
    """The last partition: KernelPCA coordinates coloured by predicted energy, regions numbered at their
    centres, representatives circled, backend-labelled structures marked."""
    found = latest_landscape(out)
    if found is None:
        return None
    title, d = found
    xy, regions, pred = d["embedding"], d["regions"], d["predicted"]
    fig, (ax,) = figure(6.5, 5.0)
    order = np.argsort(-pred)  # low energies drawn last, on top
    lo, hi, _ = energy_limits(pred)
    points = ax.scatter(xy[order, 0], xy[order, 1], c=pred[order], cmap="viridis", s=12, vmin=lo, vmax=hi)
    fig.colorbar(points, ax=ax, label=f"predicted {quantity} (eV/atom)", extend="max" if np.max(pred) > hi else "neither")
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
    return title, png(fig)


def plot_distributions(rows: list, quantity: str = "energy") -> str | None:
    """Backend energies of single points and relaxations, one histogram per round (whole-number counts)."""
    from matplotlib.ticker import MaxNLocator

    by_round: dict[tuple[str, int], list[float]] = defaultdict(list)
    for r in _calls(rows):
        by_round[(r.stage, int(r.get("round", 0)))].append(ranking_energy(r))
    if not by_round:
        return None
    fig, axes = figure(10.0, 3.8, ncols=2)
    everything = np.concatenate([np.asarray(v) for v in by_round.values()])
    lo, hi, above = energy_limits(everything)
    bins = np.linspace(lo, hi, 40)
    for ax, stage, title in ((axes[0], "label", "single points"), (axes[1], "relax", "relaxations")):
        shown = 0
        for (s, r), values in sorted(by_round.items()):
            if s == stage:
                values = np.asarray(values)
                inside = values[values <= hi]
                shown += len(values) - len(inside)
                ax.hist(inside, bins=bins, histtype="step", lw=1.4, label=f"round {r} ({len(values)})")
        _note_above(ax, shown)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(f"{quantity} (eV/atom)")
        ax.set_ylabel("structures")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return png(fig)


def group_label(number: int, dim: int = 3) -> str:
    """'Fm-3m (225)': the symbol beside the number (pymatgen's symbols, as summary.csv has them; a layer
    group's with dim 2: 'p6/mmm (80)')."""
    from sccop.symmetry.analysis import group_symbol

    try:
        return f"{group_symbol(number, dim)} ({int(number)})"
    except Exception:  # noqa: BLE001 - a number outside the tables is shown as it is
        return str(number)


def plot_spacegroups(rows: list, most: int = 20, dim: int = 3) -> str | None:
    """How often each space group (layer group, dim 2) was sampled, and in which groups the relaxed
    structures ended up."""
    from matplotlib.ticker import MaxNLocator

    sampled = Counter(int(r.spacegroup) for r in rows if r.stage in ("sample", "anneal") and r.get("spacegroup"))
    found = Counter(int(r.spacegroup) for r in rows if r.stage == "relax" and r.get("status") == "ok" and r.get("spacegroup"))
    if not sampled and not found:
        return None
    fig, axes = figure(11.0, 4.4, ncols=2)
    for ax, counts, title in ((axes[0], sampled, "sampled and annealed"), (axes[1], found, "relaxed structures")):
        top = counts.most_common(most)
        ax.bar(range(len(top)), [n for _, n in top], color="tab:blue" if counts is sampled else "tab:orange")
        ax.set_xticks(range(len(top)), [group_label(g, dim) for g, _ in top], rotation=75, ha="right", fontsize=7)
        ax.set_title(f"{title}: {len(counts)} groups" + (f" (the {most} most frequent)" if len(counts) > most else ""),
                     fontsize=10)
        ax.set_ylabel("structures")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return png(fig)


__all__ = ["figure", "png", "energy_limits", "plot_progress", "latest_landscape", "plot_landscape", "plot_distributions",
           "group_label", "plot_spacegroups"]


def plot_coordination(payload: dict) -> str | None:
    """Centres per first-shell pattern (DIR/coordination.json, from `sccop analyze`), one bar group per structure."""
    structures = payload.get("structures") or []
    names = sorted({n for s in structures for n in s["patterns"]})
    if not names:
        return None
    fig, (ax,) = figure(7.0, 3.5)
    width = 0.8 / len(structures)
    for k, s in enumerate(structures):
        ax.bar(np.arange(len(names)) + k * width, [s["patterns"].get(n, 0) for n in names], width,
               label=f"#{s['rank']}")
    ks = {n: v for s in structures for n, v in s.get("k", {}).items()}
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2,
                  [n + (f"\nk={ks[n]:g}" if ks.get(n) is not None else "") for n in names])
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(f"{payload.get('center')} centres")
    ax.legend(fontsize=8)
    return png(fig)
