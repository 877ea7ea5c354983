"""The dashboard's 3D avatar (three.js + three-vrm, bridge/dashboard/static/avatar.js) in a real
browser with software WebGL, driven by a real sidecar tracking a real clip (face, body, hands).

The page's probe (`?probe=1`) records, for every frame it applied, what it received and what the
avatar then shows: expression weights, the normalized bones' local rotations (back in Unity's
frame) and its joints' world positions. Checked: (a) the avatar took exactly what the page got,
bones the model lacks folded as bridge/retarget/fold.py folds them; (b) its limbs point where an
independent MediaPipe run on the same video frames says the person's limbs point
(bridge/fidelity.py). A second case loads a VRM 0.x without upperChest or jaw through the page's
file picker: VRM 0.x conversion and folding.
"""
import os
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from blender_env import run_blender
from browser_env import HOLD, SETTLED, collect, gesture_clip, run_sidecar, severe_logs, wait_for, wide_chrome
from bridge import fidelity
from bridge.retarget import humanoid, quat
from bridge.retarget.fold import BoneFold
from bridge.retarget.vrm_file import read_vrm
from conftest import FIXTURES, ROOT

ARTIFACTS = Path(os.environ.get("AVATAR_BRIDGE_ARTIFACTS", ROOT / "test-artifacts"))
CLIP = FIXTURES / "body" / "ntu_S001C001P001R001A001_rgb.avi"  # the whole body; hands too small to measure
TEST_AVATAR = ROOT / "bridge" / "assets" / "test_avatar.vrm"
# A VRM 0.x from the VRM add-on's basic armature: no upperChest, no jaw, no mesh.
MAKE_VRM0 = """
import sys, bpy
import addon_utils  # only importable once bpy is
bpy.ops.wm.read_factory_settings(use_empty=True)
addon_utils.enable("io_scene_vrm", default_set=True)
bpy.ops.icyp.make_basic_armature()
next(o for o in bpy.data.objects if o.type == "ARMATURE").data.vrm_addon_extension.spec_version = "0.0"
bpy.ops.export_scene.vrm(filepath=sys.argv[1])
"""


@pytest.fixture(scope="module")
def chrome(tmp_path_factory):
    yield from wide_chrome(tmp_path_factory)


@pytest.fixture
def browser(chrome):
    """The shared browser; the page is left before its sidecar stops (tests name the sidecar first),
    so it logs no reconnect errors."""
    yield chrome
    chrome.get("about:blank")
    chrome.get_log("browser")


@pytest.fixture
def body_sidecar(tmp_path):
    yield from run_sidecar(CLIP, tmp_path)


@pytest.fixture
def gesture_sidecar(tmp_path):
    clip = gesture_clip(tmp_path / "gestures.avi")
    for port in run_sidecar(clip, tmp_path):
        yield port, clip


@pytest.fixture
def vrm0_sidecar(tmp_path):
    """The gesture photos (faces, arms, hands) with VRM 0.x expression names (A, Blink_L, Joy, ...)."""
    for port in run_sidecar(gesture_clip(tmp_path / "gestures.avi"), tmp_path, "--preset", "vrm0"):
        yield port


def t_pose_directions(record):
    """The body limbs' world directions (Unity frame) that the record's received rotations give a
    T-posed avatar: root * ... * parent * bone, applied to the bone's rest direction."""
    local = dict(zip(record["bones"], np.array(record["rot_in"])))
    world = {}

    def world_rot(b):
        if b not in world:
            p = humanoid.PARENT[b]
            world[b] = quat.multiply(world_rot(p) if p else np.array(record["root_rot"]), local.get(b, [0, 0, 0, 1.0]))
        return world[b]
    return {limb: humanoid.rotate(world_rot(a), humanoid.REST_DIR[a]) for limb, (a, _) in fidelity.LIMBS.items()
            if fidelity.group_of(limb) == "body"}


def check_applied(records, present):
    """(a): weights = received values; rotations = received ones, folded for the bones the model lacks."""
    bones = records[0]["bones"]
    fold = BoneFold(tuple(bones), frozenset(present))
    worst_w = worst_q = 0.0
    for r in records:
        for v, w, m in zip(r["blend_in"], r["weights"], r["matched"]):
            if m is not None:
                worst_w = max(worst_w, abs(v - w))
        expected = dict(zip(fold.names, fold.apply(np.array(r["rot_in"]))))
        got = {b: q for b, q in zip(r["bones"], r["rot_out"]) if q is not None}
        assert set(got) == set(expected), f"driven bones {sorted(set(got) ^ set(expected))} differ from the fold's"
        for b, q in got.items():
            worst_q = max(worst_q, float(np.max(np.abs(np.array(q) - expected[b]))))
    assert worst_w < 1e-4 and worst_q < 1e-4, f"read back differs: weights by {worst_w}, rotations by {worst_q}"
    return worst_w, worst_q


def measure(browser, port, clip, wanted, keep, what, face):
    """Open the page on the sidecar, collect, check (a) and measure (b); returns the summary per limb group."""
    cap = cv2.VideoCapture(str(clip))
    fps, nframes = cap.get(cv2.CAP_PROP_FPS), int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    browser.get(f"http://127.0.0.1:{port}/?probe=1")
    status = browser.find_element("id", "avatar-status")
    wait_for(lambda: "bones driven" in status.text, what=f"the avatar to load (status: {status.text!r})")
    t0 = time.time()
    records = collect(browser, wanted, fps, nframes, keep)
    took = time.time() - t0
    assert not severe_logs(browser)
    span = records[-1]["seq"] - records[0]["seq"] + 1
    print(f"\n{what}: {len(records)} frames applied ({len({r['frame'] for r in records})} video frames) in {took:.0f} s, "
          f"{span} sent meanwhile; status: {status.text}")
    assert records[0]["model"] == "avatar.vrm (VRM 1.0)"
    # ARKit names on the wire hit the test avatar's custom expressions, all of them
    assert len(records[0]["matched"]) == 52 and all(m is not None for m in records[0]["matched"])
    avatar = read_vrm(TEST_AVATAR)
    assert {b for pair in fidelity.LIMBS.values() for b in pair} <= avatar.bones  # every joint the limbs need
    if face:
        assert max(max(r["blend_in"]) for r in records) > 0.1, "no expression moved: the weights check checks nothing"
    worst = check_applied(records, avatar.bones)
    print(f"(a) read back vs received, worst: weights {worst[0]:.1e}, rotations {worst[1]:.1e}")

    # (b) the avatar's limbs against an independent MediaPipe run on the same video frames
    reference = fidelity.reference_directions(clip, sorted({r["frame"] for r in records}), mirror=True)
    angles = fidelity.compare({i: reference[r["frame"]] for i, r in enumerate(records) if r["frame"] in reference},
                              {i: fidelity.avatar_directions({b: np.array(p) for b, p in r["joints"].items()}, r["head_fwd"])
                               for i, r in enumerate(records)})
    print("(b) median angle to the reference per limb, degrees (samples):",
          ", ".join(f"{limb} {np.median(angles[limb]):.1f} ({len(angles[limb])})" for limb in fidelity.LIMBS if limb in angles))
    summary = fidelity.summary(angles)
    print("    per group:", "; ".join(f"{g} median {s['median']:.1f}, p90 {s['p90']:.1f}, n {s['n']}" for g, s in summary.items()))
    return summary


def assert_goals(summary, groups):
    for group in groups:
        goal = fidelity.GOALS_DEG[group]
        assert group in summary, f"no {group} limbs measured"
        assert summary[group]["median"] <= goal, f"{group}: median {summary[group]['median']:.1f} deg > {goal}"


# The page draws software WebGL at most twice a second and records only what it draws: the frame
# counts below keep each test to about half a minute of collecting.
def test_avatar_follows_the_body(body_sidecar, browser):
    summary = measure(browser, body_sidecar, CLIP, 24, lambda f: True, "whole body (NTU clip)", face=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-avatar.png"))
    shutil.copyfile(ARTIFACTS / "dashboard-avatar.png", ROOT / "docs" / "dashboard-avatar.png")
    assert_goals(summary, ["body"])


def test_avatar_follows_the_hands(gesture_sidecar, browser):
    port, clip = gesture_sidecar
    summary = measure(browser, port, clip, 16, lambda f: f % HOLD >= HOLD - SETTLED, "hands (HaGRID photos)",
                      face=True)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-avatar-hands.png"))
    assert_goals(summary, ["hand", "fingers"])


def test_own_vrm0_without_upper_chest_loads_and_folds(vrm0_sidecar, browser, tmp_path):
    vrm0 = tmp_path / "basic_vrm0.vrm"
    script = tmp_path / "make_vrm0.py"
    script.write_text(MAKE_VRM0)
    done = run_blender(script, str(vrm0), timeout=120)
    assert done.returncode == 0 and vrm0.exists(), done.stderr[-2000:]
    model = read_vrm(vrm0)
    assert model.spec == "0.x" and "UpperChest" not in model.bones and "Jaw" not in model.bones

    browser.get(f"http://127.0.0.1:{vrm0_sidecar}/?probe=1")
    status = browser.find_element("id", "avatar-status")
    wait_for(lambda: "bones driven" in status.text, what="the default avatar to load")
    bad = tmp_path / "notes.vrm"
    bad.write_text("not a model")
    picker = browser.find_element("id", "avatar-file")  # the page's own file picker
    picker.send_keys(str(bad))
    wait_for(lambda: status.text.startswith("could not load notes.vrm: "), what=f"one line on a bad file (status: {status.text!r})")
    assert "\n" not in status.text
    picker.send_keys(str(vrm0))
    wait_for(lambda: "basic_vrm0.vrm (VRM 0.x)" in status.text, what=f"the picked VRM to load (status: {status.text!r})")
    assert "missing" in status.text
    browser.execute_script("avatarProbe.take()")
    records = wait_for(lambda: browser.execute_script("return avatarProbe.records.length >= 12 && avatarProbe.take()"),
                       what="frames applied to the picked VRM")
    assert all(r["model"] == "basic_vrm0.vrm (VRM 0.x)" for r in records)
    # VRM 0.x names on the wire: three-vrm names the model's presets as VRM 1.0 does
    matched = dict(zip(records[0]["blend_names"], records[0]["matched"]))
    assert matched == {"A": "aa", "I": "ih", "U": "ou", "E": "ee", "O": "oh", "Blink": "blink", "Blink_L": "blinkLeft",
                       "Blink_R": "blinkRight", "Joy": "happy", "Angry": "angry", "Sorrow": "sad", "Fun": "relaxed",
                       "Surprised": None, "LookUp": "lookUp", "LookDown": "lookDown", "LookLeft": "lookLeft",
                       "LookRight": "lookRight"}, matched
    assert max(max(r["blend_in"]) for r in records) > 0.1, "no expression moved: the weights check checks nothing"
    chest = records[0]["bones"].index("UpperChest")
    assert max(1 - abs(r["rot_in"][chest][3]) for r in records) > 1e-4, "UpperChest never turned: no fold to check"
    check_applied(records, model.bones)
    # The conversion, checked on what it moves: each body limb of the VRM 0.x points where forward
    # kinematics of the received rotations from the T-pose (bridge/retarget/humanoid.py) says
    worst = {}
    for r in records:
        shown = fidelity.avatar_directions({b: np.array(p) for b, p in r["joints"].items()})
        for limb, d in t_pose_directions(r).items():
            worst[limb] = max(worst.get(limb, 0.0), fidelity.angle_deg(d, shown[limb]))
    print("\nVRM 0.x limbs vs forward kinematics, worst (degrees):", {k: round(v, 2) for k, v in worst.items()})
    assert len(worst) == 8 and max(worst.values()) < 2.0, worst
    browser.find_element("id", "avatar-mirror").click()  # the mirror view flips the picture, not the pose
    assert browser.find_element("id", "avatar").value_of_css_property("transform") == "matrix(-1, 0, 0, 1, 0, 0)"
    assert not severe_logs(browser)
