"""Face + pose + hands landmarkers on the same frames: one after another vs overlapped on a thread pool.

On the same decoded frames of a fixture video, in alternating rounds (so the machine's noise is
shared fairly), each in VIDEO mode with its own landmarker instances:
  sequential  - face, pose, hands one after another per frame (the baseline);
  overlapped  - the three submitted together to a ThreadPoolExecutor (MediaPipe releases the GIL in
                its C++ calls), waiting for all three before the next frame;
  overlapped+skip - as overlapped, but hand inference is skipped when the previous frame's pose has
                no hand landmark in view and the last hand inference found no hand with its wrist in
                the image (decided from the last frame, so the three still start together);
and the retargeting (BodySolver + HandSolver) cost per frame. Prints per-landmarker median ms,
their sum, fps of each mode and the overlapped/sequential ratio (goal > 1.3).
Usage: python bench/bench_body.py [VIDEO] [--frames N] [--rounds N] [--pose-model lite|full] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench_face import DEFAULT_VIDEO, decode  # noqa: E402  (same frames as the face bench)


def make_trackers(pose_model: str):
    from bridge.tracking.face import FaceTracker
    from bridge.tracking.hands import HandTracker
    from bridge.tracking.pose import PoseTracker, PoseTrackerSettings
    return FaceTracker(), PoseTracker(PoseTrackerSettings(model=pose_model)), HandTracker()


def timed(fn, *a):
    t0 = time.perf_counter()
    r = fn(*a)
    return r, (time.perf_counter() - t0) * 1000


def sequential_round(frames, trackers, ts0: int) -> tuple[float, dict[str, list[float]]]:
    face, pose, hands = trackers
    ms: dict[str, list[float]] = {"face": [], "pose": [], "hands": []}
    t0 = time.perf_counter()
    for i, rgb in enumerate(frames):
        ts = ts0 + i * 33
        for name, tr in (("face", face), ("pose", pose), ("hands", hands)):
            _, dt = timed(tr.process, rgb, ts)
            ms[name].append(dt)
    return len(frames) / (time.perf_counter() - t0), ms


def overlapped_round(frames, trackers, pool: ThreadPoolExecutor, ts0: int, skip_hands: bool) -> tuple[float, int]:
    from bridge.tracking.hands import hands_in_view
    face, pose, hands = trackers
    ran_hands = 0
    last_pose = None
    last_hands: list = []
    t0 = time.perf_counter()
    for i, rgb in enumerate(frames):
        ts = ts0 + i * 33
        fp = pool.submit(pose.process, rgb, ts)
        need_hands = not skip_hands or last_pose is None or last_pose.any_hand_in_view() or hands_in_view(last_hands)
        fh = pool.submit(hands.process, rgb, ts) if need_hands else None
        face.process(rgb, ts)  # the calling thread does the face meanwhile
        last_pose = fp.result()
        if fh is not None:
            last_hands = fh.result()
            ran_hands += 1
        else:
            last_hands = []
    return len(frames) / (time.perf_counter() - t0), ran_hands


def solve_cost(frames, pose_model: str) -> tuple[float, float, int]:
    """Median ms per frame of BodySolver + HandSolver on this video's real observations."""
    from bridge.retarget.body import BodySettings, BodySolver
    from bridge.retarget.hands import HandSolver
    from bridge.tracking.hands import HandTracker
    from bridge.tracking.pose import PoseTracker, PoseTrackerSettings
    obs = []
    with PoseTracker(PoseTrackerSettings(model=pose_model)) as pt, HandTracker() as ht:
        for i, rgb in enumerate(frames[:60]):
            obs.append((pt.process(rgb, i * 33), ht.process(rgb, i * 33)))
    body, hs = BodySolver(BodySettings(), mirror=True), HandSolver(mirror=True)
    bms, hms, found = [], [], 0
    for i, (p, h) in enumerate(obs):
        t = i / 30
        wr = None if p is None else {"Left": p.landmarks[15, :2], "Right": p.landmarks[16, :2]}
        r, dt_h = timed(hs.solve, h, t, wr)
        _, dt_b = timed(body.solve, None if p is None else p.world, None if p is None else p.visibility, t,
                        None if p is None else p.landmarks, None, r.hand_world)
        bms.append(dt_b)
        hms.append(dt_h)
        found += p is not None
    return statistics.median(bms), statistics.median(hms), found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pose-model", default="full", choices=["lite", "full"])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    frames = decode(args.video, args.frames)
    print(f"{len(frames)} frames of {args.video.name} ({frames[0].shape[1]}x{frames[0].shape[0]}), pose {args.pose_model}, "
          f"{args.rounds} rounds, pool of {args.workers}", file=sys.stderr)
    trackers = make_trackers(args.pose_model)
    seq_fps, ovl_fps, skip_fps, ran = [], [], [], []
    per: dict[str, list[float]] = {"face": [], "pose": [], "hands": []}
    ts = 0
    try:
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            overlapped_round(frames[:10], trackers, pool, ts, False)  # warm-up
            ts += 1_000_000
            for r in range(args.rounds):
                fps, ms = sequential_round(frames, trackers, ts)
                ts += 1_000_000
                seq_fps.append(fps)
                for k in per:
                    per[k].extend(ms[k])
                fps, _ = overlapped_round(frames, trackers, pool, ts, False)
                ts += 1_000_000
                ovl_fps.append(fps)
                fps, n = overlapped_round(frames, trackers, pool, ts, True)
                ts += 1_000_000
                skip_fps.append(fps)
                ran.append(n)
                print(f"round {r + 1}: sequential {seq_fps[-1]:.1f} fps, overlapped {ovl_fps[-1]:.1f} fps, "
                      f"overlapped+skip {skip_fps[-1]:.1f} fps (hands ran on {n}/{len(frames)} frames)", file=sys.stderr)
    finally:
        for t in trackers:
            t.close()
    med = {k: statistics.median(v) for k, v in per.items()}
    body_ms, hands_ms, found = solve_cost(frames, args.pose_model)
    s, o, k = statistics.median(seq_fps), statistics.median(ovl_fps), statistics.median(skip_fps)
    result = {
        "video": args.video.name, "frames": len(frames), "rounds": args.rounds, "pose_model": args.pose_model,
        "landmarker_ms_median": med, "sequential_sum_ms": sum(med.values()),
        "sequential_fps": s, "overlapped_fps": o, "overlapped_skip_fps": k,
        "ratio_overlapped": o / s, "ratio_overlapped_skip": k / s,
        "hands_ran_frames_with_skip": statistics.median(ran),
        "solve_ms_median": {"body": body_ms, "hands": hands_ms}, "pose_found_of_60": found,
    }
    print("landmarker medians (ms/frame, sequential rounds): " + ", ".join(f"{k} {v:.2f}" for k, v in med.items())
          + f"; sum {result['sequential_sum_ms']:.2f}")
    print(f"retargeting: body {body_ms:.3f} ms, hands {hands_ms:.3f} ms per frame")
    print(f"fps: sequential {s:.1f}, overlapped {o:.1f} (ratio {o / s:.2f}), "
          f"overlapped + hand skipping {k:.1f} (ratio {k / s:.2f}; goal > 1.3)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
