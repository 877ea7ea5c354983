"""Rebuild expression_fercnn.onnx and its card: train (models/train_expression.py, seeded), then
measure (models/evaluate_expression.py). Needs torch==2.13.0 (CPU), tqdm, matplotlib; about 20-40
minutes on one CPU core. Floating-point nondeterminism across machines/threads can change the bytes
and so the sha256; the card is rewritten with the new hash and measurements.

    python models/build_expression_fercnn.py [train_expression.py options]
"""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
subprocess.run([sys.executable, str(HERE / "train_expression.py"), "--width", "16", "--epochs", "16", "--threads", "1", *sys.argv[1:]],
               check=True)
subprocess.run([sys.executable, str(HERE / "evaluate_expression.py"), "fercnn"], check=True)
