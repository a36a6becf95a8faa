"""Dynamical stability with phonopy: stable minima have no imaginary mode, saddle points do."""

import csv

import numpy as np
import tomli_w
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT

from sccop.config import BackendConfig, RunConfig, to_dict
from sccop.phonons import phonons, supercell_for


def test_supercell_width():
    fcc = bulk("Cu", "fcc", a=3.6)  # primitive: faces a/sqrt(3) = 2.08 A apart
    assert supercell_for(fcc, 10.0) == (5, 5, 5)
    assert supercell_for(Atoms("Cu", cell=[2.5, 5.0, 10.0], pbc=True), 10.0) == (4, 2, 1)


def test_emt_copper_fcc_is_stable_and_simple_cubic_is_a_saddle():
    backend = BackendConfig(name="emt")
    fcc = phonons(bulk("Cu", "fcc", a=3.7), backend, calculator=EMT())
    assert fcc.status == "ok" and fcc.imaginary is False and fcc.min_frequency > -0.1
    assert fcc.displacements == 1 and fcc.bands["frequencies"] and fcc.dos["dos"].max() > 0
    # Simple cubic copper: the forces vanish by symmetry (a stationary point), but it is not a minimum.
    sc = phonons(Atoms("Cu", cell=[2.4] * 3, pbc=True), backend, calculator=EMT())
    assert sc.status == "ok" and sc.imaginary is True and sc.min_frequency < -1.0
    assert np.allclose(sc.atoms.cell.angles(), 90.0)  # the tight relaxation kept it cubic


def test_chgnet_silicon_diamond_is_stable_and_beta_tin_is_not():
    backend = BackendConfig(name="chgnet")
    si = phonons(bulk("Si", "diamond", a=5.47), backend)
    assert si.status == "ok" and si.imaginary is False, si.min_frequency
    # Optical modes at Gamma: 15.5 THz measured; CHGNet, like most universal potentials, is softer (13.3).
    assert 12.0 < max(float(f.max()) for f in si.bands["frequencies"]) < 17.0
    # beta-tin Si (I4_1/amd) is a high-pressure phase: at zero pressure it sits on a saddle.
    tin = bulk("Sn", "bct", a=4.69, c=2.59)
    tin.set_chemical_symbols(["Si"] * len(tin))
    beta = phonons(tin, backend)
    assert beta.status == "ok" and beta.imaginary is True, beta.min_frequency


def test_cli_phonons_writes_csv_plots_and_report_section(tmp_path, capsys):
    from sccop.answer.outputs import write_outputs
    from sccop.calls.store import Store
    from sccop.cli.main import main
    from sccop.testing import put_relaxed

    out = tmp_path / "run"
    out.mkdir()
    config = RunConfig(composition="Cu", backend=BackendConfig(name="emt"))
    (out / "config.toml").write_text(tomli_w.dumps(to_dict(config)))
    store = Store(out / "sccop.db")
    put_relaxed(store, "relax:fcc", bulk("Cu", "fcc", a=3.6), -0.01, calls=1)
    put_relaxed(store, "relax:sc", Atoms("Cu", cell=[2.4] * 3, pbc=True), 0.3, calls=2)
    write_outputs(store, out, config)
    assert main(["phonons", str(out), "--top", "2", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "dynamically stable" in printed and "imaginary modes" in printed
    with open(out / "phonons" / "phonons.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["imaginary"] for r in rows] == ["False", "True"]
    assert all((out / "phonons" / r["plot"]).exists() for r in rows)
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "Dynamical stability" in page and page.count("data:image/png;base64") >= 2
    assert main(["phonons", str(tmp_path / "nothing")]) == 2


def test_phonons_of_a_reranked_structure_use_the_reranking_backend(tmp_path):
    from sccop.answer.outputs import write_outputs
    from sccop.answer.refine import refine
    from sccop.calls.store import Store
    from sccop.config import RefineConfig
    from sccop.phonons import phonons_of_run
    from sccop.testing import put_relaxed

    out = tmp_path / "run"
    out.mkdir()
    config = RunConfig(composition="Cu", backend=BackendConfig(name="lj"), refine=RefineConfig(symmetrize=False, rerank="emt"))
    (out / "config.toml").write_text(tomli_w.dumps(to_dict(config)))
    store = Store(out / "sccop.db")
    put_relaxed(store, "relax:fcc", bulk("Cu", "fcc", a=3.5), -0.01, calls=1)
    write_outputs(store, out, config, refine(store, config))
    rows = phonons_of_run(out, 1, progress=False)
    assert rows[0]["uid"] == "rerank:emt:relax:fcc" and rows[0]["backend"] == "emt"
    assert rows[0]["status"] == "ok" and rows[0]["imaginary"] is False  # EMT's fcc copper is a minimum
