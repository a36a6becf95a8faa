"""The report in a real browser: headless Chromium (Debian's chromium) opens the page with every host
unresolvable, and the page records that every image and 3D viewer loaded and that nothing raised an
error. Marked `browser` and run by .ci/run, which installs Chromium."""

import re
import shutil
import subprocess

import pytest

from sccop.loop.driver import Search

pytestmark = pytest.mark.browser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=15000"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    return found


def test_the_report_opens_offline_with_every_image_and_viewer(tmp_path, small_config):
    from sccop.report import write_report

    out = tmp_path / "run"
    Search(small_config(rounds=1), out, progress=False).run()
    page = write_report(out)
    shown = page.read_text().count("class='viewer'")
    proc = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                           page.resolve().as_uri()], capture_output=True, text=True, timeout=180)
    body = re.search(r"<body([^>]*)>", proc.stdout)
    assert body, proc.stderr[-2000:]
    marks = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))
    assert marks.get("done") == "yes", marks
    assert marks["errors"] == "0", marks.get("error-text")
    assert int(marks["images"]) >= 4 and marks["images-ok"] == marks["images"]
    assert int(marks["viewers"]) == shown > 0  # WebGL (SwiftShader) drew every 3D viewer
    network = [line for line in proc.stderr.splitlines() if "net::ERR" in line or "Failed to load resource" in line]
    assert not network, network
    assert "Uncaught" not in proc.stderr
