import subprocess
import sys

import numpy as np
import pytest

from sccop.cli.main import main
from sccop.io import read_structures


def test_sample_writes_extxyz_with_info(tmp_path):
    out = tmp_path / "nacl.extxyz"
    assert main(["sample", "NaCl", "--atoms", "2", "--spacegroups", "225", "--count", "3", "--seed", "5", "--out", str(out), "--quiet"]) == 0
    structures = read_structures(out)
    assert len(structures) == 3
    for atoms in structures:
        assert len(atoms) == 2
        assert atoms.info["spacegroup"] == 225
        assert sorted(atoms.info["wyckoffs"].split(",")) == ["4a", "4b"]
        assert atoms.info["seed"] == 5


def test_sample_writes_ase_database_and_conventional_cells(tmp_path):
    out = tmp_path / "c.db"
    assert main(["sample", "C", "--atoms", "2", "--spacegroups", "227", "--count", "2", "--conventional", "--out", str(out), "--quiet"]) == 0
    structures = read_structures(out)
    assert len(structures) == 2
    assert all(len(a) == 8 and a.info["spacegroup"] == 227 for a in structures)


def test_same_seed_same_file(tmp_path):
    args = ["sample", "Mg2SiO4", "--atoms", "5-10", "--count", "4", "--quiet"]
    paths = []
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        paths.append(tmp_path / f"{name}.extxyz")
        assert main(args + ["--seed", seed, "--out", str(paths[-1])]) == 0
    a, b, c = (read_structures(p) for p in paths)
    assert all(np.allclose(x.positions, y.positions) and x.info["wyckoffs"] == y.info["wyckoffs"] for x, y in zip(a, b))
    assert any(x.info["spacegroup"] != y.info["spacegroup"] or len(x) != len(y) or not np.allclose(x.cell, y.cell) for x, y in zip(a, c))


def test_layers(tmp_path):
    out = tmp_path / "layers.extxyz"
    assert main(["sample", "MoS2", "--dim", "2", "--thickness", "3", "--count", "4", "--out", str(out), "--quiet"]) == 0
    for atoms in read_structures(out):
        assert list(atoms.pbc) == [True, True, False]
        z = atoms.positions[:, 2]
        assert z.max() - z.min() <= 3.0 + 1e-6
        assert 1 <= atoms.info["spacegroup"] <= 80  # a layer group


@pytest.mark.parametrize(
    "args, words",
    [
        (["Xx2O"], "unknown element 'Xx'"),
        ([""], "empty composition"),
        (["Na-1Cl"], "negative"),
        (["NaCl", "--atoms", "3"], "no whole multiple of NaCl"),
        (["NaCl", "--spacegroups", "0"], "space group 0 does not exist"),
        (["NaCl", "--spacegroups", "231"], "space group 231 does not exist"),
        (["NaCl", "--dim", "2", "--spacegroups", "81"], "layer group 81 does not exist"),
        (["Mg2SiO4", "--atoms", "7", "--spacegroups", "225"], "Fm-3m has no Wyckoff combination"),
        (["NaCl", "--symmetry-bias", "-2"], "[sampler] symmetry_bias = -2.0 is not allowed: it must be a number from 0 to 10"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, words):
    cmd = [sys.executable, "-m", "sccop", "sample", *args, "--out", str(tmp_path / "x.extxyz"), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]


def test_traceback_flag_shows_the_trace(tmp_path):
    cmd = [sys.executable, "-m", "sccop", "sample", "Xx2O", "--traceback", "--out", str(tmp_path / "x.extxyz")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback (most recent call last)" in proc.stderr
    assert "SccopInputError" in proc.stderr


def test_single_structure_formats_get_one_file_each(tmp_path):
    from ase.build import bulk

    from sccop.io import write_structures

    write_structures([bulk("Cu"), bulk("Si")], tmp_path / "POSCAR")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["POSCAR_0000", "POSCAR_0001"]
    write_structures([bulk("Cu")], tmp_path / "one.vasp")
    assert (tmp_path / "one.vasp").is_file()
