"""What a user pays per frame: process CPU and wall time of the pipeline as shipped against the raw
MediaPipe landmarkers it wraps, on the same clips, in one run.

Each configuration runs in its own subprocess, so its CPU figure is that process's own CPU time
over all its threads (time.process_time) and no model or thread of another run shares it. Start-up
is left out by reading the clocks after a warm-up of W frames and again after W + N frames:
  raw       - decode (OpenCV, BGR->RGB) + detect_for_video of each landmarker, one after another
  pipeline  - `Pipeline.run` as `avatar-bridge run --fast --loop` ships it: VMC to a loopback sink,
              WebSocket server on (no client), classifiers on; per-stage medians from its own timings
  low       - the same with `[source] budget = "low"`
  paced     - the face pipeline at the clip's own frame rate: capture-to-send latency percentiles
Start-up is the time from spawning the process to the first frame sent (imports and model loads).
Clips: the face clip, and the full-body 1080p NTU clip also re-encoded at 720p (looped to N frames).
--baseline DIR also runs every pipeline row with the `bridge` package found in
DIR (e.g. `git archive HEAD bridge | tar -x -C DIR`), interleaved, to measure a change in one run.
--openseeface DIR runs DIR/facetracker.py (OpenSeeFace, in the Python that DIR/.venv or the caller's
python provides) on the face clip with model 0, one thread, and reports its CPU per frame.
Usage: python bench/cpu.py [--quick] [--frames N] [--only face|body] [--baseline DIR] [--json FILE]
                           [--openseeface DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"
FACE_CLIP = FIXTURES / "face" / "expressions_pexels.mp4"
BODY_CLIP = FIXTURES / "body" / "ntu_S001C001P001R001A001_rgb.avi"
BODY = {"pose": {"enabled": True}, "hands": {"enabled": True}}
LOW = {"source": {"budget": "low"}}


# --- child side ---------------------------------------------------------------------------------
def frames_looped(clip: Path):
    """Decoded RGB frames of `clip`, again and again (the pipeline's source with --loop does the same)."""
    import cv2
    while True:
        cap = cv2.VideoCapture(str(clip))
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        cap.release()


def child_raw(clip: Path, parts: list[str], warmup: int, n: int) -> dict:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from bridge.models import load_model
    made = {
        "face": ("face_landmarker", "FaceLandmarker", dict(num_faces=1, output_face_blendshapes=True,
                                                          output_facial_transformation_matrixes=True)),
        "pose": ("pose_landmarker_full", "PoseLandmarker", dict(num_poses=1)),
        "hands": ("hand_landmarker", "HandLandmarker", dict(num_hands=2)),
    }
    lms = []
    for part in parts:
        model, cls, kw = made[part]
        opts = getattr(vision, cls + "Options")(
            base_options=BaseOptions(model_asset_path=str(load_model(model).path)),
            running_mode=vision.RunningMode.VIDEO, **kw)
        lms.append(getattr(vision, cls).create_from_options(opts))
    frames = frames_looped(clip)
    c0 = w0 = 0.0
    for i in range(warmup + n):
        if i == warmup:
            c0, w0 = time.process_time(), time.perf_counter()
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=next(frames))
        for lm in lms:
            lm.detect_for_video(image, i * 33)
    out = {"cpu_ms": (time.process_time() - c0) * 1000 / n, "wall_ms": (time.perf_counter() - w0) * 1000 / n}
    for lm in lms:
        lm.close()
    return out


def child_pipeline(clip: Path, tables: dict, warmup: int, n: int, paced: bool) -> dict:
    from bridge.config import from_tables
    from bridge.pipeline import Pipeline
    from bridge.sources import VideoSource
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    ws_port = probe.getsockname()[1]
    probe.close()
    base = {"vmc": {"port": sink.getsockname()[1]}, "websocket": {"port": ws_port},
            "calibration": {"profile": "/nonexistent/profile.json"}}
    for k, v in tables.items():
        base.setdefault(k, {}).update(v)
    cfg = from_tables(base)
    p = Pipeline(cfg, VideoSource(clip, loop=True, fast=not paced), max_frames=warmup + n)
    marks: dict[str, float] = {}
    latency: list[float] = []

    def listener(frame) -> None:
        if frame.seq == 0:
            marks["first_sent"] = time.time()
        if frame.seq == warmup:
            marks["c0"], marks["w0"] = time.process_time(), time.perf_counter()
        if frame.seq >= warmup:
            latency.append((time.time() - frame.capture_time) * 1000)
        if frame.seq == warmup + n - 1:
            marks["c1"], marks["w1"] = time.process_time(), time.perf_counter()

    p.listeners.append(listener)
    settings = {"pose_model": cfg.pose.model if cfg.pose.enabled else None,
                "budget": getattr(cfg.source, "budget", "normal")}  # a --baseline may predate the key
    stats = p.run()
    sink.close()
    q = statistics.quantiles(latency, n=100)
    return {"cpu_ms": (marks["c1"] - marks["c0"]) * 1000 / (n - 1),
            "wall_ms": (marks["w1"] - marks["w0"]) * 1000 / (n - 1),
            "first_sent": marks["first_sent"], "stages": stats.medians(),
            "latency_ms": {"p50": q[49], "p90": q[89], "p99": q[98]}, "settings": settings}


# --- parent side --------------------------------------------------------------------------------
def run_child(spec: dict, label: str) -> dict:
    print(f"  {label} ...", end="", file=sys.stderr, flush=True)
    env = dict(os.environ)
    if spec.get("code"):
        env["PYTHONPATH"] = spec["code"] + os.pathsep + env.get("PYTHONPATH", "")
    t0 = time.time()
    r = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                       cwd=ROOT, env=env)
    if r.returncode != 0:
        print(" failed", file=sys.stderr)
        sys.exit(f"{label} failed:\n{r.stderr[-2000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if "first_sent" in out:
        out["startup_s"] = out.pop("first_sent") - t0
    print(f" {out['cpu_ms']:.1f} ms CPU, {out['wall_ms']:.1f} ms wall per frame", file=sys.stderr)
    return out


def openseeface(dirpath: Path, clip: Path) -> dict:
    """OpenSeeFace model 0 on one thread; its CPU per frame from rusage, start-up not subtracted (it
    loads in well under a second; its own per-frame timings are not printed with -v 0)."""
    import cv2
    frames = int(cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FRAME_COUNT))
    py = dirpath / ".venv" / "bin" / "python"
    cmd = [str(py if py.exists() else sys.executable), str(dirpath / "facetracker.py"), "-c", str(clip),
           "--model", "0", "-W", "640", "-H", "360", "-F", "1000", "--max-threads", "1", "-s", "0", "-v", "0"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=dirpath, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_ms": cpu * 1000 / frames, "wall_ms": wall * 1000 / frames, "frames": frames}


def downscale(src: Path, dst: Path, height: int) -> Path:
    import cv2
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    out = None
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        w = round(bgr.shape[1] * height / bgr.shape[0])
        if out is None:
            out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, height))
        out.write(cv2.resize(bgr, (w, height), interpolation=cv2.INTER_AREA))
    cap.release()
    out.release()
    return dst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="one round of 100 frames each instead of 3 of 300")
    ap.add_argument("--rounds", type=int, help="rounds over all configurations (medians are reported)")
    ap.add_argument("--frames", type=int, help="frames measured per configuration (after the warm-up)")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--only", choices=("face", "body"), help="only the face clip or only the body clips")
    ap.add_argument("--baseline", type=Path, metavar="DIR", help="also run the pipeline rows with DIR/bridge")
    ap.add_argument("--openseeface", type=Path, metavar="DIR", help="an OpenSeeFace checkout (facetracker.py)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    if args.child:
        spec = json.loads(args.child)
        clip = Path(spec["clip"])
        out = (child_raw(clip, spec["parts"], spec["warmup"], spec["n"]) if spec["kind"] == "raw" else
               child_pipeline(clip, spec["tables"], spec["warmup"], spec["n"], spec.get("paced", False)))
        print(json.dumps(out))
        return 0
    n = args.frames or (100 if args.quick else 300)
    for clip in (FACE_CLIP, BODY_CLIP):
        if not clip.exists():
            sys.exit(f"fixture {clip} is missing (see {FIXTURES / 'README.md'})")
    with tempfile.TemporaryDirectory() as tmp:
        body720 = downscale(BODY_CLIP, Path(tmp) / "ntu_720p.mp4", 720)
        plan = []
        if args.only != "body":
            plan += [("face 640x360", "raw face", {"kind": "raw", "clip": FACE_CLIP, "parts": ["face"]}),
                     ("face 640x360", "pipeline", {"kind": "pipe", "clip": FACE_CLIP, "tables": {}}),
                     ("face 640x360", "pipeline, budget low", {"kind": "pipe", "clip": FACE_CLIP, "tables": LOW}),
                     ("face 640x360", "pipeline, paced 24 fps", {"kind": "pipe", "clip": FACE_CLIP, "tables": {},
                                                                "paced": True})]
        if args.only != "face":
            for name, clip in (("body 1920x1080", BODY_CLIP), ("body 1280x720", body720)):
                plan += [(name, "raw face+pose+hands", {"kind": "raw", "clip": clip, "parts": ["face", "pose", "hands"]}),
                         (name, "pipeline face+pose+hands", {"kind": "pipe", "clip": clip, "tables": BODY}),
                         (name, "pipeline, budget low", {"kind": "pipe", "clip": clip, "tables": {**BODY, **LOW}})]
        if args.baseline:
            if not (args.baseline / "bridge" / "__init__.py").exists():
                sys.exit(f"--baseline {args.baseline}: no bridge/__init__.py there")
            plan = [row for c, w, spec in plan for row in
                    ([(c, w + " [baseline]", {**spec, "code": str(args.baseline.resolve())}), (c, w, spec)]
                     if spec["kind"] == "pipe" else [(c, w, spec)])]
        rounds = args.rounds or (1 if args.quick else 3)
        print(f"{len(plan)} configurations x {rounds} rounds, {args.warmup} warm-up + {n} measured frames each",
              file=sys.stderr)
        runs: list[list[dict]] = [[] for _ in plan]
        for r in range(rounds):
            for i, (clip_name, what, spec) in enumerate(plan):
                spec = {**spec, "clip": str(spec["clip"]), "warmup": args.warmup, "n": n}
                if spec.get("paced"):
                    spec["n"] = min(n, 150)  # real time: 24 fps
                runs[i].append(run_child(spec, f"round {r + 1}/{rounds} [{i + 1}/{len(plan)}] {clip_name}: {what}"))
        rows: list[tuple[str, str, dict]] = [(c, w, median_of(rs)) for (c, w, _), rs in zip(plan, runs)]
    if args.openseeface:
        print("  OpenSeeFace model 0 ...", file=sys.stderr)
        rows.append(("face 640x360", "OpenSeeFace model 0, 1 thread", openseeface(args.openseeface, FACE_CLIP)))
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps([{"clip": c, "what": w, **r} for c, w, r in rows], indent=2))
    return 0


def median_of(results: list[dict]) -> dict:
    """Per-key medians over rounds (nested dicts too); other values from the first round."""
    out = {}
    for k, v in results[0].items():
        if isinstance(v, dict):
            out[k] = median_of([r[k] for r in results])
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = statistics.median(r[k] for r in results)
        else:
            out[k] = v
    return out


def print_table(rows) -> None:
    raw: dict[str, dict] = {}
    print(f"\n{'clip':<15} {'configuration':<37} {'CPU ms/f':>9} {'wall ms/f':>9} {'vs raw CPU':>10} "
          f"{'start s':>7}  stage medians (ms) / latency")
    for clip, what, r in rows:
        if what.startswith("raw"):
            raw[clip] = r
        ratio = f"{100 * (r['cpu_ms'] / raw[clip]['cpu_ms'] - 1):+.1f}%" if clip in raw and not what.startswith("raw") else ""
        start = f"{r['startup_s']:.2f}" if "startup_s" in r else ""
        extra = ""
        if "stages" in r:
            st = r["stages"]
            extra = ", ".join(f"{k} {st[k]:.2f}" for k in ("face", "pose", "hands", "track", "solve", "classify", "total")
                              if k in st)
            if "paced" in what:
                lat = r["latency_ms"]
                extra = f"capture->send p50 {lat['p50']:.1f}, p90 {lat['p90']:.1f}, p99 {lat['p99']:.1f}; track {st['track']:.2f}"
        print(f"{clip:<15} {what:<37} {r['cpu_ms']:>9.2f} {r['wall_ms']:>9.2f} {ratio:>10} {start:>7}  {extra}")
    print(f"\n{os.cpu_count()} CPUs; medians over rounds; CPU = the process's CPU time over all its threads, "
          "start-up excluded; start = spawn to first frame sent")


if __name__ == "__main__":
    sys.exit(main())
