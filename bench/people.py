"""What tracking several people costs: CPU ms per frame and fps for N = 1, 2 and 4 people.

Per frame: the face, pose and hand landmarkers with num_faces=N, num_poses=N, num_hands=2N
(bridge/tracking/multi.py, pose and hands on its 2-thread pool) and the association with stable ids
(bridge/tracking/people.py, appearance histograms included). CPU is the process's own CPU time over
all its threads (time.process_time), wall is time.perf_counter; both over the frames after a
warm-up, per round, and the medians of the rounds are printed. Footage, assembled from the real
fixture clips by tests/multi_person_media.py: "four" (four real people side by side, 1200x360) and
"crossing" (two real people who cross, 760x360), looped.
--pipeline measures the whole sidecar instead, as `avatar-bridge run --people N --pose --hands` runs
it (VMC on, classifiers as shipped): the pipeline with its post-processing worker, each person's
solvers, classifiers and VMC port, on the same frames (N = 1 is the one-person path users get by
default). Its CPU figure includes start-up-free steady work only: the clock starts at the warm-up's end.
--appearance prints the histogram distances behind people.py's appearance gates: one person across
each fixture clip, and different people (single-person HaGRID photos, 6 per gesture class).
Usage: python bench/people.py [--frames 30] [--rounds 3] [--warmup 5] [--pipeline] [--appearance]
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"
sys.path.insert(0, str(ROOT / "tests"))

from multi_person_media import crossing, four_people, read_rgb  # noqa: E402

from bridge.tracking.multi import MultiTrackers, MultiTrackerSettings  # noqa: E402
from bridge.tracking.people import PeopleSettings, PeopleTracker  # noqa: E402


def one_round(frames: list[np.ndarray], n: int, fps: float, warmup: int, count: int) -> dict:
    with MultiTrackers(MultiTrackerSettings(people=n)) as trackers:
        people = PeopleTracker(PeopleSettings(people=n))
        assoc, found = [], []
        k = 0
        for k in range(warmup + count):
            if k == warmup:
                cpu0, wall0 = time.process_time(), time.perf_counter()
            rgb = frames[k % len(frames)]
            o = trackers.process(rgb, int(k * 1000 / fps))
            t0 = time.perf_counter()
            ppl = people.update(o.poses, o.faces, o.hands, k / fps, rgb)
            if k >= warmup:
                assoc.append((time.perf_counter() - t0) * 1000)
                found.append(len(ppl))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"cpu_ms": cpu / count * 1000, "wall_ms": wall / count * 1000, "fps": count / wall,
            "assoc_ms": statistics.median(assoc), "people": statistics.mean(found)}


def pipeline_round(path: Path, n: int, warmup: int, count: int) -> dict:
    """The whole sidecar on a video (looped, as fast as it goes), timed from the end of the warm-up."""
    from bridge.config import from_tables
    from bridge.pipeline import Pipeline
    from bridge.sources import open_source
    cfg = from_tables({"tracking": {"people": n}, "pose": {"enabled": True}, "hands": {"enabled": True},
                       "websocket": {"enabled": False}, "source": {"loop": True, "fast": True}})
    source = open_source(str(path), fast=True, loop=True)
    pipe = Pipeline(cfg, source, max_frames=warmup + count)
    mark: dict = {}
    people: list[int] = []

    def listen(frame) -> None:
        if frame.seq == warmup - 1:
            mark["cpu"], mark["wall"] = time.process_time(), time.perf_counter()
        elif frame.seq >= warmup:
            people.append(sum(p.face.found or p.box is not None for p in frame.people))

    pipe.listeners.append(listen)
    pipe.run()
    cpu, wall = time.process_time() - mark["cpu"], time.perf_counter() - mark["wall"]
    return {"cpu_ms": cpu / count * 1000, "wall_ms": wall / count * 1000, "fps": count / wall,
            "assoc_ms": float("nan"), "people": statistics.mean(people)}


def appearance() -> None:
    import cv2

    from bridge.tracking.people import bhattacharyya, group, hue_histogram

    def hist(trackers, rgb):
        o = trackers.process(rgb, 0)
        dets = group(o.poses, o.faces, o.hands)
        if not dets:
            return None
        d = max(dets, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
        return hue_histogram(rgb, d.region)

    with MultiTrackers(MultiTrackerSettings(people=1, hands=False), still_images=True) as t:
        same = []
        for clip, step in (("face/expressions_pexels.mp4", 24), ("face/single_face.mp4", 12),
                           ("body/ntu_S001C001P001R001A001_rgb.avi", 15), ("face/face_then_cartoon.mov", 10)):
            hs = [h for h in (hist(t, f) for f in read_rgb(FIXTURES / clip)[::step]) if h is not None]
            d = [bhattacharyya(a, b) for a, b in itertools.combinations(hs, 2)]
            same += d
            print(f"  one person, {clip}: {len(hs)} frames, distance median {np.median(d):.3f}, max {max(d):.3f}")
        hs = []
        for cls in ("palm", "like", "peace", "one", "fist", "ok", "rock", "dislike"):
            for p in sorted((FIXTURES / "gesture" / cls).iterdir())[:6]:
                h = hist(t, cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB))
                if h is not None:
                    hs.append(h)
        diff = np.array([bhattacharyya(a, b) for a, b in itertools.combinations(hs, 2)])
        print(f"  different people, {len(hs)} HaGRID photos: distance min {diff.min():.3f}, "
              f"1st percentile {np.percentile(diff, 1):.3f}, median {np.median(diff):.3f}")
        for gate in (PeopleSettings().appearance_gate, PeopleSettings().appearance_veto):
            print(f"  under {gate}: {np.mean(np.array(same) < gate):.1%} of one person's pairs, "
                  f"{np.mean(diff < gate):.2%} of different people's")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--pipeline", action="store_true", help="the whole sidecar, not the trackers and association alone")
    ap.add_argument("--appearance", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clips = {"four": four_people(FIXTURES, Path(tmp), seconds=3.0), "crossing": crossing(FIXTURES, Path(tmp))}
        footage = {name: (read_rgb(c.path), c) for name, c in clips.items()}
        what = "the whole sidecar (bridge.pipeline)" if args.pipeline else "trackers + association"
        print(f"{what}: {args.rounds} rounds of {args.frames} frames after {args.warmup} warm-up; medians of the rounds")
        print(f"{'footage':9} {'N':>2} {'CPU ms/frame':>13} {'wall ms':>8} {'fps':>6} {'assoc ms':>9} {'people':>7}")
        for name, (frames, clip) in footage.items():
            for n in (1, 2, 4):
                rounds = [pipeline_round(clip.path, n, args.warmup, args.frames) if args.pipeline else
                          one_round(frames, n, clip.fps, args.warmup, args.frames) for _ in range(args.rounds)]
                m = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
                print(f"{name:9} {n:>2} {m['cpu_ms']:>13.1f} {m['wall_ms']:>8.1f} {m['fps']:>6.1f} "
                      f"{m['assoc_ms']:>9.2f} {m['people']:>7.2f}", flush=True)
    if args.appearance:
        print("appearance histogram distances (Bhattacharyya):")
        appearance()


if __name__ == "__main__":
    main()
