from pathlib import Path

from bridge.config import from_tables
from bridge.pipeline import Pipeline
from bridge.sources import open_source


def run_frames(path: Path, tracker, tables: dict | None = None, max_frames: int | None = None):
    """Run the real pipeline (no transports) over a file as fast as possible; return every frame.
    `tracker`: a shared VIDEO-mode FaceTracker, or None for the pipeline's own (IMAGE mode for pictures)."""
    base = {"vmc": {"enabled": False}, "websocket": {"enabled": False},
            "calibration": {"profile": str(Path("/nonexistent/avatar-bridge-test-profile.json"))}}
    for k, v in (tables or {}).items():
        base.setdefault(k, {}).update(v)
    cfg = from_tables(base)
    frames = []
    if tracker is not None:
        tracker.forget()  # the session's shared tracker saw another video last
    p = Pipeline(cfg, open_source(str(path), fast=True), max_frames=max_frames, tracker=tracker)
    p.listeners.append(frames.append)
    p.run()
    return frames
