"""bench/fidelity.py --quick: the body clip's first frames through the three real consumers (Blender's
BVH import, the Blender add-on, three-vrm in Chromium), measured (~80 s)."""
import re
import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT

CLIP = FIXTURES / "body" / "ntu_S001C001P001R001A001_rgb.avi"


@pytest.mark.skipif(not CLIP.exists(), reason=f"fixture {CLIP} not here")
def test_quick_table_has_numbers_for_each_consumer():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "fidelity.py"), "--quick"], capture_output=True,
                       text=True, timeout=400, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "FAILED" not in r.stdout, r.stdout
    for consumer in ("Blender BVH import", "Blender add-on (VMC)", "three-vrm (Chromium)"):
        row = re.search(rf"^body\s+{re.escape(consumer)}\s+body\s+([\d.]+)\s+([\d.]+)\s+(\d+)", r.stdout, re.M)
        assert row and int(row[3]) > 0, r.stdout
        assert float(row[1]) <= float(row[2]) <= 180
    assert "10 of 10 frames received" in r.stdout, r.stdout
    for what in ("shape keys", "expression weights"):
        agreement = re.search(rf"{what} \(52 mapped\): max \|value - sent\| = ([\d.e+-]+)", r.stdout)
        assert agreement and float(agreement[1]) < 1e-3, r.stdout
