"""Stream a recording to every enabled transport at its original timing: no camera, no model.

Sends through the same `Outputs` as the live pipeline, so a receiver cannot tell a replay from
the live session that recorded it: VMC and WebSocket get the recorded avatar-space frames,
VRChat OSC the first-person face (from the recording) mapped with the replay config's
`[vrchat] names`, plus the recorded `[reactions]` parameters. Control messages are answered by
the same `Controller` as a live run (ping, pause, resume; the rest say they are not available).
Frames are scheduled on the recording's `source_time` (divided by `speed`) against a monotonic
clock, so timing errors do not accumulate; with `loop` the recording restarts one frame interval
after its last frame, with `seq` and the clock continuing.

This module must never import the tracker (bridge.tracking, bridge.pipeline) nor mediapipe.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .config import Config
from .control import Controller
from .errors import BridgeError
from .frame import AvatarFrame
from .outputs import Outputs
from .recording import RecordingReader

log = logging.getLogger("avatar_bridge.replay")


@dataclass
class ReplayStats:
    frames: int = 0
    loops: int = 0
    duration_s: float = 0.0
    max_lag_ms: float = 0.0
    damage: str | None = None


def _load(path: Path) -> tuple[RecordingReader, list[AvatarFrame]]:
    reader = RecordingReader(path)
    frames = reader.frames()
    if not frames:
        raise BridgeError(f"{path}: the recording has no readable frames" +
                          (f" ({reader.damage})" if reader.damage else ""))
    return reader, frames


def replay(path: str | Path, cfg: Config, loop: bool = False, max_frames: int | None = None, speed: float = 1.0,
           stop: threading.Event | None = None, on_frame=None, on_start=None) -> ReplayStats:
    """Send `path` to the transports enabled in `cfg`; returns when done, after `max_frames`
    frames, or when `stop` is set. `on_start()` is called once the recording has been read and the
    transports are up (so nothing announces a replay that cannot happen); `on_frame(frame)` after
    each frame is sent."""
    if not speed > 0:
        raise BridgeError(f"--speed {speed}: must be greater than 0 (1 = original speed)")
    path = Path(path)
    reader, frames = _load(path)
    stats = ReplayStats(damage=reader.damage)
    mirrored = bool(reader.meta.get("mirror", True))
    stop = stop or threading.Event()
    t_first = frames[0].source_time
    span = frames[-1].source_time - t_first
    step = float(np.median(np.diff([f.source_time for f in frames]))) if len(frames) > 1 else 1 / 30
    period = span + (step if step > 0 else 1 / 30)

    control = Controller(unavailable="while replaying a recording")
    outputs = Outputs(cfg, control.submit, mirror=mirrored, dashboard=False, measure=False)
    first = next(f.people[0] for f in frames if f.people)  # a recording starts with a person (Recording.write)
    t0 = time.monotonic()
    seq = 0
    try:
        outputs.start((first.blend_names, first.bone_names))
        if on_start is not None:
            on_start()
        t0 = time.monotonic()
        while not stop.is_set():
            for f in frames:
                if stop.is_set() or (max_frames is not None and seq >= max_frames):
                    return stats
                due = t0 + (stats.loops * period + f.source_time - t_first) / speed
                while True:
                    control.run_pending()
                    wait = due - time.monotonic()
                    if wait <= 0 or stop.wait(min(wait, 0.05)):
                        break
                while control.paused and not stop.is_set():
                    paused_at = time.monotonic()
                    stop.wait(0.05)
                    control.run_pending()
                    t0 += time.monotonic() - paused_at
                stats.max_lag_ms = max(stats.max_lag_ms, (time.monotonic() - due) * 1000)
                out = replace(f, seq=seq, capture_time=time.time(), source_time=stats.loops * period + f.source_time)
                outputs.send(out)
                seq += 1
                stats.frames = seq
                if on_frame is not None:
                    on_frame(out)
            if not loop:
                break
            stats.loops += 1
    finally:
        stats.duration_s = time.monotonic() - t0
        outputs.close()
    return stats

