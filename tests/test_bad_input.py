"""Bad input, generated: every config field and every subcommand's options and files. Each case must
exit with status 2 and one line on stderr, with no traceback, within a time bound, and write nothing
(the run folder is not even made). Valid inputs still run."""

import math
import signal
import sqlite3
from dataclasses import fields
from pathlib import Path

import pytest
import tomli_w

from sccop.cli.main import main
from sccop.config import SECTIONS, RunConfig

TIMEOUT_S = 30


def bad_values(allowed) -> list:
    """Values that `allowed` refuses, from its kind and its limits."""
    kind = allowed.kind
    if kind == "bool":
        return ["yes", 1]
    if kind == "int":
        out = [2.5, "7"]
        if allowed.choices:
            out.append(max(allowed.choices) + 1)
        else:
            out.append(allowed.low - 1 if allowed.low is not None else allowed.high + 1)
        return out
    if kind == "float":
        out = [math.nan, "1.0"]
        out.append(allowed.low - 1.0 if allowed.low is not None else math.inf)
        if allowed.high is not None:
            out.append(allowed.high * 10 + 1.0)
        return out
    if kind == "str":
        if allowed.choices:
            return ["nonsense", 3]
        if allowed.pattern:
            return ["???", 3]
        return [3, [1]]
    if kind == "range":
        return ["abc", 0, "5-2"]
    if kind == "ints":
        return ["225", [0], [1.5]]
    if kind == "floats":
        return [[], [-1.0], "0.1"]
    if kind == "strs":
        return ["x", [1]]
    if kind == "pairs":
        return [["Si"], [["Si", 1]]]
    raise AssertionError(kind)


def config_cases():
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            for value in bad_values(f.metadata["allowed"]):
                yield pytest.param({section: {f.name: value}}, id=f"{section}.{f.name}={value!r}")
    for f in fields(RunConfig):
        if f.name not in SECTIONS:
            for value in bad_values(f.metadata["allowed"]):
                if f.name == "composition" and isinstance(value, str):
                    continue  # a text is a formula, judged by the composition parser below
                yield pytest.param({f.name: value}, id=f"{f.name}={value!r}")
    for text in ("Xx2O", "NaCl0", "NaCl1e400", "Na0.5Cl0.5", "NaCl1000", "((", "2NaCl", "nacl"):
        yield pytest.param({"composition": text}, id=f"composition={text!r}")


class Timeout(Exception):
    pass


def run_bounded(argv) -> int:
    def alarm(signum, frame):
        raise Timeout(f"sccop {' '.join(map(str, argv))} ran over {TIMEOUT_S} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(TIMEOUT_S)
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own refusals
        return exc.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_valid(argv) -> int:
    """A command that is meant to work: run to its end, however long a loaded machine takes."""
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def refused(argv, capsys, tmp_path, words: str | None = None) -> str:
    """Run argv in tmp_path; it must exit 2 with one line and leave tmp_path as it was."""
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code = run_bounded(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, (argv, code, err)
    assert len(lines) == 1 and lines[0].startswith("sccop: error: ") and "Traceback" not in err, err
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before, f"{argv} wrote {set(after) - set(before)}"
    if words:
        assert words in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("settings", list(config_cases()))
def test_every_config_field_refuses_a_bad_value(settings, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = {"composition": "CuAu", "backend": {"name": "emt"}}
    for key, value in settings.items():
        if isinstance(value, dict):
            data.setdefault(key, {}).update(value)
        else:
            data[key] = value
    (tmp_path / "run.toml").write_text(tomli_w.dumps(data))
    line = refused(["search", "--config", tmp_path / "run.toml", "--out", tmp_path / "run", "--quiet"], capsys, tmp_path)
    key, value = next(iter(settings.items()))
    names = [key, next(iter(value))] if isinstance(value, dict) else [key]
    assert any(name in line for name in names), line  # the line names the setting


def test_the_fuzz_covers_every_field():
    count = len(list(config_cases()))
    assert count >= 300, count


@pytest.fixture
def files(tmp_path):
    """Odd input files: a folder, an empty file, binary bytes, broken TOML, a structure with an infinite
    cell vector, sodium for EMT, a corrupt database, a table without its columns."""
    from ase.build import bulk
    from ase.io import write

    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "empty.extxyz").write_text("")
    (folder / "binary.toml").write_bytes(bytes(range(256)) * 4)
    (folder / "broken.toml").write_text("[search\nrounds = ")
    (folder / "unknown.toml").write_text("[serach]\nrounds = 2\n")
    (folder / "garbage.extxyz").write_text("this is not a structure\n")
    infinite = bulk("Cu", "fcc", a=3.6)
    infinite.cell[0, 0] = math.inf
    write(folder / "inf.extxyz", bulk("Cu", "fcc", a=3.6))
    text = (folder / "inf.extxyz").read_text().replace('Lattice="0.0 1.8 1.8', 'Lattice="inf 1.8 1.8')
    (folder / "inf.extxyz").write_text(text)
    write(folder / "na.extxyz", bulk("Na", "bcc", a=4.2))
    write(folder / "cu.extxyz", bulk("Cu", "fcc", a=3.6))
    (folder / "bad.db").write_bytes(b"SQLite format 3\x00" + b"\x13" * 200)
    (folder / "nocolumns.csv").write_text("material_id,nsites\nmp-1,2\n")
    (folder / "table.csv").write_text("material_id,full_formula,nsites,spacegroup\nmp-30,Cu,1,225\n")
    return folder


def with_option(argv: list, option: str, value) -> list:
    """argv with `option` set to `value` (replaced when argv has it, added when not)."""
    argv = list(argv)
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    return argv


def cli_cases(f: Path, out: Path):
    """(argv, words the one line must hold) for every subcommand."""
    sample = ["sample", "Cu", "--out", out / "s.extxyz"]
    yield ["sample", "Cu", "--count", "0", "--out", out / "s.extxyz"], "count = 0"
    yield ["sample", "Cu", "--count", "10000000", "--out", out / "s.extxyz"], "count = 10000000"
    yield ["sample", "Cu", "--seed", "-1", "--out", out / "s.extxyz"], "seed = -1"
    yield ["sample", "Cu", "--count", "two", "--out", out / "s.extxyz"], "invalid int value"
    yield [*sample, "--atoms", "2-100000000"], "at most 500"
    yield ["sample", "NaCl", "--formula-units", "1000", "--out", out / "s.extxyz"], "at most 500"
    yield [*sample, "--distance-factor", "100"], "distance_factor = 100.0"
    yield [*sample, "--symmetry-bias", "nan"], "symmetry_bias = nan"
    yield [*sample, "--thickness", "-1"], "thickness = -1.0"
    yield [*sample, "--dim", "2", "--vacuum", "0"], "vacuum = 0.0"
    yield [*sample, "--spacegroups", "abc"], "space group list 'abc'"
    yield [*sample, "--dim", "4"], "invalid choice"
    yield ["sample", "NaCl0", "--out", out / "s.extxyz"], "zero Cl"
    yield ["sample", "NaCl1e400", "--out", out / "s.extxyz"], "infinite"
    yield ["sample", "Cu", "--out", ""], "--out is empty"
    yield ["sample", "Cu", "--out", out / "s.unknownformat"], "which format"
    yield ["sample", "Cu", "--atoms", "abc", "--out", out / "s.extxyz"], "atoms must be N or A-B"
    relax = ["relax", f / "cu.extxyz", "--backend", "emt", "--out", out / "r.extxyz"]
    yield ["relax", f / "missing.extxyz", "--out", out / "r.extxyz"], "does not exist"
    yield ["relax", f, "--out", out / "r.extxyz"], "is not a file"
    yield ["relax", f / "empty.extxyz", "--out", out / "r.extxyz"], "is empty"
    yield ["relax", f / "binary.toml", "--out", out / "r.extxyz"], "cannot read"
    yield ["relax", f / "garbage.extxyz", "--out", out / "r.extxyz"], "cannot read"
    yield ["relax", f / "inf.extxyz", "--backend", "emt", "--out", out / "r.extxyz"], "non-finite"
    yield ["relax", f / "na.extxyz", "--backend", "emt", "--out", out / "r.extxyz"], "emt cannot treat Na"
    for option, value, words in (("--fmax", "inf", "fmax = inf"), ("--fmax", "nan", "fmax = nan"),
                                 ("--fmax", "-1", "fmax = -1.0"), ("--fmax", "0", "fmax = 0.0"),
                                 ("--steps", "0", "steps = 0"), ("--pressure", "nan", "pressure = nan"),
                                 ("--timeout", "0", "timeout_s = 0.0"), ("--batch-size", "0", "batch_size = 0"),
                                 ("--optimizer", "lbfgs", "invalid choice"), ("--backend", "nonsense", "unknown backend"),
                                 ("--rattle", "-1", "rattle = -1.0"), ("--device", "gpu7", "device = 'gpu7'"),
                                 ("--out", "", "--out is empty")):
        yield with_option(relax, option, value), words
    search = ["search", "CuAu", "--backend", "emt", "--out", out / "run", "--quiet"]
    for option, value, words in (("--rounds", "0", "rounds = 0"), ("--budget-calls", "-5", "budget_calls = -5"),
                                 ("--rerank-top", "0", "rerank_top = 0"), ("--workers", "0", "workers"),
                                 ("--seed", "-1", "seed = -1"), ("--pressure", "nan", "pressure = nan"),
                                 ("--budget-minutes", "nan", "budget_minutes = nan"),
                                 ("--budget-minutes", "-1", "budget_minutes = -1.0"), ("--rerank", "xyz", "unknown backend"),
                                 ("--atoms", "3", "no whole multiple"), ("--atoms", "2-100000000", "at most 500"),
                                 ("--formula-units", "1000", "at most 500"), ("--spacegroups", "231", "231 does not exist"),
                                 ("--config", f, "is not a file"), ("--config", f / "binary.toml", "not a text file"),
                                 ("--config", f / "missing.toml", "does not exist"), ("--config", f / "broken.toml", "not valid TOML"),
                                 ("--config", f / "unknown.toml", "unknown setting(s): serach"),
                                 ("--out", "", "--out is empty"), ("--backend", "xyz", "unknown backend")):
        yield with_option(search, option, value), words
    yield ["search", "NaCl", "--backend", "emt", "--out", out / "run"], "emt cannot treat Na, Cl"
    yield ["search", "Si", "--backend", "espresso", "--espresso-missing", "--out", out / "run"], "unrecognized arguments"
    yield ["search", "--out", out / "run"], "give a composition"
    yield ["search", "CuAu", "--dim", "2", "--spacegroups", "81", "--out", out / "run"], "layer group 81 does not exist"
    yield ["report", out / "none"], "holds no search (no config.toml or sccop.db)"
    yield ["report", f, "--top", "0"], "top = 0"
    for option, value, words in (("--mesh", "-1", "mesh = -1"), ("--threshold", "nan", "threshold = nan"),
                                 ("--top", "0", "top = 0"), ("--fmax", "0", "fmax = 0.0"),
                                 ("--displacement", "-1", "displacement = -1.0"), ("--min-length", "0", "min-length = 0.0")):
        yield ["phonons", f, option, value], words
    yield ["phonons", out / "none"], "holds no search"
    bench = ["bench", f / "table.csv", "--out", out / "bench", "--backend", "emt"]
    yield ["bench", f / "missing.csv", "--out", out / "bench"], "does not exist"
    yield ["bench", f, "--out", out / "bench"], "is not a file"
    yield ["bench", f / "binary.toml", "--out", out / "bench"], "not a readable CSV"
    yield ["bench", f / "nocolumns.csv", "--out", out / "bench"], "lacks the column"
    for option, value, words in (("--budget-minutes", "nan", "budget_minutes = nan"), ("--budget-calls", "0", "budget_calls = 0"),
                                 ("--workers", "0", "workers = 0"), ("--methods", "annealing", "methods"),
                                 ("--random-evaluations", "-1", "random_evaluations = -1.0"), ("--rows", "0", "rows"),
                                 ("--ids", "mp-404", "no row with id mp-404"), ("--cif-dir", f / "none", "is not a folder"),
                                 ("--seed", "-3", "seed = -3"), ("--out", "", "--out is empty")):
        yield with_option(bench, option, value), words


def test_every_subcommand_refuses_bad_options_and_files(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "outputs"
    cases = list(cli_cases(files, out))
    assert len(cases) >= 80
    problems = []
    for argv, words in cases:
        try:
            refused(argv, capsys, tmp_path, words)
        except AssertionError as exc:
            problems.append(str(exc).splitlines()[0])
    assert not problems, "\n".join(problems)
    assert not out.exists()


def test_corrupt_run_folders_name_the_file_and_how_to_recover(tmp_path, capsys, small_config):
    from sccop.loop.driver import Search

    out = tmp_path / "run"
    Search(small_config(rounds=1), out, progress=False).run()
    config = tmp_path / "run.toml"
    settings = __import__("sccop.config", fromlist=["to_dict"]).to_dict(small_config(rounds=1))
    config.write_text(tomli_w.dumps(settings))
    resume = ["search", "--config", config, "--out", out, "--quiet"]
    model = out / "models" / "r0_i0.pt"
    good = model.read_bytes()
    model.write_bytes(good[: len(good) // 2])  # truncated by something else than sccop
    line = refused(resume, capsys, tmp_path)
    assert "r0_i0.pt cannot be read as a trained ensemble" in line and "delete it and run again" in line
    model.unlink()  # as the message says: the iteration is trained again
    assert run_valid(resume) == 0
    capsys.readouterr()
    (out / "config.toml").write_text("[search\n")
    line = refused(resume, capsys, tmp_path)
    assert "config.toml is not valid TOML" in line and "restore the file" in line
    (out / "config.toml").write_text(tomli_w.dumps(settings))
    db = (out / "sccop.db").read_bytes()
    (out / "sccop.db").write_bytes(b"garbage" * 100)
    line = refused(resume, capsys, tmp_path)
    assert "sccop.db is not a readable run database" in line and "move it away" in line
    (out / "sccop.db").write_bytes(db)
    assert run_valid(resume) == 0


def test_valid_inputs_still_run(tmp_path, capsys, files):
    assert run_valid(["sample", "Cu", "--atoms", "1-2", "--count", "3", "--out", tmp_path / "s.extxyz", "--quiet"]) == 0
    assert run_valid(["relax", files / "cu.extxyz", "--backend", "emt", "--out", tmp_path / "r.extxyz", "--quiet"]) == 0
    assert "relaxed 1 structures with emt: 1 ok" in capsys.readouterr().out
    assert sqlite3 and (tmp_path / "r.extxyz").exists()
