"""Face pipeline throughput against raw MediaPipe FaceLandmarker, measured in one run.

Runs, on the same decoded frames of a fixture video and alternating rounds to share the
machine's noise fairly:
  raw      - FaceLandmarker.detect_for_video alone on pre-decoded RGB frames (inference only)
  pipeline - the whole sidecar as shipped (`Pipeline.run`: tracking, solve, mapping, VMC over UDP to
             a loopback sink, WebSocket with one connected client; --vrchat adds VRChat OSC)
and prints per-stage medians, the sidecar's own per-frame work as a share of inference, and
the pipeline/raw fps ratio. Usage: python bench/bench_face.py [VIDEO] [--rounds N] [--frames N]
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VIDEO = ROOT.parent / "shared" / "fixtures" / "face" / "expressions_pexels.mp4"


def decode(path: Path, n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < n:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return frames


def raw_round(frames, ts0: int) -> float:
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from bridge.models import load_model
    opts = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(load_model("face_landmarker").path)),
        running_mode=vision.RunningMode.VIDEO, num_faces=1, output_face_blendshapes=True,
        output_facial_transformation_matrixes=True)
    with vision.FaceLandmarker.create_from_options(opts) as lm:
        t0 = time.perf_counter()
        for i, rgb in enumerate(frames):
            lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), ts0 + i * 33)
        return len(frames) / (time.perf_counter() - t0)


class MemorySource:
    """Hands out pre-decoded frames like a file source in fast mode, so both sides get the same input."""

    fps = 30.0
    live = False
    still = False
    description = "memory"

    def __init__(self, frames):
        self.frames = frames
        self.i = 0

    def read(self):
        from bridge.sources import Frame
        if self.i >= len(self.frames):
            return None
        f = Frame(self.frames[self.i], time.time(), self.i / self.fps, self.i)
        self.i += 1
        return f

    def close(self):
        pass


def pipeline_round(frames, ws_port: int, sink_port: int, with_vrchat: bool, classify: bool):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from bridge.config import from_tables
    from bridge.pipeline import Pipeline
    cfg = from_tables({"vmc": {"port": sink_port}, "vrchat": {"enabled": with_vrchat, "port": sink_port},
                       "websocket": {"port": ws_port}, "calibration": {"profile": "/nonexistent/profile.json"},
                       "classify": {"expression": classify, "action": classify}})
    p = Pipeline(cfg, MemorySource(frames))
    p.start_outputs()
    got = []
    stop = threading.Event()

    def client():
        with connect(f"ws://127.0.0.1:{ws_port}") as ws:
            while not stop.is_set():
                try:
                    got.append(len(ws.recv(timeout=0.5)))
                except TimeoutError:
                    pass
                except ConnectionClosed:
                    return

    t = threading.Thread(target=client, daemon=True)
    t.start()
    while p.outputs.client_count == 0:
        time.sleep(0.01)
    t0 = time.perf_counter()
    p.run()
    fps = len(frames) / (time.perf_counter() - t0)
    stop.set()
    t.join()
    return fps, p.stats.medians(), len(got)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--vrchat", action="store_true", help="also send VRChat OSC (off by default, as shipped)")
    ap.add_argument("--no-classify", action="store_true", help="without the expression/action classifiers")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    frames = decode(args.video, args.frames)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    ws_port = s.getsockname()[1]
    s.close()
    raw, pipe, stages = [], [], []
    print(f"{len(frames)} frames of {args.video.name} ({frames[0].shape[1]}x{frames[0].shape[0]}), {args.rounds} rounds",
          file=sys.stderr)
    for r in range(args.rounds):
        raw.append(raw_round(frames, r * 10_000_000))
        fps, med, ws_msgs = pipeline_round(frames, ws_port, sink.getsockname()[1], args.vrchat, not args.no_classify)
        pipe.append(fps)
        stages.append(med)
        print(f"round {r + 1}: raw {raw[-1]:.1f} fps, pipeline {fps:.1f} fps, ws client got {ws_msgs} messages",
              file=sys.stderr)
    keys = stages[0].keys()
    med = {k: statistics.median(s[k] for s in stages) for k in keys}
    own = med["total"] - med["track"]  # everything after inference: solve, classify, encode, send
    result = {
        "frames": len(frames), "rounds": args.rounds,
        "raw_fps_median": statistics.median(raw), "pipeline_fps_median": statistics.median(pipe),
        "ratio_pipeline_to_raw": statistics.median(pipe) / statistics.median(raw),
        "stage_ms_median": med, "own_work_ms": own, "own_work_share_of_inference": own / med["track"],
    }
    print("stage medians (ms/frame): " + ", ".join(f"{k} {v:.3f}" for k, v in med.items()))
    print(f"sidecar's own work: {own:.3f} ms/frame = {100 * own / med['track']:.1f}% of inference (target <= 5%)")
    print(f"throughput: raw FaceLandmarker {result['raw_fps_median']:.1f} fps, pipeline {result['pipeline_fps_median']:.1f} fps,"
          f" ratio {result['ratio_pipeline_to_raw']:.3f} (target >= 0.95)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
