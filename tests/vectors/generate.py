"""Writes the golden wire vectors that the Python, Unity and Godot sides are all tested against.

Run `python tests/vectors/generate.py` after an intended protocol change; tests/test_vectors.py
fails while the committed files differ from what the encoders produce.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from bridge.arkit import ARKIT_NAMES
from bridge.frame import AvatarFrame, FaceState, Parameters, Person
from bridge.protocols import jsonframe, vmc, vrchat
from bridge.retarget.avatar import mirror_face

HERE = Path(__file__).resolve().parent
# What schema 3 added to each person; a schema 2 message is the schema 3 one without them.
V3_PERSON_KEYS = ("slot", "name", "similarity", "box")
# The two-person hello's routes: where each slot's and each routed name's frames go.
ROUTES = {"max": 2, "routes": [
    {"slot": 1, "outputs": ["VMC udp://127.0.0.1:39539"]},
    {"slot": 2, "outputs": ["VMC udp://127.0.0.1:39540"]},
    {"name": "B", "outputs": ["VMC udp://127.0.0.1:39545"]},
]}


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


def two_people_frame() -> AvatarFrame:
    """The golden frame with two people in slot order, ids unlike their slots: slot 1 is id 7,
    enrolled "A"; slot 2 is id 3, enrolled "B", with other shapes, head, root, events and
    parameters, so a receiver that follows slot 2 or "B" can be told from one that follows slot 1."""
    f = golden_frame()
    a = dataclasses.replace(f.people[0], id=7, slot=1, name="A", similarity=0.9125,
                            box=np.array([0.05, 0.1, 0.45, 0.95]),
                            parameters=Parameters(("Happy",), np.array([True]), (), np.zeros(0, np.float32)))
    s = np.sqrt(0.5)
    blend_b = np.round(1.0 - a.blend_values, 4).astype(np.float32)
    face_b = dataclasses.replace(a.face, blendshapes=blend_b, head_rotation=np.array([0.0, -s, 0.0, s]),
                                 head_position=np.array([-0.04, 0.05, -0.06]))
    b = dataclasses.replace(
        a, id=3, slot=2, name="B", similarity=0.8675, box=np.array([0.55, 0.2, 0.95, 0.9]),
        face=face_b, subject=mirror_face(face_b), blend_values=blend_b,
        bone_rotations=np.array([[0.0, 0.0, 0.0, 1.0], face_b.head_rotation, a.face.left_eye, a.face.right_eye]),
        root_position=np.array([0.5, 0.0, -0.25]), classes={"action": {"wave": 0.8}},
        events=[{"type": "action", "name": "wave", "value": 0.8}],
        parameters=Parameters(("Wave",), np.array([False]), ("Smile",), np.array([0.75], np.float32)))
    return dataclasses.replace(f, seq=43, people=[a, b])


def _as_schema_2(message: str) -> bytes:
    """A schema 3 message as a schema 2 sidecar sent it: "v": 2 and no v3 person keys."""
    msg = json.loads(message)
    msg["v"] = 2
    for person in msg.get("people", []):
        for key in V3_PERSON_KEYS:
            del person[key]
    return json.dumps(msg, separators=(",", ":")).encode() + b"\n"


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
    hello = jsonframe.hello(p.blend_names, p.bone_names, mirror=True).replace(
        '"version":"' + __import__("bridge").__version__ + '"', '"version":"0.0.0"')
    files["ws_hello.json"] = hello.encode() + b"\n"
    files["ws_frame.json"] = jsonframe.frame_message(f).encode() + b"\n"
    files["ws_hello_people.json"] = jsonframe.hello(p.blend_names, p.bone_names, mirror=True, people=ROUTES).replace(
        '"version":"' + __import__("bridge").__version__ + '"', '"version":"0.0.0"').encode() + b"\n"
    files["ws_frame_people.json"] = jsonframe.frame_message(two_people_frame()).encode() + b"\n"
    files["ws_hello_v2.json"] = _as_schema_2(hello)
    files["ws_frame_v2.json"] = _as_schema_2(jsonframe.frame_message(f))
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

Written by `generate.py` from one fixed frame (`golden_frame()`, and `two_people_frame()`: its
person beside a second one): every engine-side parser is tested against these same bytes.

| file | what it holds |
|---|---|
| `vmc_frame_N.bin` | the VMC OSC bundles of one frame, in send order: OK, T, Root/Pos, Bone/Pos (Neck, Head, LeftEye, RightEye), Blend/Val x52 (ARKit names, values `linspace(0, 1, 52)` rounded to 4 places), Blend/Apply |
| `vmc_key_event.bin` | the frame's trigger event as one OSC message (sent in a bundle before the frame's): `/VMC/Ext/Key` `i 1, s "expression:happy", i 0` |
| `vrchat_N.bin` | single OSC messages: `/avatar/parameters/v2/JawOpen` 0.5, `/avatar/parameters/v2/EyeLeftX` -0.25, `/avatar/parameters/MouthSmile` 1.0, `/tracking/eye/LeftRightPitchYaw` 0 10 10 0, `/tracking/eye/EyesClosedAmount` 0.25 |
| `ws_hello.json`, `ws_frame.json`, `ws_reply.json` | the WebSocket JSON messages of schema 3 (one per file; `version` in hello set to 0.0.0); the frame's one person is id 0, slot 1, `name` null |
| `ws_hello_people.json`, `ws_frame_people.json` | two people (`two_people_frame()`, seq 43), in slot order: slot 1 is id 7 named "A" (the golden person's values), slot 2 is id 3 named "B" (shapes `1 - linspace(0, 1, 52)`, head (0, -0.7071068, 0, 0.7071068), root (0.5, 0, -0.25), event action:wave 0.8, parameters Wave false, Smile 0.75); the hello carries `people` (max 2 and the routes) |
| `ws_hello_v2.json`, `ws_frame_v2.json` | the same hello and frame as a schema 2 sidecar sent them: `"v": 2`, persons without `slot`, `name`, `similarity` and `box` |

Expected decoded values: head rotation (0, 0.7071068, 0, 0.7071068) (90 degrees about +Y, in
Unity's left-handed frame); left eye (0, 0.0871557, 0, 0.9961947); right eye (0.0871557, 0, 0,
0.9961947); frame seq 42; T = 12.5; /VMC/Ext/OK args 1 3 0 1.
"""

if __name__ == "__main__":
    main()
