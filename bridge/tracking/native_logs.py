"""Silences the native log lines MediaPipe/LiteRT and OpenCV/FFmpeg print to stderr.

MediaPipe's are informational ("Created TensorFlow Lite XNNPACK delegate", feedback-tensor
notices); OpenCV's and FFmpeg's ("moov atom not found", "partial file", "Invalid NAL unit size",
a stack of errors for a missing camera) restate a problem our own one line already explains.
Both drown the sidecar's messages; set AVATAR_BRIDGE_NATIVE_LOGS=1 to see them.
"""
from __future__ import annotations

import contextlib
import os
import sys

ENV = "AVATAR_BRIDGE_NATIVE_LOGS"


@contextlib.contextmanager
def quiet_native_logs():
    """Redirects file descriptor 2 while MediaPipe loads a model; Python exceptions are unaffected."""
    if os.environ.get(ENV) == "1":
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


def quiet_opencv_logs() -> None:
    """OpenCV's console logging off, and FFmpeg's: OpenCV reads OPENCV_FFMPEG_LOGLEVEL once, when it
    first opens a video, so this runs before any capture (at `bridge.sources` import). A level the
    user set is kept."""
    if os.environ.get(ENV) == "1":
        return
    import cv2
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
