"""Pictures of a structure for the report: the symmetrised conventional cell with the atoms that sit on its
faces, edges and corners shown at every side (as a crystallographer draws a cell), coloured by element
(Jmol colours) with a legend. `draw_structure` gives a static PNG; `viewer_data` the same atoms and cell
for the page's interactive 3D viewer."""

from __future__ import annotations

import itertools

import numpy as np
from ase import Atoms

from sccop.report.plots import figure, png
from sccop.symmetry.analysis import conventional_cell

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


def draw_structure(atoms: Atoms) -> str:
    """The conventional cell drawn with ASE, a little rotated, with an element legend; base64 PNG."""
    from ase.data import covalent_radii
    from ase.visualize.plot import plot_atoms
    from matplotlib.patches import Patch

    cell = with_boundary_copies(conventional_cell(atoms))
    fig, (ax,) = figure(3.2, 3.4)
    radii = 0.45 * covalent_radii[cell.numbers] / covalent_radii[cell.numbers].max() + 0.15
    plot_atoms(cell, ax, rotation="10x,-20y,0z", radii=radii, colors=[element_colour(n) for n in cell.numbers],
               show_unit_cell=2)
    ax.set_axis_off()
    symbols = sorted(set(cell.get_chemical_symbols()), key=lambda s: cell.get_chemical_symbols().index(s))
    numbers = {s: n for s, n in zip(cell.get_chemical_symbols(), cell.numbers)}
    ax.legend(handles=[Patch(facecolor=element_colour(numbers[s]), edgecolor="k", label=s) for s in symbols],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(symbols), 4), fontsize=8, frameon=False)
    return png(fig)


def viewer_data(atoms: Atoms) -> dict:
    """What the page's 3D viewer draws: an XYZ text of the conventional cell with its boundary copies, the
    cell vectors and each element's colour."""
    cell = with_boundary_copies(conventional_cell(atoms))
    lines = [str(len(cell)), "sccop"] + [f"{s} {x:.5f} {y:.5f} {z:.5f}"
                                         for s, (x, y, z) in zip(cell.get_chemical_symbols(), cell.positions)]
    colours = {s: element_colour(n) for s, n in zip(cell.get_chemical_symbols(), cell.numbers)}
    return {"xyz": "\n".join(lines), "cell": np.round(cell.cell.array, 5).tolist(), "colours": colours}


__all__ = ["with_boundary_copies", "element_colour", "draw_structure", "viewer_data"]
