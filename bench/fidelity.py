"""Does the avatar move like the person, through real consumers?

Each clip goes through the sidecar into three real consumers: Blender's BVH importer on
`avatar-bridge export`'s BVH of a recording, the Blender add-on on the test avatar fed real VMC by
`avatar-bridge replay` (both in the Blender venv, bench/blender_fidelity.py), and the dashboard's
three-vrm avatar in headless Chromium fed live by `avatar-bridge run` (its probe reads the avatar
back). The avatar's world-space limb and head directions are compared (bridge/fidelity.py) with an
independent MediaPipe run on the same video frames. Prints per clip, consumer and group the median
and 90th percentile angle, n and whether the goal is met, and the blendshape / shape-key agreement.

Clips: `body` (NTU: a whole person standing), `hands` (one HaGRID photo per gesture, each held 10
frames; the last 5 of each are compared, once the filters settled), `face` (expressions_pexels:
head and shoulders, for the head and the expressions).
Usage: python bench/fidelity.py [--clips body,hands,face] [--frames N] [--quick] [--render IMAGE]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from blender_env import run_blender  # noqa: E402
from browser_env import HOLD, SETTLED, chrome_driver, collect, gesture_clip, run_sidecar, wait_for  # noqa: E402

from bridge import fidelity  # noqa: E402
from bridge.recording import RecordingReader  # noqa: E402

FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", ROOT.parent / "shared" / "fixtures"))
SCRIPT = ROOT / "bench" / "blender_fidelity.py"
ADDON = ROOT / "engine_plugins" / "blender" / "avatar_bridge"
AVATAR = ROOT / "bridge" / "assets" / "test_avatar.vrm"
CLI = [sys.executable, "-m", "bridge.cli"]
QUICK_FRAMES = 10
BROWSER_FRAMES, QUICK_BROWSER_FRAMES = 24, 4  # distinct video frames; software WebGL draws ~2 a second


@dataclass
class Clip:
    name: str
    video: Path
    settled: bool = False  # compare only the last SETTLED frames of each HOLD-frame photo

    def keep(self, frame: int) -> bool:
        return not self.settled or frame % HOLD >= HOLD - SETTLED


@dataclass
class Result:
    directions: dict[int, dict[str, np.ndarray]]  # video frame -> avatar directions
    note: str


def step(msg: str) -> float:
    print(f"[fidelity] {msg}", file=sys.stderr, flush=True)
    return time.monotonic()


def sidecar(*args: str) -> None:
    r = subprocess.run(CLI + list(args), capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"avatar-bridge {args[0]} failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")


def blender(tmp: Path, *args: str) -> dict:
    out = tmp / f"{args[0]}.json"
    r = run_blender(SCRIPT, args[0], str(out), *args[1:], timeout=900)
    if r.returncode or not out.exists():
        raise RuntimeError(f"Blender script failed (rc {r.returncode}): {(r.stderr or r.stdout).strip()[-300:]}")
    return json.loads(out.read_text())


def directions(joints: dict[int, dict], heads: dict[int, list], video_index: list[int]) -> dict:
    """{recording frame: {Unity bone: position}}, {recording frame: head forward} -> {video frame: directions}."""
    return {video_index[k]: fidelity.avatar_directions({u: np.array(p) for u, p in j.items()}, heads.get(k))
            for k, j in joints.items() if 0 <= k < len(video_index)}


def shape_note(errors: list[float], largest: float, mapped: int, what: str) -> str:
    return (f"{what} ({mapped} mapped): max |value - sent| = " + (f"{max(errors):.2g}" if errors else "n/a")
            + f" (largest value sent {largest:.2g})")


def bvh_consumer(tmp: Path, clip: Clip, rec: Path, video_index: list[int], **_) -> Result:
    bvh = tmp / "clip.bvh"
    sidecar("export", str(rec), "--out", str(bvh), "-q")
    res = blender(tmp, "bvh", str(bvh))
    return Result(directions(dict(enumerate(res["joints"])), dict(enumerate(res["head"])), video_index),
                  f"{len(res['joints'])} BVH frames imported")


def addon_zip(tmp: Path) -> Path:
    zip_path = tmp / "avatar_bridge.zip"
    with zipfile.ZipFile(zip_path, "w") as z:
        for p in sorted(ADDON.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                z.write(p, p.relative_to(ADDON))
    return zip_path


def addon_consumer(tmp: Path, clip: Clip, rec: Path, video_index: list[int], render: list[int] = (), **_) -> Result:
    os.environ["BLENDER_USER_EXTENSIONS"] = str(tmp / "extensions")  # install here, not in ~/.config
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = CLI + ["replay", str(rec), "--vmc", f"127.0.0.1:{port}", "--no-ws", "-q"]
    seqs = [k + 1 for k in render]  # the k-th recorded frame arrives as VMC seq k + 1
    res = blender(tmp, "addon", str(addon_zip(tmp)), str(AVATAR), str(port), json.dumps(cmd), str(tmp), json.dumps(seqs))
    if res["sidecar_rc"]:
        raise RuntimeError(f"replay failed: {res['sidecar_log'][-300:]}")
    # VMC carries no frame number: the k-th frame received (seq k) is the recording's k-th frame
    dirs = directions({s - 1: j for s, j in zip(res["seq"], res["joints"])},
                      {s - 1: h for s, h in zip(res["seq"], res["head"])}, video_index)
    errs = [e for e in res["shape_err"] if e is not None]
    return Result(dirs, f"{len(res['seq'])} of {len(video_index)} frames received, add-on errors {res['errors'][0]}; "
                  + shape_note(errs, res["sent_max"], res["shapes"], "shape keys"))


def three_vrm_consumer(tmp: Path, clip: Clip, rec: Path, video_index: list[int], wanted: int = BROWSER_FRAMES,
                       **_) -> Result:
    """Live: the page shows whatever frame the looping sidecar sent last, so the frames it applied
    are a sample of the clip, each tagged with its video frame by its source time."""
    cap = cv2.VideoCapture(str(clip.video))
    fps, nframes = cap.get(cv2.CAP_PROP_FPS), int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    driver = chrome_driver(tmp / "chrome")
    try:
        for port in run_sidecar(clip.video, tmp / "config"):
            driver.get(f"http://127.0.0.1:{port}/?probe=1")
            status = driver.find_element("id", "avatar-status")
            wait_for(lambda: "bones driven" in status.text, what=f"the avatar to load (status: {status.text!r})")
            records = collect(driver, min(wanted, sum(map(clip.keep, range(nframes)))), fps, nframes, clip.keep,
                              timeout=600)
            driver.get("about:blank")
    finally:
        driver.quit()
    dirs = {r["frame"]: fidelity.avatar_directions({b: np.array(p) for b, p in r["joints"].items()}, r["head_fwd"])
            for r in records}
    errs = [abs(v - w) for r in records for v, w, m in zip(r["blend_in"], r["weights"], r["matched"]) if m is not None]
    largest = max((abs(v) for r in records for v in r["blend_in"]), default=0.0)
    matched = sum(m is not None for m in records[0]["matched"])
    return Result(dirs, f"{len(records)} frames applied ({len(dirs)} video frames, live); "
                  + shape_note(errs, largest, matched, "expression weights"))


CONSUMERS = (("Blender BVH import", bvh_consumer), ("Blender add-on (VMC)", addon_consumer),
             ("three-vrm (Chromium)", three_vrm_consumer))


def clips(names: list[str], tmp: Path) -> list[Clip]:
    known = {"body": lambda: Clip("body", FIXTURES / "body" / "ntu_S001C001P001R001A001_rgb.avi"),
             "hands": lambda: Clip("hands", gesture_clip(tmp / "gestures.avi"), settled=True),
             "face": lambda: Clip("face", FIXTURES / "face" / "expressions_pexels.mp4")}
    unknown = set(names) - set(known)
    if unknown:
        raise SystemExit(f"unknown clip {', '.join(sorted(unknown))}: choose from {', '.join(known)}")
    return [known[n]() for n in names]


def side_by_side(out: Path, clip: Clip, video_index: list[int], frames: list[int], tmp: Path) -> None:
    """The person with what the sidecar tracked drawn on (`avatar-bridge annotate`), mirrored as a
    webcam preview is, beside the avatar as Blender rendered it from the add-on's pose, for a few
    recorded frames, in one picture."""
    annotated = tmp / "annotated.mp4"
    sidecar("annotate", str(clip.video), "--out", str(annotated), "--pose", "--hands", "--layers",
            "face,skeleton,hands", "-q")
    cap = cv2.VideoCapture(str(annotated))
    wanted, images, index = {video_index[k] for k in frames}, {}, -1
    while wanted - set(images):
        ok, bgr = cap.read()
        if not ok:
            break
        index += 1
        if index in wanted:
            images[index] = bgr
    cap.release()
    rows = []
    for k in frames:
        avatar = cv2.imread(str(tmp / f"{k + 1}.png"))
        person = cv2.flip(images[video_index[k]], 1)
        h = avatar.shape[0]
        person = cv2.resize(person, (round(person.shape[1] * h / person.shape[0]), h), interpolation=cv2.INTER_AREA)
        rows.append(np.concatenate([person, avatar], axis=1))
    picture = np.concatenate(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), picture, [cv2.IMWRITE_JPEG_QUALITY, 85])  # a .jpg keeps the photos small
    step(f"wrote {out} ({picture.shape[1]}x{picture.shape[0]})")


def first_frames(video: Path, n: int, out: Path) -> Path:
    """The first `n` frames of `video` as their own clip, so every consumer (the live one too) sees only those."""
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS)
    writer = None
    for _ in range(n):
        ok, bgr = cap.read()
        if not ok:
            break
        writer = writer or cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (bgr.shape[1], bgr.shape[0]))
        writer.write(bgr)
    cap.release()
    if writer is None:
        raise SystemExit(f"{video}: no frame could be read")
    writer.release()
    return out


def measure_clip(clip: Clip, n: int | None, wanted: int, render: Path | None, tmp: Path) -> tuple[list, list]:
    if n:
        clip = Clip(clip.name, first_frames(clip.video, n, tmp / f"{clip.name}-first{n}.avi"), clip.settled)
    rec = tmp / f"{clip.name}.abr"
    t = step(f"{clip.name}: recording {clip.video.name} with the sidecar (face, pose, hands)...")
    sidecar("record", "--source", str(clip.video), "--pose", "--hands", "--fast", "--no-vmc", "--no-ws", "-q",
            "--out", str(rec))
    reader = RecordingReader(rec)
    frames = reader.frames()
    fps, mirror = reader.fps, bool(reader.meta.get("mirror", True))
    video_index = [round(f.source_time * fps) for f in frames]
    t = step(f"  {len(frames)} frames in {time.monotonic() - t:.0f} s; reference: MediaPipe on the clip (mirror={mirror})...")
    ref = fidelity.reference_directions(clip.video, sorted(set(video_index)), mirror)
    ref = {f: d for f, d in ref.items() if clip.keep(f)}
    step(f"  {len(ref)} compared frames with a person in {time.monotonic() - t:.0f} s")
    picks = np.linspace(len(frames) // 3, len(frames) - 1, 3).round().astype(int).tolist() if render else []  # filters settled
    rows, notes = [], []
    for name, consumer in CONSUMERS:
        t = step(f"  {name}...")
        try:
            res = consumer(tmp, clip, rec, video_index, wanted=wanted, render=picks)
        except Exception as e:  # one consumer failing must not hide the others
            print(f"{clip.name} / {name}: FAILED: {type(e).__name__}: {e}")
            continue
        step(f"    done in {time.monotonic() - t:.0f} s")
        angles = fidelity.compare(ref, res.directions)
        per_limb = ", ".join(f"{k} {np.median(v):.0f}" for k, v in sorted(angles.items()))
        notes.append(f"{clip.name} / {name}: {res.note}\n  per-limb median deg: {per_limb or 'none'}")
        s = fidelity.summary(angles)
        rows += [(clip.name, name, g, s.get(g)) for g in fidelity.GOALS_DEG]
    if render:
        side_by_side(render, clip, video_index, picks, tmp)
    found = sorted({k for d in ref.values() for k in d})
    notes.append(f"{clip.name}: reference has {len(ref)} of {len(frames)} frames; directions found: {', '.join(found) or 'none'}")
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default="body,hands,face", help="which clips (default: body,hands,face)")
    ap.add_argument("--frames", type=int, default=None, help="first N frames of each clip (default: all)")
    ap.add_argument("--quick", action="store_true", help=f"the body clip's first {QUICK_FRAMES} frames only")
    ap.add_argument("--render", type=Path, help="also write a side-by-side picture (person | Blender's avatar) "
                                                "of the first clip here, e.g. docs/fidelity-side-by-side.jpg")
    a = ap.parse_args(argv)
    names = ["body"] if a.quick else a.clips.split(",")
    n = QUICK_FRAMES if a.quick else a.frames
    wanted = QUICK_BROWSER_FRAMES if a.quick else BROWSER_FRAMES
    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="fidelity-") as d:
        tmp = Path(d)
        for i, clip in enumerate(clips(names, tmp)):
            sub = tmp / clip.name
            sub.mkdir()
            r, t = measure_clip(clip, n, wanted, a.render if i == 0 else None, sub)
            rows += r
            notes += t
    print("\nFidelity: angle between the avatar and an independent MediaPipe run, degrees")
    print(f"{'clip':6} {'consumer':22} {'group':8} {'median':>7} {'p90':>7} {'n':>5}  goal")
    for clip, name, g, r in rows:
        goal = fidelity.GOALS_DEG[g]
        if r is None:
            print(f"{clip:6} {name:22} {g:8} {'-':>7} {'-':>7} {0:>5}  <= {goal:.0f}: no samples on this clip")
        else:
            print(f"{clip:6} {name:22} {g:8} {r['median']:7.1f} {r['p90']:7.1f} {r['n']:5d}  <= {goal:.0f} (median): "
                  f"{'met' if r['median'] <= goal else 'NOT met'}")
    for line in notes:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
