"""`avatar-bridge report`: a recording of a real fixture clip becomes an HTML page whose plots
load in a real headless Chromium with no console errors; without matplotlib, one line says so."""
import base64
import os
import re
import subprocess
import sys

import pytest

from bridge.batch import process_videos
from bridge.report import series, write_report
from conftest import FACE, ROOT
from test_dashboard_browser import chrome  # noqa: F401 - the shared headless Chromium fixture

VIDEO = FACE / "single_face.mp4"
TABLES = {"calibration": {"profile": "/nonexistent/avatar-bridge-test-profile.json"}}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """`process --report` on the clip: the recording and the report written beside it."""
    res = process_videos([VIDEO], tmp_path_factory.mktemp("rep"), formats=("abr",), max_frames=60, tables=TABLES,
                         progress=False, report=True)[0]
    return res.outputs["abr"], res.outputs["html"]


def test_report_opens_in_chromium_with_its_plots(recorded, chrome):  # noqa: F811
    _, page = recorded
    text = page.read_text()
    assert "Person 0" in text and "Trigger events" in text
    chrome.get(page.as_uri())
    imgs = chrome.execute_script(
        "return [...document.images].map((i) => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])")
    assert {"person 0 expression probabilities", "person 0 tracking coverage"} <= {i[0] for i in imgs}
    assert all(complete and w > 0 and h > 0 for _, complete, w, h in imgs), imgs
    errors = [e for e in chrome.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_report_plots_what_the_recording_holds(recorded, tmp_path):
    abr, _ = recorded
    reader, times, people = series(abr)
    s = people[0]
    assert len(times) == len(s.times) == 60 and set(s.classes) >= {"expression"}
    assert all(len(v) == 60 for per in s.classes.values() for v in per.values())
    out = write_report(abr, tmp_path / "again.html")
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", out.read_text())
    assert len(pngs) >= 2 and all(base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_report_without_matplotlib_says_how_to_install(recorded, tmp_path):
    abr, _ = recorded
    code = "import sys; sys.modules['matplotlib'] = None; from bridge import cli; sys.exit(cli.main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, "report", str(abr), "--out", str(tmp_path / "r.html")],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, env=os.environ)
    assert proc.returncode == 2 and proc.stderr.strip() == \
        'avatar-bridge: error: reports need matplotlib: pip install "avatar-bridge[report]" (or pip install matplotlib)'
