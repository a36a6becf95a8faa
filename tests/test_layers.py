"""2D layers end to end with EMT: a search that runs, resumes and reports layer groups; slab relaxation,
graphs, matching, seeds and phonons that respect the layer's normal."""

import csv
from dataclasses import replace

import numpy as np
import pytest
import spglib
from ase.build import fcc111
from ase.calculators.emt import EMT
from ase.io import read, write

from sccop.calls.store import Store
from sccop.config import BackendConfig, RelaxConfig, SamplerConfig
from sccop.loop.driver import Search
from sccop.symmetry.analysis import as_layer, matcher, spacegroup, to_structure


def layer_config(small_config, **search):
    config = small_config(**{"rounds": 1, **search})
    return replace(config, composition="Cu", atoms="2-3", sampler=SamplerConfig(dim=2, vacuum=12.0))


def layer_group(atoms, symprec=0.1):
    frac = atoms.get_scaled_positions(wrap=False)
    return spglib.get_symmetry_layerdataset((atoms.cell.array, frac, atoms.numbers), aperiodic_dir=2, symprec=symprec).number


def test_layer_search_end_to_end_resumes_and_reports_layer_groups(tmp_path, small_config):
    config = layer_config(small_config)
    out = tmp_path / "run"
    result = Search(config, out, progress=False).run()
    assert result.best_energy is not None
    store = Store(out / "sccop.db")
    height = 12.0 + Search(config, tmp_path / "unused", progress=False).sampler.thickness
    relaxed = store.rows(stage="relax", status="ok")
    assert relaxed
    for row in relaxed + store.rows(stage="sample"):
        atoms = row.toatoms()
        assert list(atoms.pbc) == [True, True, False]
        assert np.allclose(atoms.cell[2], [0.0, 0.0, height])  # the vacuum kept, c still the normal
        assert abs(atoms.cell[0, 2]) < 1e-9 and abs(atoms.cell[1, 2]) < 1e-9
    for row in relaxed:  # the recorded group is the layer group, as spglib's layer dataset finds it
        assert 1 <= row.spacegroup <= 80 and row.spacegroup == layer_group(row.toatoms())
    with open(out / "summary.csv") as fh:
        summary = list(csv.DictReader(fh))
    best = summary[0]
    assert 1 <= int(best["spacegroup"]) <= 80 and best["spacegroup_symbol"].startswith(("p", "c"))
    assert float(best["area_per_atom"]) > 0 and best["formation_energy_per_area"] != ""
    # Formation energy against the lowest elemental form the backend relaxed (for EMT Cu: a bulk form).
    refs = [r for r in store.rows(stage="reference") if r.get("status") == "ok"]
    mu = min(r.energy_per_atom for r in refs)
    assert float(best["formation_energy_per_atom"]) == pytest.approx(float(best["energy_per_atom"]) - mu, abs=1e-5)
    cif = next((out / "best").glob("01_*.cif")).read_text()
    assert cif.startswith("# a 2D layer") and f"layer group {best['spacegroup_symbol']}" in cif
    poscar = read(next((out / "best").glob("01_*.POSCAR")))
    assert poscar.cell[2, 2] == pytest.approx(height)
    from sccop.report import write_report

    page = write_report(out).read_text()
    assert "layer groups, c the layer normal" in page and "formation energy (meV/A^2)" in page
    # Resume: nothing is computed again and the answer is the same.
    calls = store.count(backend_call=1)
    text = (out / "summary.csv").read_text()
    Search(config, out, progress=False).run()
    assert Store(out / "sccop.db").count(backend_call=1) == calls and (out / "summary.csv").read_text() == text


def test_a_slab_relaxes_in_its_plane_and_keeps_its_vacuum():
    from sccop.relaxation import relax

    layer = as_layer(fcc111("Cu", size=(1, 1, 2), vacuum=5.0), 14.0)
    layer.set_cell(layer.cell.array * [[1.06], [1.06], [1.0]], scale_atoms=False)  # stretched in the plane
    result = relax(layer, BackendConfig(name="emt"), RelaxConfig(fmax=0.01), calculator=EMT())
    assert result.ok and result.converged
    atoms = result.atoms
    assert np.allclose(atoms.cell[2], [0, 0, 14.0]) and list(atoms.pbc) == [True, True, False]
    area = lambda a: np.linalg.norm(np.cross(a.cell[0], a.cell[1]))  # noqa: E731
    assert area(atoms) < 0.95 * area(layer)  # the plane shrank back
    z = atoms.positions[:, 2]
    assert 14.0 - (z.max() - z.min()) > 10.0  # still a layer with its vacuum


def test_layer_graphs_have_no_edges_through_the_vacuum():
    from sccop.composition import parse_composition
    from sccop.graph.crystal_graph import au_graph
    from sccop.sampling.sampler import Sampler

    edges = []
    for vacuum in (1.0, 30.0):  # a thin vacuum would give neighbours across c if c were periodic
        sampler = Sampler(parse_composition("C"), [2], SamplerConfig(dim=2, thickness=0.0, vacuum=vacuum, spacegroups=(77,)))
        ((_, structure),) = sampler.sample(1, seed=4)
        graph = au_graph(structure)
        edges.append(sorted(np.round(graph.distances, 6)))
    assert edges[0] == edges[1]


def test_layers_match_whatever_their_height_and_shift():
    base = as_layer(fcc111("Cu", size=(1, 1, 2), vacuum=5.0), 16.0)
    shifted = base.copy()
    shifted.positions += [0.7, 0.3, 1.5]
    shifted.wrap()
    flat = as_layer(fcc111("Cu", size=(2, 1, 1), vacuum=5.0), 16.0)
    match = matcher()
    assert match.fit(to_structure(base), to_structure(shifted))
    assert not match.fit(to_structure(base), to_structure(flat))
    assert spacegroup(base) == layer_group(base) == 72  # p-3m1: the two planes of fcc(111)


def test_a_layer_seed_is_made_a_layer_and_relaxed_first(tmp_path, small_config):
    seed = fcc111("Cu", size=(1, 1, 2), vacuum=2.0)  # written as a 3D cell, the layer cut by the cell's face
    seed.positions[:, 2] -= 3.0
    seed.pbc = True
    write(tmp_path / "bilayer.cif", seed)
    config = layer_config(small_config)
    config = replace(config, search=replace(config.search, seeds=str(tmp_path / "bilayer.cif")))
    out = tmp_path / "run"
    Search(config, out, progress=False).run()
    row = Store(out / "sccop.db").get("relax:label:seed/user/0")
    assert row.status == "ok" and list(row.toatoms().pbc) == [True, True, False] and row.spacegroup == 72


def test_phonons_of_layers_judge_the_supercells_own_wave_vectors():
    from sccop.phonons import phonons

    bilayer = as_layer(fcc111("Cu", size=(1, 1, 2), vacuum=5.0), 16.0)
    monolayer = as_layer(fcc111("Cu", size=(1, 1, 1), vacuum=5.0), 16.0)
    stable = phonons(bilayer, BackendConfig(name="emt"), calculator=EMT())
    assert stable.status == "ok" and stable.supercell[2] == 1 and stable.supercell[0] > 1
    assert stable.imaginary is False and stable.min_commensurate_frequency > 0
    assert stable.bands["labels"][1:3] == ["M", "K"]
    # EMT's close-packed Cu monolayer buckles: imaginary at the supercell's own wave vectors.
    unstable = phonons(monolayer, BackendConfig(name="emt"), calculator=EMT())
    assert unstable.imaginary is True and unstable.min_commensurate_frequency < -0.1


def test_random_search_relaxes_layers(tmp_path, small_config):
    from sccop.baseline import random_search

    config = layer_config(small_config)
    result = random_search(config, tmp_path / "random", budget_calls=4)
    rows = Store(tmp_path / "random" / "random.db").rows(stage="relax", status="ok")
    assert result.calls == 4 and rows
    for row in rows:
        atoms = row.toatoms()
        assert list(atoms.pbc) == [True, True, False] and 1 <= row.spacegroup <= 80


def test_flat_share_and_the_area_window_of_a_layer():
    from collections import Counter

    from sccop.composition import parse_composition, volume_window
    from sccop.sampling.sampler import Sampler
    from sccop.symmetry.groups import flat_layer_groups

    composition = parse_composition("BC2N")
    counts = Counter()
    for share in (0.0, 0.5, 1.0):
        sampler = Sampler(composition, [2], SamplerConfig(dim=2, flat_share=share))
        for _, s in sampler.sample(40, seed=2):
            flat = len(s.grid.z_frac) == 1
            counts[(share, flat)] += 1
            if flat:
                assert s.spacegroup in flat_layer_groups()
                assert np.allclose(s.to_atoms().positions[:, 2], s.to_atoms().positions[0, 2])
            area = np.linalg.norm(np.cross(s.lattice[0], s.lattice[1])) / s.group.centring_factor
            lo, hi = volume_window(composition.scaled(2), 2, "sccop")
            assert lo - 1e-9 <= area <= hi + 1e-9
    assert counts[(0.0, True)] == 0 and counts[(1.0, False)] == 0 and 0 < counts[(0.5, True)] < 40
