"""The `sccop search` command: a TOML config, options that win over it, re-ranking added on resume."""

import csv

from ase.db import connect


def test_cli_search_with_a_toml_config(tmp_path, capsys, small_config):
    import tomli_w

    from sccop.cli.main import main
    from sccop.config import to_dict

    settings = to_dict(small_config(rounds=1))
    settings.pop("composition")
    (tmp_path / "run.toml").write_text(tomli_w.dumps(settings))
    out = tmp_path / "cli"
    assert main(["search", "CuAu", "--config", str(tmp_path / "run.toml"), "--out", str(out), "--quiet"]) == 0
    assert "backend calls" in capsys.readouterr().out
    assert (out / "summary.csv").exists()
    # Re-ranking added to the finished run: a plain resume that relaxes the top 2 with the second backend.
    args = ["search", "CuAu", "--config", str(tmp_path / "run.toml"), "--out", str(out), "--quiet",
            "--rerank", "lj", "--rerank-top", "2"]
    calls = connect(out / "sccop.db").count(backend_call=1)
    assert main(args) == 0
    assert "(lj: space group" in capsys.readouterr().out
    assert connect(out / "sccop.db").count(backend_call=1) == calls  # no search call was made again
    with open(out / "summary.csv") as fh:
        lines = list(csv.DictReader(fh))
    assert [line["rerank_backend"] for line in lines[:2]] == ["lj", "lj"]
    assert float(lines[0]["rerank_above_best"]) == 0.0
    assert all(not line["rerank_backend"] for line in lines[2:])
    assert connect(out / "sccop.db").count(stage="rerank") == 2
    assert main(["search", "Xx2O", "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    assert "Xx" in capsys.readouterr().err
