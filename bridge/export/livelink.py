"""Recording -> Unreal Live Link Face CSV (the file the Live Link Face app exports per take).

Layout (one header line, then one row per frame, comma-separated, no quoting):

    Timecode,BlendShapeCount,EyeBlinkLeft,...,TongueOut,HeadYaw,HeadPitch,HeadRoll,
    LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll

* the 52 shapes in Live Link Face's order (Epic's `EARFaceBlendShape`, which differs from
  Apple's documentation order: JawRight before JawLeft, MouthRight before MouthLeft) and
  capitalisation (`EyeBlinkLeft`), values 0..1;
* `BlendShapeCount` is 61 (52 shapes + 9 rotations), as the app writes it;
* `Timecode` is `HH:MM:SS:FF.mmm`: frames `FF` at the recording's frame rate (rounded to an
  integer, as SMPTE timecode is) and `.mmm` the sub-frame fraction, counted from 00:00:00:00.000
  at the first frame (the app uses time of day; importers use differences);
* rotations in **radians**, as ARKit reports them and the app writes them: `HeadYaw` positive
  when the head turns to its right, `HeadPitch` positive when it looks up, `HeadRoll` positive
  when it tilts towards its right shoulder; `*EyeYaw` positive looking right, `*EyePitch`
  positive looking up, `*EyeRoll` always 0 (eyes do not roll).

Sides are the avatar's, as in everything the sidecar sends: a recording made with the default
`mirror = true` exports the reflection (your left blink is `EyeBlinkRight`), as it drove the
avatar; record with `--no-mirror` for first-person data.
"""
from __future__ import annotations

import math
from pathlib import Path

from ..arkit import ARKIT_NAMES, INDEX
from ..frame import Person, timeline
from ..progress import Progress
from ..recording import RecordingReader
from ..retarget import quat

# Epic's EARFaceBlendShape order (ARKit's order in the LLF app and its CSV).
LIVELINK_SHAPES: tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft", "EyeSquintLeft",
    "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight", "JawForward", "JawRight", "JawLeft", "JawOpen", "MouthClose", "MouthFunnel",
    "MouthPucker", "MouthRight", "MouthLeft", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft",
    "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft", "MouthPressRight",
    "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft", "MouthUpperUpRight", "BrowDownLeft",
    "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft",
    "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight", "TongueOut",
)
ROTATIONS: tuple[str, ...] = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                              "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
HEADER: tuple[str, ...] = ("Timecode", "BlendShapeCount") + LIVELINK_SHAPES + ROTATIONS
BLEND_SHAPE_COUNT = len(LIVELINK_SHAPES) + len(ROTATIONS)  # 61
# For each Live Link column, the index of that shape in ARKIT_NAMES (our order, camelCase).
_ORDER = [INDEX[n[0].lower() + n[1:]] for n in LIVELINK_SHAPES]
assert sorted(_ORDER) == list(range(len(ARKIT_NAMES)))


def timecode(t: float, fps: float) -> str:
    """Seconds -> `HH:MM:SS:FF.mmm` at an integer frame rate (`round(fps)`)."""
    rate = max(1, round(fps))
    frames_total = max(t, 0.0) * rate
    whole = math.floor(frames_total + 1e-6)
    sub = min(max(frames_total - whole, 0.0), 0.999)
    ff = whole % rate
    secs = whole // rate
    return f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}:{ff:02d}.{int(sub * 1000):03d}"


def rotations(f: Person) -> list[float]:
    """The 9 rotation columns (radians, Live Link Face signs) from a person's avatar-space face."""
    # Unity's Quaternion.Euler decomposition: pitch about X (+ = down), yaw about Y (+ = right), roll about Z
    # (+ = right ear up, i.e. tilting to the left).
    pitch, yaw, roll = quat.to_euler_deg(f.face.head_rotation)
    lp, ly, rp, ry = (float(a) for a in f.face.eye_angles_deg)  # Unity signs: + pitch = down, + yaw = right
    r = math.radians
    return [r(yaw), r(-pitch), r(-roll), r(ly), r(-lp), 0.0, r(ry), r(-rp), 0.0]


def row(f: Person, t: float, fps: float) -> list[str]:
    shapes = f.face.blendshapes
    return ([timecode(t, fps), str(BLEND_SHAPE_COUNT)] + [f"{float(shapes[i]):.6f}" for i in _ORDER] +
            [f"{v:.6f}" for v in rotations(f)])


def export_livelink(recording: str | Path, out: str | Path, fps: float | None = None, progress: bool = False) -> int:
    """Write `out` from `recording`; returns the number of rows. `fps` overrides the recording's rate."""
    reader = RecordingReader(recording)
    frames = reader.frames()
    people = timeline(frames)
    frames = frames[len(frames) - len(people):]
    rate = fps or reader.fps
    t0 = frames[0].source_time if frames else 0.0
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as fh, \
            Progress(len(frames), f"Live Link CSV {out.name}", "frames", enabled=progress) as bar:
        fh.write(",".join(HEADER) + "\n")
        for f, p in zip(frames, people):
            fh.write(",".join(row(p, f.source_time - t0, rate)) + "\n")
            bar.update()
    return len(frames)
