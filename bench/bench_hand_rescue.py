"""How often the hand rescue (tracking.hands.HandRescuer) runs on real video, and what it costs.

Runs the sidecar's Trackers (face off, pose full, hands with the rescue) in VIDEO mode over a clip,
as live, and counts per frame: hands found by the full-frame landmarker, frames where the rescue ran
(a pose wrist in view without its hand), crops searched, hands it found; median ms of the
full-frame hand landmarker and of one rescue call (all its crops), and per crop; and how often a
rescued hand's own MediaPipe label agrees with the pose wrist it was assigned to.
Usage: python bench/bench_hand_rescue.py [VIDEO ...] [--frames N] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench_face import decode  # noqa: E402

BODY = ROOT.parent / "shared" / "fixtures" / "body"
DEFAULT_VIDEOS = [BODY / "mmaction2_demo.mp4", BODY / "ntu_S001C001P001R001A001_rgb.avi",
                  ROOT.parent / "shared" / "fixtures" / "face" / "expressions_pexels.mp4"]


def run(video: Path, n: int) -> dict:
    from bridge.config import from_tables
    from bridge.tracking.combined import Trackers
    from bridge.tracking.hands import PERSON_SIDE
    frames = decode(video, n)
    cfg = from_tables({"face": {"enabled": False}, "pose": {"enabled": True}, "hands": {"enabled": True}})
    tr = Trackers(cfg, still_images=False)
    hands_ms, rescue_ms, found_full, ran, rescued_frames, label_agrees = [], [], 0, 0, 0, 0
    try:
        for i, rgb in enumerate(frames):
            before = tr.rescuer.found
            obs = tr.process(rgb, int(i * 1000 / 30))
            if "hands" in obs.timings_ms:
                hands_ms.append(obs.timings_ms["hands"])
            if "hand_rescue" in obs.timings_ms:
                ran += 1
                rescue_ms.append(obs.timings_ms["hand_rescue"])
            k = tr.rescuer.found - before
            rescued_frames += k > 0
            found_full += len(obs.hands) > k
            label_agrees += sum(PERSON_SIDE[h.mp_label] == h.side for h in obs.hands[len(obs.hands) - k:])
        crops, found = tr.rescuer.attempts, tr.rescuer.found
    finally:
        tr.close()
    med = (lambda v: round(statistics.median(v), 2) if v else None)
    return {"video": video.name, "frames": len(frames), "frames_full_frame_found_a_hand": found_full,
            "frames_rescue_ran": ran, "crops_searched": crops, "hands_rescued": found,
            "frames_with_a_rescued_hand": rescued_frames, "rescued_label_agrees_with_wrist": label_agrees,
            "hands_ms_median": med(hands_ms),
            "rescue_ms_median": med(rescue_ms),
            "ms_per_crop": round(sum(rescue_ms) / crops, 2) if crops else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("videos", nargs="*", type=Path, default=DEFAULT_VIDEOS)
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    out = [run(v, a.frames) for v in a.videos]
    for r in out:
        print(json.dumps(r))
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
