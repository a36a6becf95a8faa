"""The `sccop bench` command."""

import csv


def test_cli_bench(tmp_path, capsys):
    from sccop.cli.main import main

    index = tmp_path / "index.csv"
    index.write_text("name,formula,nsites,spacegroup\nCu,Cu,1,225\nAl,Al,1,225\n")
    (tmp_path / "run.toml").write_text('seed = 2\n[backend]\nname = "emt"\n[search]\nchunk = 2\n')
    code = main(["bench", str(index), "--ids", "Cu", "--methods", "random", "--budget-calls", "3",
                 "--config", str(tmp_path / "run.toml"), "--out", str(tmp_path / "b"), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "# sccop bench summary" in printed and "random group top-1" in printed
    with open(tmp_path / "b" / "results.csv") as fh:
        (line,) = list(csv.DictReader(fh))
    assert line["id"] == "Cu" and line["method"] == "random" and line["calls"] == "3"
    assert line["spacegroup_match"] in ("True", "False") and int(line["best_spacegroup"]) >= 1
    assert main(["bench", str(index), "--methods", "annealing", "--out", str(tmp_path / "c")]) == 2
    assert "[bench] methods = ('annealing',) is not allowed" in capsys.readouterr().err
