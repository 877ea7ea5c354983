"""Throughput of `process` on one process vs on a local Ray, on the same videos (face tracking and
classifiers, every export off but the recording). Each path runs once to warm up (Ray starts its
worker processes and they load their models then; printed, not counted), then `--runs` times; the
median frames per second is reported, and Ray's own start-up (once, before all runs) on its own.

    python bench/batch_ray.py [--runs 3] [--cpus 2] [--chunk-seconds 5] [VIDEO ...]
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", ROOT.parent / "shared" / "fixtures"))
VIDEOS = [FIXTURES / "face" / n for n in ("single_face.mp4", "expressions_pexels.mp4", "face_then_cartoon.mov",
                                          "cartoon_then_face.mov")]
TABLES = {"calibration": {"profile": "/nonexistent/avatar-bridge-bench-profile.json"}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("videos", nargs="*", type=Path, default=VIDEOS)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=os.cpu_count(), help="CPUs for the local Ray (default: all)")
    ap.add_argument("--chunk-seconds", type=float, default=5.0, help="parts for the chunked Ray run")
    args = ap.parse_args()
    import ray

    from bridge.batch import process_videos
    from bridge.batch_ray import process_videos_ray
    t0 = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, logging_level=logging.WARNING)
    startup = time.perf_counter() - t0
    paths = {"one process": lambda out: process_videos(args.videos, out, ("abr",), progress=False, tables=TABLES),
             "ray, whole videos": lambda out: process_videos_ray(args.videos, out, ("abr",), progress=False,
                                                                 tables=TABLES, chunk_s=None),
             f"ray, {args.chunk_seconds:g} s parts": lambda out: process_videos_ray(
                 args.videos, out, ("abr",), progress=False, tables=TABLES, chunk_s=args.chunk_seconds)}
    print(f"{len(args.videos)} videos, {args.runs} runs each, local Ray with {args.cpus} CPUs "
          f"(start-up {startup:.1f} s, not counted)", flush=True)
    try:
        for name, run in paths.items():
            rates = []
            for i in range(-1, args.runs):
                with tempfile.TemporaryDirectory() as out:
                    t = time.perf_counter()
                    res = run(out)
                    dt = time.perf_counter() - t
                failed = [f"{r.video.name}: {r.error}" for r in res if r.error]
                if failed:
                    raise SystemExit(f"{name}: {len(failed)} video(s) failed, no figure: {failed[0]}")
                n = sum(r.frames for r in res)
                if i < 0:
                    print(f"  {name} warm-up: {n} frames in {dt:.1f} s", flush=True)
                    continue
                rates.append(n / dt)
                print(f"  {name} run {i + 1}: {n} frames in {dt:.1f} s = {n / dt:.1f} frames/s", flush=True)
            print(f"{name}: median {statistics.median(rates):.1f} frames/s", flush=True)
    finally:
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
