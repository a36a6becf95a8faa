"""Real universal potentials, offline: CHGNet and SevenNet ship their weights in their wheels."""

import numpy as np
import pytest
from ase.build import bulk

from sccop.config import BackendConfig, RelaxConfig
from sccop.relaxation import relax, single_points

pytest.importorskip("chgnet")
pytest.importorskip("sevenn")


def rocksalt(a=5.64):
    return bulk("NaCl", "rocksalt", a=a)


def cesium_chloride_type(a=3.4):
    return bulk("NaCl", "cesiumchloride", a=a)


def test_chgnet_relaxes_rattled_nacl_back_to_rocksalt():
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.io.ase import AseAtomsAdaptor
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    start = rocksalt(5.9) * (2, 1, 1)
    start.rattle(0.15, seed=7)
    result = relax(start, BackendConfig(name="chgnet"), RelaxConfig(fmax=0.01, steps=400))
    assert result.ok and result.converged
    final = AseAtomsAdaptor.get_structure(result.atoms)
    assert SpacegroupAnalyzer(final, symprec=0.1).get_space_group_number() == 225
    assert StructureMatcher().fit(final, AseAtomsAdaptor.get_structure(rocksalt()))


def test_batched_and_sequential_single_points_agree():
    structures = [rocksalt(5.5), cesium_chloride_type(), rocksalt(5.7) * (1, 1, 2)]
    structures[2].rattle(0.05, seed=1)
    for name in ("chgnet", "sevennet"):
        batched = single_points(structures, BackendConfig(name=name, batch_size=8))
        one_by_one = single_points(structures, BackendConfig(name=name, batch_size=1))
        for b, s in zip(batched, one_by_one):
            assert b.ok and s.ok
            assert b.energy == pytest.approx(s.energy, abs=1e-4)
            assert np.allclose(b.forces, s.forces, atol=1e-4)
            assert np.allclose(b.stress, s.stress, atol=1e-5)


def test_sevennet_loads_offline_and_agrees_with_chgnet_on_nacl():
    """Rocksalt is below the CsCl type in both, by a similar amount (relaxed, per atom)."""
    config = RelaxConfig(fmax=0.02, steps=300)
    differences = {}
    for name, model in (("chgnet", None), ("sevennet", "7net-0")):
        backend = BackendConfig(name=name, model=model)
        rs = relax(rocksalt(), backend, config)
        cs = relax(cesium_chloride_type(), backend, config)
        assert rs.ok and cs.ok
        differences[name] = cs.energy_per_atom - rs.energy_per_atom
    assert differences["chgnet"] > 0 and differences["sevennet"] > 0
    ratio = differences["chgnet"] / differences["sevennet"]
    assert 1 / 3 < ratio < 3, differences


def test_sevennet_l3i5_variant_loads_offline():
    (result,) = single_points([rocksalt()], BackendConfig(name="sevennet", model="7net-l3i5"))
    assert result.ok and -5 < result.energy_per_atom < -2


def test_multi_fidelity_sevennet_takes_its_fidelity_in_both_paths():
    """7net-mf-0 ships two fidelities: each reaches the model, batched and one by one alike."""
    structures = [rocksalt(5.5), cesium_chloride_type()]
    energies = {}
    for modal in ("PBE", "R2SCAN"):
        batched = single_points(structures, BackendConfig(name="sevennet", model="7net-mf-0", modal=modal, batch_size=8))
        one_by_one = single_points(structures, BackendConfig(name="sevennet", model="7net-mf-0", modal=modal, batch_size=1))
        for b, s in zip(batched, one_by_one):
            assert b.ok and s.ok
            assert b.energy == pytest.approx(s.energy, abs=1e-4)
            assert np.allclose(b.forces, s.forces, atol=1e-4)
        energies[modal] = [r.energy_per_atom for r in batched]
    assert all(abs(p - r) > 0.5 for p, r in zip(energies["PBE"], energies["R2SCAN"]))  # other reference energies


@pytest.mark.parametrize(("backend", "words"), [
    (BackendConfig(name="sevennet", model="7net-mf-0"), "multi-fidelity: modal argument missing"),
    (BackendConfig(name="sevennet", model="7net-mf-0", modal="HSE"), "unknown modal HSE"),
    (BackendConfig(name="sevennet", model="7net-0", modal="PBE"), "7net-0 has one fidelity"),
    (BackendConfig(name="chgnet", modal="PBE"), "chgnet has one fidelity"),
])
def test_a_fidelity_that_the_model_lacks_is_refused_before_the_run(backend, words):
    from sccop.backends import check_backend
    from sccop.errors import SccopInputError

    with pytest.raises(SccopInputError, match=words):
        check_backend(backend, ["Na", "Cl"])


def test_sevennets_elements_are_named_as_ranges_when_one_is_missing():
    from sccop.backends import check_backend
    from sccop.errors import SccopInputError

    with pytest.raises(SccopInputError, match=r"sevennet 7net-l3i5 cannot treat Po \(it knows H-Bi, Ac-Pu\)"):
        check_backend(BackendConfig(name="sevennet", model="7net-l3i5"), ["Na", "Po"])
    check_backend(BackendConfig(name="sevennet", model="7net-mf-0", modal="PBE"), ["Na", "Cl", "Pu"])
