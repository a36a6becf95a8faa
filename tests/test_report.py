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
    # Nothing is fetched: every image is inlined PNG data, no external source.
    assert not re.search(r"(src|href)=['\"](?!data:)", page)
    images = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    # progress, landscape, distributions, space groups, and one drawing per top structure
    assert len(images) == 4 + min(6, len(summary))
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    for heading in ("Best energy vs backend calls", "Landscape map", "Energy distributions per round",
                    "Space groups sampled and found", "Top structures"):
        assert heading in page
    assert summary[0]["energy_per_atom"] in page and "CuAu" in page
    # A directory without a search gets a clear error.
    with pytest.raises(SccopInputError, match="no sccop.db"):
        write_report(tmp_path / "empty")
