"""Stream a recording to every enabled transport at its original timing: no camera, no model.

Uses the same encoders (`bridge.protocols`) and senders (`bridge.transports`) as the live
pipeline, so a receiver cannot tell a replay from a live session: VMC and WebSocket get the
recorded avatar-space frames as they were sent; VRChat OSC gets the first-person face (the
recording is un-mirrored when it was recorded mirrored) mapped with the replay config's
`[vrchat] names`. Frames are scheduled on the recording's `source_time` (divided by `speed`)
against a monotonic clock, so timing errors do not accumulate; with `loop` the recording
restarts one frame interval after its last frame, with `seq` and the clock continuing.

This module must never import the tracker (bridge.tracking, bridge.pipeline) nor mediapipe.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .arkit import INDEX
from .config import Config
from .errors import BridgeError
from .frame import AvatarFrame
from .mapping import Mapper, load_preset, merge
from .protocols import jsonframe, vmc, vrchat
from .protocols.jsonframe import Control
from .recording import RecordingReader
from .retarget.avatar import mirror_face
from .transports.udp import UdpSender

log = logging.getLogger("avatar_bridge.replay")
BLINKS = [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]


@dataclass
class ReplayStats:
    frames: int = 0
    loops: int = 0
    duration_s: float = 0.0
    max_lag_ms: float = 0.0
    damage: str | None = None


class _Control:
    """Answers WebSocket control messages during a replay (ping, pause, resume)."""

    def __init__(self):
        self.paused = threading.Event()

    def submit(self, control: Control, fut: Future) -> None:
        c = control.command
        if c == "ping":
            fut.set_result((True, "pong"))
        elif c == "pause":
            self.paused.set()
            fut.set_result((True, "paused: replay stopped"))
        elif c == "resume":
            self.paused.clear()
            fut.set_result((True, "resumed"))
        else:
            fut.set_result((False, f"{c} is not available while replaying a recording"))


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

    vmc_out = UdpSender(cfg.vmc.host, cfg.vmc.port, "VMC") if cfg.vmc.enabled else None
    vrc_out = UdpSender(cfg.vrchat.host, cfg.vrchat.port, "VRChat OSC") if cfg.vrchat.enabled else None
    if cfg.vrchat.names == "unified":
        vrc_mapper = Mapper(load_preset("vrchat_unified"))
    else:
        vrc_mapper = Mapper(merge(load_preset(cfg.mapping.preset), cfg.mapping.spec, cfg.mapping.drop))
    vrc_filter = vrchat.ChangeFilter()
    ws = None
    control = _Control()
    names = (frames[0].blend_names, frames[0].bone_names)
    t0 = time.monotonic()
    seq = 0
    try:
        if cfg.websocket.enabled:
            from .transports.websocket import WebSocketServer
            ws = WebSocketServer(cfg.websocket.host, cfg.websocket.port, jsonframe.hello(*names, mirrored),
                                 control.submit)
            ws.start()
        if on_start is not None:
            on_start()
        t0 = time.monotonic()
        while not stop.is_set():
            for f in frames:
                if stop.is_set() or (max_frames is not None and seq >= max_frames):
                    return stats
                due = t0 + (stats.loops * period + f.source_time - t_first) / speed
                while True:
                    wait = due - time.monotonic()
                    if wait <= 0 or stop.wait(min(wait, 0.1)):
                        break
                while control.paused.is_set() and not stop.is_set():
                    paused_at = time.monotonic()
                    stop.wait(0.05)
                    t0 += time.monotonic() - paused_at
                stats.max_lag_ms = max(stats.max_lag_ms, (time.monotonic() - due) * 1000)
                out = replace(f, seq=seq, capture_time=time.time(),
                              source_time=stats.loops * period + f.source_time)
                if ws is not None and (f.blend_names, f.bone_names) != names:
                    names = (f.blend_names, f.bone_names)
                    ws.publish_hello(jsonframe.hello(*names, mirrored))
                _send(out, time.monotonic() - t0, vmc_out, vrc_out, vrc_mapper, vrc_filter, cfg, ws, mirrored)
                seq += 1
                stats.frames = seq
                if on_frame is not None:
                    on_frame(out)
            if not loop:
                break
            stats.loops += 1
    finally:
        stats.duration_s = time.monotonic() - t0
        for s in (vmc_out, vrc_out):
            if s is not None:
                s.close()
        if ws is not None:
            ws.stop()  # a no-op when it failed to start
    return stats


def _send(frame: AvatarFrame, uptime: float, vmc_out, vrc_out, vrc_mapper, vrc_filter, cfg: Config, ws,
          mirrored: bool) -> None:
    if vmc_out is not None:
        vmc_out.send(vmc.encode_vmc(frame, uptime))
    if vrc_out is not None:
        subject = mirror_face(frame.face) if mirrored else frame.face  # VRChat is first person
        values = vrc_mapper.apply(subject.blendshapes)
        idx = vrc_filter.select(values, time.monotonic())
        msgs = vrchat.encode_parameters(vrc_mapper.names, values, idx)
        if cfg.vrchat.eye_tracking and subject.found:
            msgs += vrchat.encode_eye_tracking(subject.eye_angles_deg, float(subject.blendshapes[BLINKS].mean()))
        vrc_out.send(msgs)
    if ws is not None and ws.client_count:
        ws.publish_frame(jsonframe.frame_message(frame), bool(frame.events))
