"""VRChat avatar parameters for `VrchatOutput`: the current avatar's plan and each frame's messages.

Until VRChat's avatar is known (no OSCQuery answer, `oscquery = false`, `--vrchat HOST:PORT`) the
fallback plan sends every output as a float to `[vrchat] host:port`. Once `AvatarDiscovery` has
read an avatar (on its thread), a new (plan, sender) pair, built there, replaces the old one in a
single assignment; the frame path reads that pair once per frame and never waits on the network.

VRChat's tracking status outputs arrive on its listening thread: they are logged when they change, and an
avatar that uses VRChat's own Face Tracking but has none of our parameters gets a warning, since its
face would not move (VRChat's direct OSC face-tracking input is not among our outputs).
"""
from __future__ import annotations

import dataclasses
import logging

import numpy as np

from .config import VrchatSettings
from .frame import FaceState
from .protocols import vrchat, vrchat_avatar
from .protocols.vrchat_avatar import Avatar, TrackingStatus
from .transports.udp import UdpSender

log = logging.getLogger("avatar_bridge.vrchat")


class VrchatParameters:
    def __init__(self, names: tuple[str, ...], settings: VrchatSettings, sender: UdpSender):
        self.names = names
        self.eye_mode = settings.eye_tracking
        self._state = (vrchat_avatar.fallback_plan(names, self.eye_mode), sender)
        self._senders = [sender]
        self._sent_plan = None
        self.filter = vrchat.ChangeFilter()
        self.status = TrackingStatus()
        self._warned: str | None = None  # the avatar id last warned about
        self.discovery = None
        if settings.oscquery:
            from .transports.oscquery import AvatarDiscovery
            try:
                self.discovery = AvatarDiscovery(self._on_avatar, (settings.host, settings.port), self._on_status)
            except OSError as e:
                log.warning("VRChat OSCQuery: cannot open our loopback sockets (%s); sending every parameter "
                            "to %s:%s", e, settings.host, settings.port)
            else:
                self.discovery.start()

    @property
    def plan(self) -> vrchat_avatar.Plan:
        return self._state[0]

    def _on_avatar(self, address: tuple[str, int], avatar: Avatar) -> None:
        """On the discovery thread: the avatar's plan, and a sender to where VRChat listens."""
        plan = vrchat_avatar.avatar_plan(self.names, avatar, self.eye_mode)
        sender = next((s for s in self._senders if s.address[:2] == address), None)
        if sender is None:
            sender = UdpSender(address[0], address[1], "VRChat OSC")
            self._senders.append(sender)
        log.info("VRChat %s", plan.summary())
        log.debug("VRChat avatar: driving %s; lacking %s; not ours %s", ", ".join(plan.address),
                  ", ".join(plan.lacking), ", ".join(plan.undriven))
        self._state = (plan, sender)
        self._check_face()

    def _on_status(self, key: str, value: bool) -> None:
        """On the discovery thread: one of VRChat's status bools (vrchat_avatar.STATUS_OUTPUTS)."""
        if getattr(self.status, key) == value:
            return
        self.status = dataclasses.replace(self.status, **{key: value})
        said = {"eye": "eye tracking data is available (UserEyeTracking: the headset's or our /tracking/eye)"
                       if value else "no eye tracking data (UserEyeTracking)",
                "face": f"a face tracking source is {'' if value else 'not '}active (UserFaceTracking)",
                "full_face": f"the avatar {'uses' if value else 'does not use'} Face Tracking with Use All Tracking Keys"}
        log.info("VRChat reports: %s", said[key])
        self._check_face()

    def _check_face(self) -> None:
        plan = self._state[0]
        if not (self.status.full_face and plan.avatar is not None) or self._warned == plan.avatar.id:
            return
        if plan.size == plan.eye_status_slot.size + plan.face_status_slot.size:
            self._warned = plan.avatar.id
            log.warning("VRChat: avatar %s uses VRChat's Face Tracking but has none of the avatar parameters "
                        "avatar-bridge drives (v2/... names, as VRCFaceTracking's), so its face will not move; "
                        "use an avatar set up for VRCFaceTracking parameters", plan.avatar.id or "(unknown id)")

    def messages(self, values: np.ndarray, face: FaceState, now: float) -> tuple[UdpSender, list[bytes]]:
        """Where to send this frame, and the avatar parameters (changed ones) plus native eyes."""
        plan, sender = self._state
        if plan is not self._sent_plan:  # a new avatar: everything goes out again
            self._sent_plan, self.filter = plan, vrchat.ChangeFilter()
        wire = vrchat_avatar.wire_values(plan, values, face.found and face.eyes_tracked, face.found)  # headset: eyes off
        msgs = vrchat_avatar.encode(plan, wire, self.filter.select(wire, now))
        if face.found and (plan.native_gaze or plan.native_lid):
            gaze, lid = vrchat.encode_eye_tracking(face.eye_angles_deg, vrchat.eyes_closed(face.blendshapes))
            msgs += [gaze] * plan.native_gaze + [lid] * plan.native_lid
        return sender, msgs

    def close(self) -> None:
        if self.discovery is not None:
            self.discovery.close()
        for s in self._senders[1:]:
            s.close()
