"""Silences the C++ log lines MediaPipe/LiteRT print to stderr while a model loads or first runs.

They are informational ("Created TensorFlow Lite XNNPACK delegate", feedback-tensor notices) and
drown the sidecar's own one-line messages; set AVATAR_BRIDGE_NATIVE_LOGS=1 to see them.
Python exceptions are unaffected: only file descriptor 2 is redirected, briefly.
"""
from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def quiet_native_logs():
    if os.environ.get("AVATAR_BRIDGE_NATIVE_LOGS") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
