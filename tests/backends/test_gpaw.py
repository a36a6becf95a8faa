"""Real GPAW (PBE, plane waves) on 2-atom silicon, and `sccop verify` with it. Marker `dft`:
`python -m pytest -m dft`; .ci/run builds GPAW against Debian's libxc and OpenBLAS."""

import dataclasses
import importlib.util

import pytest
import tomli_w
from ase.build import bulk

from sccop.config import BackendConfig, RunConfig, to_dict
from sccop.relaxation import single_points

pytestmark = [
    pytest.mark.dft,
    pytest.mark.skipif(importlib.util.find_spec("gpaw") is None, reason="gpaw is not installed (see .ci/run)"),
]

# Cheap but real settings: 20 Ry (272 eV) and a coarse k grid, enough for the plumbing and the physics sign.
GPAW = BackendConfig(name="gpaw", ecutwfc=20.0, kspacing=0.6, timeout_s=600)


def beta_tin_silicon():
    tin = bulk("Sn", "bct", a=4.69, c=2.59)
    tin.set_chemical_symbols(["Si"] * len(tin))
    return tin


def test_gpaw_single_point_on_silicon(tmp_path):
    backend = dataclasses.replace(GPAW, workdir=str(tmp_path))
    (result,) = single_points([bulk("Si", "diamond", a=5.43)], backend)
    assert result.ok, result.reason
    # GPAW's energies are against the spin-paired atoms: about -5 eV/atom for silicon at these settings.
    assert -7.0 < result.energy / 2 < -4.0
    assert abs(result.forces).max() < 0.05  # diamond sites are fixed by symmetry
    assert result.stress.shape == (6,)
    assert list(tmp_path.glob("sccop-dft-*/gpaw.txt")), "the calculation folder holds GPAW's log"


def test_verify_with_gpaw_puts_diamond_below_beta_tin(tmp_path):
    from sccop.answer.outputs import write_outputs
    from sccop.calls.store import Store
    from sccop.config import RefineConfig
    from sccop.testing import put_relaxed
    from sccop.verify import verify_run

    out = tmp_path / "run"
    out.mkdir()
    config = RunConfig(composition="Si", backend=BackendConfig(name="lj"), refine=RefineConfig(symmetrize=False))
    (out / "config.toml").write_text(tomli_w.dumps(to_dict(config)))
    store = Store(out / "sccop.db")
    put_relaxed(store, "relax:tin", beta_tin_silicon(), -5.0, calls=1)  # the 'ML' ranks beta-tin first
    put_relaxed(store, "relax:diamond", bulk("Si", "diamond", a=5.43), -4.9, calls=2)
    write_outputs(store, out, config)
    rows, agree = verify_run(out, "gpaw", top=2, progress=False,
                             backend_settings={"ecutwfc": 20.0, "kspacing": 0.6, "workdir": str(tmp_path)})
    ranks = {r["uid"]: r["dft_rank"] for r in rows}
    assert all(r["status"] == "ok" for r in rows), rows
    assert ranks == {"relax:diamond": 1, "relax:tin": 2}  # PBE: diamond about 0.2-0.3 eV/atom lower
    assert agree.same_lowest is False and agree.dft_lowest_ml_rank == 2
