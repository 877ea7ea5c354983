"""Face + pose + hands through the whole pipeline: one bone list, unit quaternions, VMC packets that
fit one datagram each and that oscdump parses with every HumanBodyBones name."""
import socket
import time

import numpy as np

from bridge.protocols import vmc
from bridge.retarget.body import BODY_BONES
from bridge.retarget.hands import HAND_BONES
from conftest import FACE, FIXTURES, Oscdump, free_port
from helpers import run_frames


def test_pose_and_hands_join_the_frame(tracker):
    frames = run_frames(FACE / "expressions_pexels.mp4", tracker,
                        {"pose": {"enabled": True, "model": "lite"}, "hands": {"enabled": True}}, max_frames=60)
    assert len(frames) == 60
    names = frames[-1].people[0].bone_names
    assert names == BODY_BONES + ("LeftEye", "RightEye") + HAND_BONES
    for f in frames:
        p = f.people[0]
        assert p.bone_rotations.shape == (len(names), 4)
        np.testing.assert_allclose(np.linalg.norm(p.bone_rotations, axis=1), 1.0, atol=1e-6)
        assert {"face", "pose"} <= set(f.timings_ms)
    # the woman is seen from the chest up: upper-body mode keeps the hips still
    np.testing.assert_allclose(frames[-1].people[0].bone_rotations[names.index("Hips")], [0, 0, 0, 1], atol=1e-6)

    port = free_port()
    dump = Oscdump(port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    packets = vmc.encode_vmc(frames[-1].people[0], 1.0)
    assert all(len(p) <= 1472 for p in packets)
    for p in packets:
        s.sendto(p, ("127.0.0.1", port))
    s.close()
    time.sleep(0.3)
    lines = dump.stop()
    sent = {l.split('"')[1] for l in lines if "/VMC/Ext/Bone/Pos" in l}
    assert sent == set(names)


def test_hands_on_still_photos(tracker):
    frames = run_frames(FIXTURES / "gesture" / "palm", None, {"face": {"enabled": False}, "hands": {"enabled": True}},
                        max_frames=10)
    assert len(frames) == 10
    assert frames[0].people[0].blend_names == ()  # no face tracking: no blendshapes are sent at all
    fingers = [f.people[0].bone_rotations[4:] for f in frames]  # Neck, Head, eyes, then 30 finger bones
    moved = [np.any(np.abs(r[:, :3]) > 0.02) for r in fingers]
    assert sum(moved) >= 7  # hands found and posed in most of the photos
