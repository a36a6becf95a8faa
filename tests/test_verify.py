"""`sccop verify`: the top structures re-ranked by a second (DFT) backend, the agreement with the ML
ranking, failures recorded, missing setups refused up front. EMT stands in for DFT here; the real GPAW
and pw.x runs are in tests/backends (marker dft)."""

import csv
import importlib.util
import json

import pytest
import tomli_w
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT

from sccop.config import BackendConfig, RunConfig, to_dict
from sccop.errors import SccopInputError
from sccop.verify import agreement, verify_run

# Without the gpaw package (the README's test command runs before CI installs it) the refusal names the
# package; with it, the missing setups.
NO_SETUPS = "no GPAW PBE setup for Cu" if importlib.util.find_spec("gpaw") else "gpaw is not installed"


def planted_run(tmp_path):
    """A Cu run whose 'ML' energies rank simple cubic first and fcc last: EMT (the stand-in DFT) ranks
    them the other way round."""
    from sccop.answer.outputs import write_outputs
    from sccop.calls.store import Store
    from sccop.config import RefineConfig
    from sccop.testing import put_relaxed

    out = tmp_path / "run"
    out.mkdir()
    config = RunConfig(composition="Cu", backend=BackendConfig(name="lj"), refine=RefineConfig(symmetrize=False))
    (out / "config.toml").write_text(tomli_w.dumps(to_dict(config)))
    store = Store(out / "sccop.db")
    put_relaxed(store, "relax:sc", Atoms("Cu", cell=[2.4] * 3, pbc=True), -0.30, calls=1)
    put_relaxed(store, "relax:bcc", bulk("Cu", "bcc", a=2.87), -0.20, calls=2)
    put_relaxed(store, "relax:fcc", bulk("Cu", "fcc", a=3.6), -0.10, calls=3)
    write_outputs(store, out, config)
    return out


def test_verify_reranks_by_the_second_backend_and_reports_the_disagreement(tmp_path):
    out = planted_run(tmp_path)
    rows, agree = verify_run(out, "gpaw", top=3, calculator=EMT(), progress=False)
    by_ml = {r["ml_rank"]: r for r in rows}
    assert [by_ml[k]["uid"] for k in (1, 2, 3)] == ["relax:sc", "relax:bcc", "relax:fcc"]
    assert [by_ml[k]["dft_rank"] for k in (1, 2, 3)] == [3, 2, 1]  # EMT: fcc < bcc < sc
    for r in rows:  # the stand-in's energy of the stored geometry, exactly
        atoms = {"relax:sc": Atoms("Cu", cell=[2.4] * 3, pbc=True), "relax:bcc": bulk("Cu", "bcc", a=2.87),
                 "relax:fcc": bulk("Cu", "fcc", a=3.6)}[r["uid"]]
        atoms.calc = EMT()
        assert r["dft_energy_per_atom"] == pytest.approx(atoms.get_potential_energy() / len(atoms), abs=1e-6)
        assert r["status"] == "ok" and r["mode"] == "single point"
    assert agree.structures == 3 and agree.same_lowest is False and agree.dft_lowest_ml_rank == 3
    assert agree.pairs_in_order == 0.0 and agree.spearman == pytest.approx(-1.0)
    with open(out / "verify" / "verify.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 3
    saved = json.loads((out / "verify" / "verify.json").read_text())
    assert saved["backend"]["name"] == "gpaw" and saved["agreement"]["same_lowest"] is False


def test_verify_relaxations_write_structures_and_a_failure_is_recorded(tmp_path):
    out = planted_run(tmp_path)

    def calculator(atoms):  # the 'DFT code' crashes on the simple cubic cell only
        if abs(atoms.get_volume() - 2.4 ** 3) < 0.5:
            raise RuntimeError("SCF did not start")
        return EMT()

    rows, agree = verify_run(out, "espresso", top=3, relax=True, calculator=calculator, progress=False)
    failed = [r for r in rows if r["status"] != "ok"]
    assert [r["uid"] for r in failed] == ["relax:sc"] and "SCF did not start" in failed[0]["reason"]
    assert failed[0]["dft_rank"] == "" and agree.structures == 2 and agree.same_lowest is False
    assert {r["mode"] for r in rows} == {"relax"}
    assert len(list((out / "verify").glob("*.cif"))) == 2


def test_verify_refuses_a_non_dft_backend_and_missing_setups_before_running(tmp_path):
    out = planted_run(tmp_path)
    with pytest.raises(SccopInputError, match="not one of gpaw"):
        verify_run(out, "chgnet", progress=False)
    empty = tmp_path / "setups"
    empty.mkdir()
    with pytest.raises(SccopInputError, match=NO_SETUPS):
        verify_run(out, "gpaw", backend_settings={"gpaw_setup_path": str(empty)}, progress=False)
    assert not (out / "verify" / "verify.csv").exists()
    with pytest.raises(SccopInputError, match="no search"):
        verify_run(tmp_path / "nothing", "gpaw", progress=False)


def test_agreement_counts_ties_as_undecided():
    same = agreement([-1.0, -0.9, -0.8], [-5.0, -4.9, -4.8], [1, 2, 3])
    assert same.same_lowest and same.pairs_in_order == 1.0 and same.kendall == pytest.approx(1.0)
    tied = agreement([-1.0, -0.9995], [-5.0, -4.0], [1, 2])  # 0.5 meV/atom apart for ML: undecided
    assert tied.pairs_in_order is None and tied.details["pairs_decided"] == 0


def test_cli_verify(tmp_path, capsys, monkeypatch):
    from sccop.cli.main import main

    out = planted_run(tmp_path)
    empty = tmp_path / "setups"
    empty.mkdir()
    config = tmp_path / "dft.toml"
    config.write_text(f'[backend]\ngpaw_setup_path = "{empty}"\n')
    assert main(["verify", str(out), "--backend", "gpaw", "--config", str(config), "--quiet"]) == 2
    assert NO_SETUPS in capsys.readouterr().err
    assert main(["verify", str(out), "--backend", "gpaw", "--top", "0"]) == 2
