"""Running figures of a pipeline: frames, faces found, fps, latency and per-stage timings."""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .frame import AvatarFrame


@dataclass
class Stats:
    frames: int = 0
    faces: int = 0
    started: float = field(default_factory=time.monotonic)
    # (monotonic end time, latency ms): latency is capture to sent, on this machine
    recent: deque = field(default_factory=lambda: deque(maxlen=60))
    stage_ms: dict[str, deque] = field(default_factory=dict)

    def add(self, frame: AvatarFrame) -> None:
        self.frames += 1
        self.faces += frame.found
        self.recent.append((time.monotonic(), (time.time() - frame.capture_time) * 1000))
        for k, v in frame.timings_ms.items():
            self.stage_ms.setdefault(k, deque(maxlen=300)).append(v)

    @property
    def fps(self) -> float:
        if len(self.recent) < 2:
            return 0.0
        span = self.recent[-1][0] - self.recent[0][0]
        return (len(self.recent) - 1) / span if span > 0 else 0.0

    @property
    def latency_ms(self) -> float:
        return float(np.median([lat for _, lat in self.recent])) if self.recent else 0.0

    def medians(self) -> dict[str, float]:
        return {k: float(np.median(v)) for k, v in self.stage_ms.items()}
