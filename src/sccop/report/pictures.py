"""Pictures of a structure for the report: the symmetrised conventional cell with the atoms that sit on its
faces, edges and corners shown at every side (as a crystallographer draws a cell), coloured by element
(Jmol colours) with a legend. `draw_structure` gives a static PNG; `viewer_data` the same atoms and cell
for the page's interactive 3D viewer."""

from __future__ import annotations

import itertools

import numpy as np
from ase import Atoms

from sccop.report.plots import figure, png
from sccop.symmetry.analysis import conventional_cell, is_layer

BOUNDARY = 1e-3  # fractional distance from a face within which an atom is drawn on both sides


def with_boundary_copies(atoms: Atoms, tolerance: float = BOUNDARY) -> Atoms:
    """The cell's atoms, wrapped, plus a copy of each atom on a face, edge or corner at the opposite ones."""
    frac = atoms.get_scaled_positions(wrap=True)
    frac[np.abs(frac - 1.0) < tolerance] = 0.0
    numbers, positions = [], []
    for number, f in zip(atoms.numbers, frac):
        on_face = [(0.0, 1.0) if f[k] < tolerance else (0.0,) for k in range(3)]
        for shift in itertools.product(*on_face):
            numbers.append(number)
            positions.append((f + np.array(shift)) @ atoms.cell.array)
    return Atoms(numbers=numbers, positions=positions, cell=atoms.cell, pbc=atoms.pbc)


def element_colour(number: int) -> str:
    from ase.data.colors import jmol_colors

    r, g, b = (int(round(255 * c)) for c in jmol_colors[number])
    return f"#{r:02x}{g:02x}{b:02x}"


def _radii(numbers: np.ndarray) -> np.ndarray:
    from ase.data import covalent_radii

    return 0.45 * covalent_radii[numbers] / covalent_radii[numbers].max() + 0.15


def _legend(ax, atoms: Atoms) -> None:
    from matplotlib.patches import Patch

    symbols = sorted(set(atoms.get_chemical_symbols()), key=lambda s: atoms.get_chemical_symbols().index(s))
    numbers = {s: n for s, n in zip(atoms.get_chemical_symbols(), atoms.numbers)}
    ax.legend(handles=[Patch(facecolor=element_colour(numbers[s]), edgecolor="k", label=s) for s in symbols],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(symbols), 4), fontsize=8, frameon=False)


def draw_structure(atoms: Atoms) -> str:
    """The conventional cell drawn with ASE, a little rotated, with an element legend (a layer: `draw_layer`);
    base64 PNG."""
    from ase.visualize.plot import plot_atoms

    if is_layer(atoms):
        return draw_layer(atoms)
    cell = with_boundary_copies(conventional_cell(atoms))
    fig, (ax,) = figure(3.2, 3.4)
    plot_atoms(cell, ax, rotation="10x,-20y,0z", radii=_radii(cell.numbers),
               colors=[element_colour(n) for n in cell.numbers], show_unit_cell=2)
    ax.set_axis_off()
    _legend(ax, cell)
    return png(fig)


def draw_layer(atoms: Atoms, repeat: int = 3) -> str:
    """A layer from the top (`repeat` x `repeat` cells, outlined) and from the side (the layer's thickness in
    view, the vacuum left out), with an element legend; base64 PNG."""
    from ase.visualize.plot import plot_atoms

    layer = conventional_cell(atoms)
    top = layer.repeat((repeat, repeat, 1))
    fig, (ax_top, ax_side) = figure(5.6, 3.4, ncols=2)
    plot_atoms(top, ax_top, radii=0.6 * _radii(top.numbers), colors=[element_colour(n) for n in top.numbers],
               show_unit_cell=1)
    ax_top.set_title(f"top ({repeat} x {repeat} cells)", fontsize=9)
    side = layer.repeat((1, repeat, 1))
    plot_atoms(side, ax_side, rotation="-90x,-90y,0z", radii=0.6 * _radii(side.numbers),
               colors=[element_colour(n) for n in side.numbers], show_unit_cell=0)
    z = layer.positions[:, 2]
    ax_side.set_title(f"side: {z.max() - z.min():.2f} A thick", fontsize=9)
    for ax in (ax_top, ax_side):
        ax.set_axis_off()
    _legend(ax_side, layer)
    return png(fig)


def viewer_data(atoms: Atoms) -> dict:
    """What the page's 3D viewer draws: an XYZ text of the conventional cell with its boundary copies, the
    cell vectors and each element's colour."""
    cell = with_boundary_copies(conventional_cell(atoms))
    lines = [str(len(cell)), "sccop"] + [f"{s} {x:.5f} {y:.5f} {z:.5f}"
                                         for s, (x, y, z) in zip(cell.get_chemical_symbols(), cell.positions)]
    colours = {s: element_colour(n) for s, n in zip(cell.get_chemical_symbols(), cell.numbers)}
    return {"xyz": "\n".join(lines), "cell": np.round(cell.cell.array, 5).tolist(), "colours": colours}


__all__ = ["with_boundary_copies", "element_colour", "draw_structure", "draw_layer", "viewer_data"]
