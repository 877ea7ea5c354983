"""Rebuild action_msr_tcn.onnx and its card: models/train_action.py (seeded; needs torch==2.13.0
CPU, tqdm, matplotlib; a few minutes on 1 CPU core; the default `--recipe msr` is the shipped
model's). The card is rewritten with the new sha256, the measured cross-subject accuracy, the
figures at 7.5, 15 and 30 Hz and the KARD / Florence 3D check (`--card-only` re-measures only).

    python models/build_action_msr_tcn.py [train_action.py options]
"""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
subprocess.run([sys.executable, str(HERE / "train_action.py"), *sys.argv[1:]], check=True)
