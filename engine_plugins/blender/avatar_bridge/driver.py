"""The live session: a receiver thread, a ~60 Hz `bpy.app.timers` callback that applies the
newest frame to the armature and shape keys, and recording into Actions. One session at a time,
owned by this module and gone after `stop()` (unregister calls it)."""
from __future__ import annotations

import time

import bpy

from . import convert, mapping
from .receiver import Receiver, VmcReceiver, WebSocketReceiver

INTERVAL_S = 1 / 60
REDRAW_S = 0.25


class Session:
    def __init__(self, receiver: Receiver):
        self.receiver = receiver
        self.applied = 0
        self.errors = 0
        self.last_error = ""
        self.recording = False
        self.record_start = 0
        self.record_t0: float | None = None
        self.keyed_frames: set[int] = set()
        self.channels: set[str] = set()  # blendshape names seen on the wire (for auto-mapping)
        self._targets = None  # (armature name, bone map, rest, plan) cached until the map changes
        self._redraw_t = 0.0


_session: Session | None = None


def session() -> Session | None:
    return _session


def start(settings) -> Session:
    """Start receiving with the scene's settings (stopping any earlier session)."""
    global _session
    stop()
    if settings.protocol == "VMC":
        rx: Receiver = VmcReceiver(settings.vmc_host, settings.vmc_port)
    else:
        rx = WebSocketReceiver(settings.ws_url)
    _session = Session(rx)
    follow(settings)
    rx.start()
    if not bpy.app.timers.is_registered(tick):
        bpy.app.timers.register(tick, first_interval=INTERVAL_S)
    return _session


def follow(settings) -> None:
    """Point the running WebSocket session at the settings' slot / name."""
    rx = _session.receiver if _session is not None else None
    if isinstance(rx, WebSocketReceiver):
        rx.reader.follow_slot, rx.reader.follow_name = settings.follow_slot, settings.follow_name.strip()


def stop() -> None:
    global _session
    if bpy.app.timers.is_registered(tick):
        bpy.app.timers.unregister(tick)
    if _session is not None:
        _session.receiver.stop()
    _session = None


def tick() -> float | None:
    """Timer callback: apply the newest frame (if any); never raises, errors are counted."""
    s = _session
    if s is None:
        return None
    f = s.receiver.take()
    if f is not None:
        try:
            apply_frame(bpy.context.scene, f)
        except Exception as e:  # a broken map or a deleted object must not raise 60 times a second
            s.errors += 1
            s.last_error = f"{type(e).__name__}: {e}"
    now = time.monotonic()
    if now - s._redraw_t > REDRAW_S:
        s._redraw_t = now
        for win in getattr(bpy.context.window_manager, "windows", ()):
            for area in win.screen.areas:
                if area.type == "VIEW_3D":
                    area.tag_redraw()
    return INTERVAL_S


def _targets(s: Session, arm):
    bmap = mapping.bone_map(arm)
    key = (arm.name, tuple(sorted(bmap.items())))
    if s._targets is None or s._targets[0] != key:
        rest = {u: tuple(arm.data.bones[b].matrix_local.to_quaternion()) for u, b in bmap.items()}
        s._targets = (key, bmap, rest, convert.fold_plan(bmap))
        for b in bmap.values():
            arm.pose.bones[b].rotation_mode = "QUATERNION"
    return s._targets[1:]


def apply_frame(scene, f) -> None:
    """Pose the scene's armature and shape keys from one wire.Frame (the running session's);
    key them while recording."""
    s = _session
    st = scene.avatar_bridge
    frame_no = None
    s.applied += 1
    s.channels.update(f.blends)
    if s.recording:
        now = time.monotonic()
        if s.record_t0 is None:
            s.record_t0 = now
        fps = scene.render.fps / scene.render.fps_base
        frame_no = s.record_start + round((now - s.record_t0) * fps)
        s.keyed_frames.add(frame_no)
    arm = st.armature
    if arm is not None and arm.type == "ARMATURE":
        bmap, rest, plan = _targets(s, arm)
        basis = convert.basis_rotations(f.bones, rest, plan, f.root_rot if st.apply_root else None)
        for u, q in basis.items():
            pb = arm.pose.bones[bmap[u]]
            pb.rotation_quaternion = q
            if frame_no is not None:
                pb.keyframe_insert("rotation_quaternion", frame=frame_no, group=pb.name)
        if st.apply_root and "Hips" in bmap:
            pb = arm.pose.bones[bmap["Hips"]]
            pb.location = convert.hips_location(f.root_pos, rest["Hips"])
            if frame_no is not None:
                pb.keyframe_insert("location", frame=frame_no, group=pb.name)
    for item in st.shape_map:
        v = f.blends.get(item.source)
        keys = item.object.data.shape_keys if item.object is not None else None
        if v is None or keys is None or item.key not in keys.key_blocks:
            continue
        kb = keys.key_blocks[item.key]
        kb.value = v
        if frame_no is not None:
            kb.keyframe_insert("value", frame=frame_no)


def start_recording(scene) -> None:
    s = _session
    s.recording, s.record_start, s.record_t0 = True, scene.frame_current, None
    s.keyed_frames = set()


def stop_recording(scene) -> list[str]:
    """Stop keying; returns the names of the Actions that received keys."""
    s = _session
    s.recording = False
    st = scene.avatar_bridge
    owners = [st.armature] + list({i.object.data.shape_keys for i in st.shape_map
                                   if i.object is not None and i.object.data.shape_keys})
    actions = [o.animation_data.action.name for o in owners
               if o is not None and o.animation_data and o.animation_data.action]
    if s.keyed_frames:
        scene.frame_end = max(scene.frame_end, max(s.keyed_frames))
    return actions
