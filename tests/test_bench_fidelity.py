"""bench/fidelity.py --quick: the sidecar's recording through both Blender consumers, measured (~20 s)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLIP = Path("/work/shared/fixtures/body/ntu_S001C001P001R001A001_rgb.avi")


@pytest.mark.skipif(not CLIP.exists(), reason=f"fixture {CLIP} not here")
def test_quick_table_has_numbers_for_each_consumer():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "fidelity.py"), "--quick"], capture_output=True,
                       text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "FAILED" not in r.stdout, r.stdout
    for consumer in ("Blender BVH import", "Blender add-on (VMC)"):
        row = re.search(rf"^{re.escape(consumer)}\s+body\s+([\d.]+)\s+([\d.]+)\s+(\d+)", r.stdout, re.M)
        assert row and int(row[3]) > 0, r.stdout
        assert float(row[1]) <= float(row[2]) <= 180
    assert "10 of 10 frames received" in r.stdout, r.stdout
    shapes = re.search(r"max \|key - sent\| = ([\d.e+-]+)", r.stdout)
    assert shapes and float(shapes[1]) < 1e-3, r.stdout
