"""What `avatar-bridge demo` prints: the destinations, one decoded frame, then a line a second."""
from __future__ import annotations

import time
from typing import TextIO

import numpy as np
from pythonosc.osc_bundle import OscBundle

from .protocols import vmc
from .retarget import quat


class Monitor:
    def __init__(self, out: TextIO, interval_s: float = 1.0):
        self.out = out
        self.interval_s = interval_s
        self._last = 0.0
        self._dumped = False

    def header(self, source: str, outputs: list[str]) -> None:
        self._print(f"avatar-bridge demo: {source}")
        for o in outputs:
            self._print(f"  sending {o}")
        self._print("  (Ctrl+C to stop; point VSeeFace/VNyan/EVMC4U at the VMC port to see an avatar move)")

    def on_frame(self, frame) -> None:
        """A status line a second; the first frame with a fully present face is also decoded, right
        after its own status line, so the two always describe the same frame."""
        if not frame.people:
            return
        p = frame.people[0]
        dump = not self._dumped and p.face.found and p.face.presence >= 1.0
        now = time.monotonic()
        if dump or now - self._last >= self.interval_s:
            self._last = now
            self._print(self._status(frame))
        if dump:
            self._dumped = True
            self._dump(frame)

    @staticmethod
    def _status(frame) -> str:
        p = frame.people[0]
        pitch, yaw, roll = quat.to_euler_deg(p.face.head_rotation)
        top = np.argsort(p.blend_values)[::-1][:4]
        shapes = " ".join(f"{p.blend_names[i]} {p.blend_values[i]:.2f}" for i in top)
        face = "face " if p.face.found else "NO FACE"
        return (f"t={frame.source_time:6.2f}s {face} head yaw {yaw:+5.1f} pitch {pitch:+5.1f} "
                f"roll {roll:+5.1f} | {shapes} | track {frame.timings_ms.get('track', 0):.1f} ms")

    def _dump(self, frame) -> None:
        packets = vmc.encode_vmc(frame.people[0], 0.0)
        self._print(f"that frame as VMC = {len(packets)} UDP datagrams ({sum(map(len, packets))} bytes), decoded:")
        shown = 0
        for p in packets:
            for m in OscBundle(p):
                if shown < 8 or m.address == "/VMC/Ext/Blend/Apply":
                    args = " ".join(f"{a:.3f}" if isinstance(a, float) else str(a) for a in m.params)
                    self._print(f"    {m.address} {args}")
                elif shown == 8:
                    self._print(f"    ... ({len(frame.people[0].blend_names)} /VMC/Ext/Blend/Val in all)")
                shown += 1

    def footer(self, stats) -> None:
        med = stats.medians()
        stages = " ".join(f"{k} {v:.2f}" for k, v in med.items())
        self._print(f"done: {stats.frames} frames, face in {stats.faces}; median ms per frame: {stages}")

    def _print(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()
