"""The Python API: a search with any ASE calculator in a few lines, the stages as functions, and an
`import sccop` that loads nothing heavy."""

import subprocess
import sys
import tomllib

import pytest
from ase.calculators.emt import EMT

import sccop


def test_import_sccop_is_light():
    code = "import sys, sccop; sccop.RunConfig(); print('torch' in sys.modules, 'pymatgen' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() == [
        "False", "False"]
    assert {"search", "sample", "relax", "refine", "ranked", "random_search", "RunConfig"} <= set(dir(sccop))
    with pytest.raises(AttributeError):
        sccop.no_such_thing  # noqa: B018


def test_a_search_from_python_with_an_ase_calculator(tmp_path, small_config, capsys):
    from sccop.cli.main import main

    out = tmp_path / "run"
    result = sccop.search("CuAu", out, config=small_config(rounds=1), calculator=EMT())
    assert result.candidates and result.best_energy is not None
    saved = tomllib.loads((out / "config.toml").read_text())
    assert saved["backend"]["name"] == "ase" and saved["backend"]["calculator"] == "ase.calculators.emt.EMT"
    store, config = sccop.open_run(out)
    assert [c.uid for c in sccop.ranked(store, config)][:3] == [c.uid for c in result.candidates][:3]
    assert {r.backend for r in store.rows(backend_call=1)} == {"ase"}
    again = sccop.search("CuAu", out, config=small_config(rounds=1), calculator=EMT())  # a resume: no new call
    assert again.calls == result.calls
    # The folder names the calculator: the command line cannot resume it and says why in one line.
    assert main(["search", "--config", str(out / "config.toml"), "--out", str(out), "--quiet"]) == 2
    assert "ASE calculator given from Python (ase.calculators.emt.EMT)" in capsys.readouterr().err


def test_sample_and_relax_as_functions():
    structures = sccop.sample("Cu", 3, atoms="1-2", seed=4)
    assert len(structures) == 3 and all(a.info["seed"] == 4 and "spacegroup" in a.info for a in structures)
    assert [a.positions.tolist() for a in structures] == [a.positions.tolist() for a in sccop.sample("Cu", 3, atoms="1-2", seed=4)]
    results = sccop.relax(structures, "emt")
    assert len(results) == 3 and all(r.ok for r in results)
    (one,) = sccop.relax(structures[0], calculator=EMT())
    assert one.energy == pytest.approx(results[0].energy, abs=1e-6)
