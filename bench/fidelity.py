"""Does the avatar move like the person, through real consumers?

A clip goes through the sidecar (`avatar-bridge record --pose --hands`) into two consumers in Blender
(bench/blender_fidelity.py, run in the Blender venv): Blender's BVH importer on `avatar-bridge export`'s
BVH, and the Blender add-on on the test avatar fed real VMC by `avatar-bridge replay`. The avatar's
world-space limb directions are compared (bridge/fidelity.py) with an independent MediaPipe run on the
same video frames, with the recording's mirror flag. Prints per consumer and limb group the median and
90th percentile angle, n and whether the goal is met, and for the add-on the shape-key agreement.
Usage: python bench/fidelity.py [--clip VIDEO] [--frames N] [--quick]
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
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from blender_env import run_blender  # noqa: E402

from bridge import fidelity  # noqa: E402
from bridge.recording import RecordingReader  # noqa: E402

DEFAULT_CLIP = Path("/work/shared/fixtures/body/ntu_S001C001P001R001A001_rgb.avi")
SCRIPT = ROOT / "bench" / "blender_fidelity.py"
ADDON = ROOT / "engine_plugins" / "blender" / "avatar_bridge"
AVATAR = ROOT / "bridge" / "assets" / "test_avatar.vrm"
CLI = [sys.executable, "-m", "bridge.cli"]
QUICK_FRAMES = 10


def step(msg: str) -> float:
    print(f"[fidelity] {msg}", file=sys.stderr, flush=True)
    return time.monotonic()


def sidecar(*args: str) -> None:
    r = subprocess.run(CLI + list(args), capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"avatar-bridge {args[0]} failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")


def blender(tmp: Path, *args: str) -> dict:
    out = tmp / f"{args[0]}.json"
    r = run_blender(SCRIPT, args[0], str(out), *args[1:], timeout=600)
    if r.returncode or not out.exists():
        raise RuntimeError(f"Blender script failed (rc {r.returncode}): {(r.stderr or r.stdout).strip()[-300:]}")
    return json.loads(out.read_text())


def directions(joints: dict[int, dict], video_index: list[int]) -> dict:
    """{recording frame: {Unity bone: position}} -> {video frame: avatar limb directions}."""
    return {video_index[k]: fidelity.avatar_directions({u: np.array(p) for u, p in j.items()})
            for k, j in joints.items() if 0 <= k < len(video_index)}


def bvh_consumer(tmp: Path, rec: Path, video_index: list[int]) -> tuple[dict, str]:
    bvh = tmp / "clip.bvh"
    sidecar("export", str(rec), "--out", str(bvh), "-q")
    res = blender(tmp, "bvh", str(bvh))
    note = f"{len(res['joints'])} BVH frames imported"
    return directions(dict(enumerate(res["joints"])), video_index), note


def addon_consumer(tmp: Path, rec: Path, video_index: list[int]) -> tuple[dict, str]:
    zip_path = tmp / "avatar_bridge.zip"
    with zipfile.ZipFile(zip_path, "w") as z:
        for p in sorted(ADDON.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                z.write(p, p.relative_to(ADDON))
    os.environ["BLENDER_USER_EXTENSIONS"] = str(tmp / "extensions")  # install here, not in ~/.config
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = CLI + ["replay", str(rec), "--vmc", f"127.0.0.1:{port}", "--no-ws", "-q"]
    res = blender(tmp, "addon", str(zip_path), str(AVATAR), str(port), json.dumps(cmd))
    if res["sidecar_rc"]:
        raise RuntimeError(f"replay failed: {res['sidecar_log'][-300:]}")
    # VMC carries no frame number: the k-th frame received (seq k) is the recording's k-th frame
    dirs = directions({s - 1: j for s, j in zip(res["seq"], res["joints"])}, video_index)
    errs = [e for e in res["shape_err"] if e is not None]
    note = (f"{len(res['seq'])} of {len(video_index)} frames received, add-on errors {res['errors'][0]}; "
            f"shape keys ({res['shapes']} mapped): max |key - sent| = "
            + (f"{max(errs):.2g}" if errs else "n/a") + f" (largest value sent {res['sent_max']:.2g})")
    return dirs, note


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--frames", type=int, default=None, help="first N frames (default: all)")
    ap.add_argument("--quick", action="store_true", help=f"first {QUICK_FRAMES} frames")
    a = ap.parse_args(argv)
    n = QUICK_FRAMES if a.quick else a.frames
    with tempfile.TemporaryDirectory(prefix="fidelity-") as d:
        tmp = Path(d)
        rec = tmp / "clip.abr"
        t = step(f"recording {a.clip.name} with the sidecar (pose + hands)...")
        sidecar("record", "--source", str(a.clip), "--pose", "--hands", "--fast", "--no-vmc", "--no-ws", "-q",
                "--out", str(rec), *(["--max-frames", str(n)] if n else []))
        reader = RecordingReader(rec)
        frames = reader.frames()
        fps, mirror = reader.fps, bool(reader.meta.get("mirror", True))
        video_index = [round(f.source_time * fps) for f in frames]
        t = step(f"  {len(frames)} frames in {time.monotonic() - t:.0f} s; reference: MediaPipe on the same "
                 f"{len(frames)} frames (mirror={mirror})...")
        ref = fidelity.reference_directions(a.clip, video_index, mirror)
        step(f"  {len(ref)} frames with a person in {time.monotonic() - t:.0f} s")
        rows, notes = [], []
        for name, consumer in (("Blender BVH import", bvh_consumer), ("Blender add-on (VMC)", addon_consumer)):
            t = step(f"{name}...")
            try:
                dirs, note = consumer(tmp, rec, video_index)
            except Exception as e:  # one consumer failing must not hide the others
                print(f"{name}: FAILED: {type(e).__name__}: {e}")
                continue
            step(f"  done in {time.monotonic() - t:.0f} s")
            angles = fidelity.compare(ref, dirs)
            per_limb = ", ".join(f"{k} {np.median(v):.0f}" for k, v in sorted(angles.items()))
            notes.append(f"{name}: {note}\n  per-limb median deg: {per_limb or 'none'}")
            s = fidelity.summary(angles)
            rows += [(name, g, s[g]) for g in fidelity.GOALS_DEG if g in s]
            rows += [(name, g, None) for g in fidelity.GOALS_DEG if g not in s]
    print(f"\nFidelity: {a.clip.name}, {len(frames)} frames, mirror={mirror}; angle avatar vs MediaPipe (degrees)")
    print(f"{'consumer':22} {'group':8} {'median':>7} {'p90':>7} {'n':>5}  goal")
    for name, g, r in rows:
        goal = fidelity.GOALS_DEG[g]
        if r is None:
            print(f"{name:22} {g:8} {'-':>7} {'-':>7} {0:>5}  <= {goal:.0f}: no samples (not in the reference or the avatar)")
        else:
            print(f"{name:22} {g:8} {r['median']:7.1f} {r['p90']:7.1f} {r['n']:5d}  <= {goal:.0f} (median): "
                  f"{'met' if r['median'] <= goal else 'NOT met'}")
    for line in notes:
        print(line)
    hands = sorted({k for d in ref.values() for k in d if fidelity.group_of(k) != "body"})
    print(f"reference: {len(ref)} of {len(frames)} frames with a person; hand limbs found: {', '.join(hands) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
