"""Rebuild action_msr_tcn.onnx and its card: models/train_action.py (seeded; needs torch==2.13.0
CPU, tqdm, matplotlib; a few minutes on 1 CPU core). The card is rewritten with the new sha256 and
the measured cross-subject accuracy.

    python models/build_action_msr_tcn.py [train_action.py options]
"""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
subprocess.run([sys.executable, str(HERE / "train_action.py"), *sys.argv[1:]], check=True)
