"""`sccop report`: one offline page from a search folder."""

import csv

import numpy as np
import pytest

from sccop.errors import SccopInputError
from sccop.loop.driver import Search


def test_report_is_one_offline_page(tmp_path, small_config):
    import base64
    import re

    from sccop.cli.main import main
    from sccop.report import write_report

    out = tmp_path / "run"
    Search(small_config(rounds=1), out, progress=False).run()
    saved = sorted(p.name for p in (out / "landscape").iterdir())
    assert saved == ["r0_i0.npz"]
    with np.load(out / "landscape" / "r0_i0.npz") as d:
        assert d["embedding"].shape == (len(d["regions"]), 2) and np.isfinite(d["backend"]).any()
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    with open(out / "summary.csv") as fh:
        summary = list(csv.DictReader(fh))
    # Nothing is fetched: every image is inlined PNG data, the viewer library is embedded, no external source.
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    assert not re.search(r"(src|href)=['\"](?!data:)", markup) and "<script src" not in page
    assert "3Dmol" in page and page.count("<script>") == 2
    images = re.findall(r"src='data:image/png;base64,([^']+)'", markup)
    # progress, landscape, distributions, space groups, and one still drawing per top structure
    shown = min(6, len(summary))
    assert len(images) == 4 + shown and markup.count("class='viewer'") == shown
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    for heading in ("Run overview", "Best energy vs backend calls", "Landscape map", "Energy distributions per round",
                    "Space groups sampled and found", "Top structures"):
        assert heading in page
    assert summary[0]["energy_per_atom"] in page and "CuAu" in page
    assert "2-4 atoms (1, 2 formula units of CuAu)" in page and "None" not in markup  # the cell size, stated
    assert f"{summary[0]['spacegroup_symbol']} ({summary[0]['spacegroup']})" in page  # symbols beside numbers
    assert "class='sortable'" in page and "time per stage" in page
    assert "after its 1 rounds" in page  # why the search stopped (rounds=1: no convergence to judge)
    assert all(r["spacegroup_by_symprec"].count(":") == 4 for r in summary)
    # A directory without a search gets a clear error.
    with pytest.raises(SccopInputError, match="holds no search"):
        write_report(tmp_path / "empty")


def test_pictures_show_boundary_atoms_and_a_legend():
    from ase.build import bulk

    from sccop.report.pictures import viewer_data, with_boundary_copies
    from sccop.symmetry.analysis import conventional_cell

    fcc = conventional_cell(bulk("Cu", "fcc", a=3.61))
    assert len(with_boundary_copies(fcc)) == 14  # 8 corners and 6 face centres
    rocksalt = with_boundary_copies(conventional_cell(bulk("NaCl", "rocksalt", a=5.64)))
    assert sorted(rocksalt.get_chemical_symbols()).count("Na") + sorted(rocksalt.get_chemical_symbols()).count("Cl") == 27
    data = viewer_data(bulk("NaCl", "rocksalt", a=5.64))
    assert data["xyz"].splitlines()[0] == "27" and set(data["colours"]) == {"Na", "Cl"}
    assert all(c.startswith("#") and len(c) == 7 for c in data["colours"].values())


def test_stop_fact_says_converged_or_not():
    from sccop.config import RunConfig, SearchConfig
    from sccop.report import stop_fact

    config = RunConfig(search=SearchConfig(rounds=5, patience=2, tolerance=0.001))
    assert stop_fact(config, {}).startswith("not finished")
    assert stop_fact(config, {"stopped": "converged", "history": [-1.0, -1.2, -1.2, -1.2]}).startswith("converged")
    still = stop_fact(config, {"stopped": "budget", "history": [-1.0, -1.1, -1.15]})
    assert still.startswith("ran out of its call budget, not converged") and "50.0 meV/atom" in still
    flat = stop_fact(config, {"stopped": "rounds", "history": [-1.0, -1.1, -1.1]})
    assert flat == "after its 5 rounds, the last round did not lower the best"
