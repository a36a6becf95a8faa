"""What a run writes: symmetrised CIFs with their group, primitive POSCARs, every relaxed structure in
one extxyz, and one meaning per energy column (energy per atom, enthalpy per atom under pressure)."""

import csv

import pytest
from ase.build import bulk
from ase.io import read

from sccop.answer.outputs import write_outputs
from sccop.calls.ledger import CallItem, CallSpec, Ledger
from sccop.calls.rows import RELAXATION, ranking_energy
from sccop.calls.store import Store
from sccop.config import BackendConfig, RefineConfig, RelaxConfig, RunConfig
from sccop.testing import put_relaxed


def test_best_holds_the_symmetrised_conventional_cif_and_the_primitive_poscar(tmp_path):
    from pymatgen.core import Structure
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    store = Store(tmp_path / "sccop.db")
    rocksalt = bulk("NaCl", "rocksalt", a=5.64)
    rocksalt.positions[1] += [0.002, 0.0, 0.0]  # a hair off Fm-3m, as a relaxation ends
    put_relaxed(store, "relax:a", rocksalt, -3.0, calls=1)
    put_relaxed(store, "relax:b", bulk("NaCl", "rocksalt", a=5.64).repeat((2, 1, 1)), -3.0 + 1e-7, calls=2)  # a copy
    put_relaxed(store, "relax:c", bulk("Na", "bcc", a=4.2), -1.0, calls=3)
    config = RunConfig(composition="NaCl", refine=RefineConfig(symmetrize=False))
    lines = write_outputs(store, tmp_path, config)
    assert [line["spacegroup"] for line in lines] == [225, 229]
    assert sorted(p.name for p in (tmp_path / "best").iterdir()) == ["01_NaCl_225.POSCAR", "01_NaCl_225.cif",
                                                                     "02_Na_229.POSCAR", "02_Na_229.cif"]
    text = (tmp_path / "best" / "01_NaCl_225.cif").read_text()
    assert "_symmetry_space_group_name_H-M   Fm-3m" in text and "_symmetry_Int_Tables_number   225" in text
    cif = Structure.from_file(tmp_path / "best" / "01_NaCl_225.cif")
    assert len(cif) == 8 and SpacegroupAnalyzer(cif, symprec=1e-3).get_space_group_number() == 225  # conventional
    sites = [line for line in text.splitlines() if line.split()[:1] in (["Na"], ["Cl"])]
    assert len(sites) == 2  # the asymmetric unit: Na on 4a, Cl on 4b
    poscar = read(tmp_path / "best" / "01_NaCl_225.POSCAR")
    assert len(poscar) == 2  # the primitive cell beside it
    # Every relaxed structure, with its uid, energies and group, in one extxyz file.
    structures = read(tmp_path / "results.extxyz", index=":")
    assert [a.info["uid"] for a in structures] == ["relax:a", "relax:b", "relax:c"]
    assert structures[0].info["energy_per_atom"] == pytest.approx(-3.0)
    assert structures[0].get_potential_energy() == pytest.approx(-6.0)
    # A later answer replaces the files of the earlier one, and only those.
    write_outputs(store, tmp_path, RunConfig(composition="NaCl", search=config.search.__class__(top=1),
                                             refine=RefineConfig(symmetrize=False)))
    assert sorted(p.name for p in (tmp_path / "best").iterdir()) == ["01_NaCl_225.POSCAR", "01_NaCl_225.cif"]


def test_under_pressure_energy_and_enthalpy_are_separate_columns(tmp_path):
    store = Store(tmp_path / "sccop.db")
    relax = RelaxConfig(pressure=20.0)
    spec = CallSpec("relax", RELAXATION, BackendConfig(name="emt"), relax)
    Ledger(store).run(spec, [CallItem("relax:a", bulk("Cu", "fcc", a=3.7), {"round": 0, "parent": "label:a"})])
    row = store.get("relax:a")
    assert row.enthalpy_per_atom > row.energy_per_atom  # (E + PV)/N and E/N
    assert row.energy_per_atom == pytest.approx(row.energy / row.natoms)
    assert ranking_energy(row) == row.enthalpy_per_atom  # what the search ranks
    lines = write_outputs(store, tmp_path, RunConfig(composition="Cu", relax=relax, refine=RefineConfig(symmetrize=False)))
    assert lines[0]["energy_per_atom"] == pytest.approx(row.energy_per_atom, abs=1e-6)
    assert lines[0]["enthalpy_per_atom"] == pytest.approx(row.enthalpy_per_atom, abs=1e-6)
    with open(tmp_path / "summary.csv") as fh:
        header = next(csv.reader(fh))
    assert {"energy_per_atom", "enthalpy_per_atom", "above_best"} <= set(header)
    # At zero pressure there is no enthalpy column value: E/N is what is ranked.
    store = Store(tmp_path / "zero.db")
    Ledger(store).run(CallSpec("relax", RELAXATION, BackendConfig(name="emt"), RelaxConfig()),
                      [CallItem("relax:a", bulk("Cu", "fcc", a=3.7), {})])
    assert store.get("relax:a").get("enthalpy_per_atom") is None
