"""Blender (bpy 5.0.1 + the VRM add-on) lives in its own venv, `.venv-blender` at the repository
root, made by `.ci/run` (bpy needs numpy<2, the sidecar numpy 2). Tests run Blender scripts in
it as subprocesses."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLENDER_PYTHON = Path(os.environ.get("AVATAR_BRIDGE_BLENDER_PYTHON", ROOT / ".venv-blender" / "bin" / "python"))
SETUP = ("python3.11 -m venv .venv-blender && .venv-blender/bin/pip install bpy==5.0.1 "
         "bpy-vrm-format==4.10.2 (as .ci/run does)")


def run_blender(script: Path | str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a Python script under Blender's venv; fail with the set-up command if there is none."""
    if not BLENDER_PYTHON.exists():
        raise AssertionError(f"no Blender venv at {BLENDER_PYTHON}: {SETUP}")
    return subprocess.run([str(BLENDER_PYTHON), str(script), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
