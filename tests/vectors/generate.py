"""Writes the golden wire vectors that the Python, Unity and Godot sides are all tested against.

Run `python tests/vectors/generate.py` after an intended protocol change; tests/test_vectors.py
fails while the committed files differ from what the encoders produce.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from bridge.arkit import ARKIT_NAMES
from bridge.frame import AvatarFrame, FaceState, Person
from bridge.protocols import jsonframe, vmc, vrchat
from bridge.retarget.avatar import mirror_face

HERE = Path(__file__).resolve().parent


def golden_frame() -> AvatarFrame:
    """A fixed frame whose every field has a distinct, checkable value."""
    blend = np.round(np.linspace(0.0, 1.0, len(ARKIT_NAMES)), 4).astype(np.float32)
    s = np.sqrt(0.5)
    face = FaceState(
        found=True, presence=1.0, blendshapes=blend,
        head_rotation=np.array([0.0, s, 0.0, s]),  # 90 degrees about +Y: looking to its right
        head_position=np.array([0.01, -0.02, 0.03]),
        left_eye=np.array([0.0, 0.0871557, 0.0, 0.9961947]),  # 10 degrees yaw right
        right_eye=np.array([0.0871557, 0.0, 0.0, 0.9961947]),  # 10 degrees pitch down
        eye_angles_deg=np.array([0.0, 10.0, 10.0, 0.0]),
    )
    person = Person(
        id=0, face=face, subject=mirror_face(face),  # the hello says mirror: the subject is the reflection
        blend_names=ARKIT_NAMES, blend_values=blend,
        bone_names=("Neck", "Head", "LeftEye", "RightEye"),
        bone_rotations=np.array([[0.0, 0.0, 0.0, 1.0], face.head_rotation, face.left_eye, face.right_eye]),
        bone_positions=np.zeros((4, 3)),
        root_position=np.array([0.0, 0.0, 0.0]), root_rotation=np.array([0.0, 0.0, 0.0, 1.0]),
        classes={"expression": {"happy": 0.9, "neutral": 0.1}},
        events=[{"type": "expression", "name": "happy", "state": "start", "value": 0.9}],
    )
    return AvatarFrame(seq=42, capture_time=1764000000.25, source_time=1.5, people=[person],
                       timings_ms={"track": 8.5, "total": 9.25})


def write_all() -> dict[str, bytes]:
    f = golden_frame()
    p = f.people[0]
    files: dict[str, bytes] = {}
    plain = dataclasses.replace(p, events=[])
    for i, packet in enumerate(vmc.encode_vmc(plain, uptime_s=12.5)):
        files[f"vmc_frame_{i}.bin"] = packet
    files["vmc_key_event.bin"] = vmc.encode_key_events(p.events)[0]
    names = ("v2/JawOpen", "v2/EyeLeftX", "MouthSmile")
    msgs = vrchat.encode_parameters(names, np.array([0.5, -0.25, 1.0]), np.arange(3))
    msgs += vrchat.encode_eye_tracking(np.array([0.0, 10.0, 10.0, 0.0]), 0.25)
    for i, m in enumerate(msgs):
        files[f"vrchat_{i}.bin"] = m
    files["ws_hello.json"] = jsonframe.hello(p.blend_names, p.bone_names, mirror=True).replace(
        '"version":"' + __import__("bridge").__version__ + '"', '"version":"0.0.0"').encode() + b"\n"
    files["ws_frame.json"] = jsonframe.frame_message(f).encode() + b"\n"
    files["ws_reply.json"] = jsonframe.reply("c1", "calibrate", True, "calibrating neutral face").encode() + b"\n"
    return files


def main() -> None:
    for name in HERE.glob("*.bin"):
        name.unlink()
    for name, data in write_all().items():
        (HERE / name).write_bytes(data)
    (HERE / "README.md").write_text(README)
    print(f"wrote {len(write_all())} vectors to {HERE}")


README = """# Golden wire vectors

Written by `generate.py` from one fixed frame (`golden_frame()`): every engine-side parser is
tested against these same bytes.

| file | what it holds |
|---|---|
| `vmc_frame_N.bin` | the VMC OSC bundles of one frame, in send order: OK, T, Root/Pos, Bone/Pos (Neck, Head, LeftEye, RightEye), Blend/Val x52 (ARKit names, values `linspace(0, 1, 52)` rounded to 4 places), Blend/Apply |
| `vmc_key_event.bin` | the frame's trigger event as one OSC message (sent in a bundle before the frame's): `/VMC/Ext/Key` `i 1, s "expression:happy", i 0` |
| `vrchat_N.bin` | single OSC messages: `/avatar/parameters/v2/JawOpen` 0.5, `/avatar/parameters/v2/EyeLeftX` -0.25, `/avatar/parameters/MouthSmile` 1.0, `/tracking/eye/LeftRightPitchYaw` 0 10 10 0, `/tracking/eye/EyesClosedAmount` 0.25 |
| `ws_hello.json`, `ws_frame.json`, `ws_reply.json` | the WebSocket JSON messages (one per file; `version` in hello set to 0.0.0) |

Expected decoded values: head rotation (0, 0.7071068, 0, 0.7071068) (90 degrees about +Y, in
Unity's left-handed frame); left eye (0, 0.0871557, 0, 0.9961947); right eye (0.0871557, 0, 0,
0.9961947); frame seq 42; T = 12.5; /VMC/Ext/OK args 1 3 0 1.
"""

if __name__ == "__main__":
    main()
