"""Rigid units: specs, seating on Wyckoff positions (checked against the group's operations), rigid
relaxation, and a two-step search end to end with EMT on tiny Cu4 tetrahedra."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import make_supercell
from ase.io import write

from sccop.config import BackendConfig, RelaxConfig, RunConfig, SearchConfig, TrainConfig, UnitsConfig
from sccop.errors import SccopInputError
from sccop.symmetry.groups import get_group
from sccop.units.library import load_unit, parse_units
from sccop.units.placement import UnitSampler, to_atoms


def tetrahedron(path, edge=2.55):
    atoms = Atoms("Cu4", positions=np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) * edge / (2 * 2**0.5))
    write(path, atoms)
    return str(path)


def test_units_split_the_composition_and_bad_specs_say_why(tmp_path):
    plan = parse_units("B12:2", {"B": 28})
    assert [(u.name, n) for u, n in plan.units] == [("B12", 2)] and plan.free == (("B", 4),) and plan.atoms == 28
    assert [(u.name, n) for u, n in parse_units("B12", {"B": 24}).units] == [("B12", 2)]
    co2 = parse_units("CO2", {"C": 4, "O": 8})
    assert co2.units[0][1] == 4 and co2.free == () and co2.units[0][0].linear
    with pytest.raises(SccopInputError, match="3 x B12 need 36 B; the cell has 28 B left"):
        parse_units("B12:3", {"B": 28})
    with pytest.raises(SccopInputError, match="unit B12 holds B, which the composition does not"):
        parse_units("B12", {"C": 12})
    with pytest.raises(SccopInputError, match="unknown unit 'Qq7'"):
        parse_units("Qq7", {"B": 12})
    with pytest.raises(SccopInputError, match="no whole B12"):
        parse_units("B12", {"B": 10})
    edges = np.linalg.norm(load_unit("B12").positions[:, None] - load_unit("B12").positions[None], axis=2)
    assert np.isclose(np.sort(edges[0])[1], 1.77)  # the icosahedron's edge, five at each vertex
    assert np.isclose(np.sort(edges[0])[1:6], 1.77).all()


def conventional(atoms, group):
    """The conventional cell of a primitive one (the centring's lattice points filled in)."""
    to_conventional = np.rint(np.linalg.inv(group.to_primitive_matrix())).astype(int)
    return make_supercell(atoms, to_conventional) if abs(np.linalg.det(to_conventional)) > 1.5 else atoms


def holds_every_operation(atoms, group, tolerance=1e-3) -> bool:
    """Independent of how the crystal was built: each operation of `group` maps the structure onto itself."""
    conv = conventional(atoms, group)
    frac = conv.get_scaled_positions(wrap=True)
    for rotation, translation in zip(group.rotations, group.translations):
        image = frac @ rotation.T + translation
        delta = image[:, None, :] - frac[None, :, :]
        delta -= np.round(delta)
        d = np.linalg.norm(delta @ conv.cell[:], axis=2)
        same = conv.numbers[:, None] == conv.numbers[None, :]
        if not (np.where(same, d, np.inf).min(axis=1) < tolerance).all():
            return False
    return True


@pytest.mark.parametrize("spec, counts, groups", [
    ("B12", {"B": 12}, [166, 12, 2]),  # alpha-boron's R-3m: the icosahedron on -3m
    ("CO2", {"C": 4, "O": 8}, [205, 148, 14]),  # dry ice's Pa-3: the molecule on -3
    ("B12:2", {"B": 28}, [58, 12]),  # gamma-B28's Pnnm: two units and four free atoms
])
def test_sampled_unit_crystals_have_their_group_and_whole_units(spec, counts, groups):
    plan = parse_units(spec, counts)
    sampler = UnitSampler(plan, spacegroups=groups)
    crystals = sampler.sample(6, np.random.default_rng(3))
    assert len(crystals) == 6
    unit = plan.units[0][0]
    for crystal in crystals:
        atoms = to_atoms(crystal, sampler.units)
        assert len(atoms) == plan.atoms and atoms.get_chemical_formula() == Atoms(
            "".join(f"{el}{n}" for el, n in counts.items())).get_chemical_formula()
        assert holds_every_operation(atoms, crystal.group), (crystal.group.number, crystal.wyckoffs())
        tags = atoms.get_tags()
        assert sorted(set(tags[tags > 0])) == list(range(1, sum(n for _, n in plan.units) + 1))
        for t in set(tags[tags > 0]):  # every copy is the unit itself, whole, in the cell's frame
            shape = atoms.positions[tags == t] - atoms.positions[tags == t].mean(axis=0)
            d = np.sort(np.linalg.norm(shape[:, None] - shape[None], axis=2).ravel())
            ref = np.sort(np.linalg.norm(unit.positions[:, None] - unit.positions[None], axis=2).ravel())
            assert np.allclose(d, ref, atol=1e-6)


def test_a_unit_sits_only_where_its_symmetry_allows():
    b12, co2 = load_unit("B12"), load_unit("CO2")
    sampler = UnitSampler(parse_units("B12", {"B": 12}), spacegroups=[166])
    labels = {w.label: w.index for w in get_group(166).wyckoffs}
    assert sampler.seats(get_group(166), "B12", labels["3a"])  # -3m is a subgroup of Ih
    co2s = UnitSampler(parse_units("CO2", {"C": 4, "O": 8}), spacegroups=[205])
    pa3 = {w.label: w.index for w in get_group(205).wyckoffs}
    assert co2s.seats(get_group(205), "CO2", pa3["4a"])  # -3 about the molecule's axis
    fm3m = {w.label: w.index for w in get_group(225).wyckoffs}
    assert not co2s.seats(get_group(225), "CO2", fm3m["4a"])  # a cubic site holds no linear molecule
    assert co2s.seats(get_group(225), "CO2", fm3m["32f"])  # .3m along the axis
    assert b12.name == "B12" and co2.name == "CO2"


def test_rigid_relaxation_keeps_each_unit_and_a_free_one_need_not(tmp_path):
    from ase.calculators.emt import EMT

    from sccop.relaxation import relax

    plan = parse_units(f"{tetrahedron(tmp_path / 'cu4.xyz', edge=2.3)}:2", {"Cu": 8})
    sampler = UnitSampler(plan, spacegroups=[2, 14, 15])
    atoms = to_atoms(sampler.sample(1, np.random.default_rng(0))[0], sampler.units)

    def shapes(a):
        return [np.sort(a.get_all_distances()[np.ix_(a.get_tags() == t, a.get_tags() == t)].ravel()) for t in (1, 2)]

    rigid = relax(atoms, BackendConfig(name="emt"), RelaxConfig(rigid_units=True, relax_cell=False, steps=80), calculator=EMT())
    assert rigid.ok and rigid.steps > 0 and (rigid.atoms.get_tags() == atoms.get_tags()).all()
    assert all(np.allclose(a, b, atol=1e-8) for a, b in zip(shapes(rigid.atoms), shapes(atoms)))
    free = relax(rigid.atoms, BackendConfig(name="emt"), RelaxConfig(relax_cell=False, steps=80), calculator=EMT())
    assert free.ok and free.energy < rigid.energy
    assert not all(np.allclose(a, b, atol=1e-3) for a, b in zip(shapes(free.atoms), shapes(atoms)))


def test_step_one_starts_turned_and_strained_with_whole_units():
    from sccop.rigid import perturbed
    from sccop.symmetry.analysis import spacegroup

    sampler = UnitSampler(parse_units("B12:2", {"B": 28}), spacegroups=[58])  # two units and four free atoms
    atoms = to_atoms(sampler.sample(1, np.random.default_rng(0))[0], sampler.units)
    tags = atoms.get_tags()
    moved = perturbed(atoms, 8.0, 0.03, np.random.default_rng(1))
    assert (moved.get_tags() == tags).all() and not np.allclose(moved.cell.array, atoms.cell.array)
    for t in (1, 2):  # each unit keeps its shape and its centre's place in the cell, but is turned
        before, after = atoms.positions[tags == t], moved.positions[tags == t]
        assert np.allclose(np.linalg.norm(after[:, None] - after[None], axis=2),
                           np.linalg.norm(before[:, None] - before[None], axis=2), atol=1e-9)
        frac = np.linalg.solve(atoms.cell.array.T, before.mean(axis=0))
        assert np.allclose(np.linalg.solve(moved.cell.array.T, after.mean(axis=0)), frac, atol=1e-9)
        assert not np.allclose(after - after.mean(axis=0), before - before.mean(axis=0), atol=1e-3)
    free = tags == 0
    assert np.allclose(moved.get_scaled_positions(wrap=False)[free], atoms.get_scaled_positions(wrap=False)[free])
    assert spacegroup(atoms) == 58 and spacegroup(moved) < 58
    again = perturbed(atoms, 8.0, 0.03, np.random.default_rng(1))
    assert np.allclose(again.positions, moved.positions) and np.allclose(again.cell.array, moved.cell.array)
    assert np.allclose(perturbed(atoms, 0.0, 0.0, np.random.default_rng(1)).positions, atoms.positions)


def test_step_one_takes_one_label_per_group():
    from ase.build import bulk

    from sccop.units.search import distinct_labels

    structures = {"a": bulk("Cu", "fcc", a=3.6), "b": bulk("Cu", "fcc", a=3.7), "c": bulk("Cu", "bcc", a=2.9),
                  "d": bulk("Cu", "fcc", a=3.8), "e": bulk("Cu", "sc", a=2.4)}
    order = ["a", "b", "c", "d", "e"]  # lowest first: three fcc copies at other volumes are one packing
    assert distinct_labels(order, structures.__getitem__, 5) == ["a", "c", "e"]
    assert distinct_labels(order, structures.__getitem__, 2) == ["a", "c"]


def small(tmp_path, **units):
    return RunConfig(
        composition="Cu", atoms="8", seed=2, backend=BackendConfig(name="emt"),
        train=TrainConfig(members=2, epochs=20, patience=5), search=SearchConfig(chunk=4),
        units=UnitsConfig(**{"spec": f"{tetrahedron(tmp_path / 'cu4.xyz')}:2", "rounds": 2, "samples": 30,
                             "initial": 8, "labels": 4, "chains": 2, "steps": 5, "rigid_top": 2, "free_top": 1, **units}))


def test_units_search_runs_both_steps_and_resumes_the_same(tmp_path):
    import csv

    from sccop.calls.store import open_store
    from sccop.units.search import UnitsSearch

    config = small(tmp_path)
    first = UnitsSearch(config, tmp_path / "run", progress=False).run()
    store = open_store(tmp_path / "run", config)
    labels = store.rows(stage="label")
    assert len(labels) == 12 and {r.get("round") for r in labels} == {0, 1}
    rigid = store.rows(stage="rigid")
    assert len(rigid) == 2 and all(r.toatoms().get_tags().max() == 2 for r in rigid)  # tags kept in the store
    free = store.rows(stage="relax")
    assert len(free) == 1 and free[0].get("parent").startswith("rigid:label:unit/r")
    with open(tmp_path / "run" / "units.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and rows[0]["units_survived"] in ("True", "False") and float(rows[0]["largest_distortion"]) >= 0
    assert (tmp_path / "run" / "summary.csv").exists() and first.best_energy is not None
    from sccop.report import write_report

    page = write_report(tmp_path / "run").read_text()
    assert "Rigid units" in page and "after its 2 rounds" in page
    again = UnitsSearch(config, tmp_path / "run", progress=False).run()  # resumed: every call read back
    assert again.calls == first.calls and again.best_energy == first.best_energy
    assert len(open_store(tmp_path / "run", config).rows(stage="label")) == 12


def test_cli_units(tmp_path, capsys):
    from sccop.cli.main import main

    assert main(["search", "B28", "--atoms", "28", "--units", "B12:3", "--out", str(tmp_path / "x")]) == 2
    assert "3 x B12 need 36 B" in capsys.readouterr().err
    assert main(["search", "B12", "--atoms", "12-24", "--units", "B12", "--out", str(tmp_path / "y")]) == 2
    assert "takes one cell size" in capsys.readouterr().err


def test_rigid_labels_relax_whole_units_and_step_one_continues_them(tmp_path):
    from sccop.calls.rundir import check_settings
    from sccop.calls.store import open_store
    from sccop.units.search import UnitsSearch, unit_distortion

    config = small(tmp_path, label_with="rigid", label_steps=15, rigid_turn=0.0, rigid_strain=0.0)  # step 1 as is
    UnitsSearch(config, tmp_path / "run", progress=False).run()
    store = open_store(tmp_path / "run", config)
    labels = store.rows(stage="label")
    assert len(labels) == 12 and all(r.get("steps") is not None and 0 < r.get("steps") <= 15 for r in labels)
    for row in labels:  # each unit of each label is still the given tetrahedron (rigid), though it has moved
        atoms = row.toatoms()
        for t in (1, 2):
            d = atoms.get_all_distances()[np.ix_(atoms.get_tags() == t, atoms.get_tags() == t)]  # units kept whole
            assert np.allclose(np.sort(d[d > 0]), 2.55, atol=1e-6)
    from sccop.calls.fingerprint import fingerprint

    rigid = store.rows(stage="rigid")
    assert len(rigid) == 2
    for row in rigid:  # step 1 starts where its label's relaxation stopped (the call's input is that structure)
        label = store.get(row.get("parent"))
        start = label.toatoms()
        start.set_tags(row.toatoms().get_tags())
        assert row.get("fingerprint") == fingerprint(start)
        assert row.get("energy_per_atom") <= label.get("energy_per_atom") + 1e-6
        assert unit_distortion(row.toatoms(), start) < 1e-6  # rigid, though the cell is small
    with pytest.raises(SccopInputError, match="units.label_with"):
        check_settings(small(tmp_path), tmp_path / "run", force=True)
