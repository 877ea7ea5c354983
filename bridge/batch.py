"""Batch processing: videos -> recordings (and exports), with the real pipeline and no transports.

`process_videos` runs each video through the same Pipeline as `avatar-bridge run --fast`
(tracking, solving, filtering, mapping, mirroring from the config) with every transport off,
records every frame to `OUT/<video stem>.abr` and exports it (`.csv` Live Link Face, `.bvh`).
One face tracker is shared by all videos, so the face model is loaded once; the pose and hand
trackers (`[pose]`, `[hands]`, or `process --pose --hands`) are made per video.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from .config import Config, from_tables
from .errors import BridgeError
from .progress import Progress
from .recording import RecordingWriter, meta_for

log = logging.getLogger("avatar_bridge.batch")
FORMATS = ("abr", "csv", "bvh")


@dataclass
class VideoResult:
    video: Path
    frames: int = 0
    faces: int = 0
    outputs: dict[str, Path] = field(default_factory=dict)


def offline_config(cfg: Config | None = None, tables: dict | None = None) -> Config:
    """`cfg` (or the defaults, updated with `tables`) with every transport off and fast reading."""
    base = {"vmc": {"enabled": False}, "vrchat": {"enabled": False}, "websocket": {"enabled": False},
            "source": {"fast": True, "loop": False}}
    if cfg is not None:
        import dataclasses
        return dataclasses.replace(
            cfg, source=dataclasses.replace(cfg.source, fast=True, loop=False),
            vmc=dataclasses.replace(cfg.vmc, enabled=False), vrchat=dataclasses.replace(cfg.vrchat, enabled=False),
            websocket=dataclasses.replace(cfg.websocket, enabled=False))
    merged = {k: dict(v) for k, v in (tables or {}).items()}
    for k, v in base.items():
        merged.setdefault(k, {}).update(v)
    return from_tables(merged, "batch")


def _frame_count(path: Path) -> int | None:
    cap = cv2.VideoCapture(str(path))
    try:
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
    finally:
        cap.release()
    return n if n > 0 else None


def process_videos(paths, out_dir: str | Path, formats=FORMATS, progress: bool = True, cfg: Config | None = None,
                   tables: dict | None = None, tracker=None, landmarks: bool = False,
                   max_frames: int | None = None) -> list[VideoResult]:
    """Process each video in `paths`; returns one VideoResult per video (outputs by format)."""
    from .export import export
    from .pipeline import Pipeline
    from .sources import open_source
    from .tracking.face import FaceTracker, FaceTrackerSettings

    formats = tuple(formats)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise BridgeError(f"unknown output format {bad[0]!r}; allowed: {', '.join(FORMATS)}")
    paths = [Path(p) for p in paths]
    if not paths:
        raise BridgeError("no videos given: pass one or more video files")
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise BridgeError(f"video {missing[0]} not found: check the path")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BridgeError(f"cannot create output folder {out_dir} ({e.strerror})") from None
    cfg = offline_config(cfg, tables)
    own_tracker = tracker is None and cfg.face.enabled
    if own_tracker:
        f = cfg.face
        tracker = FaceTracker(FaceTrackerSettings(f.min_detection_confidence, f.min_detection_confidence,
                                                  f.min_tracking_confidence))
    results: list[VideoResult] = []
    used: set[str] = set()
    try:
        for i, video in enumerate(paths, 1):
            stem = video.stem
            k = 2
            while stem in used:
                stem, k = f"{video.stem}-{k}", k + 1
            used.add(stem)
            res = VideoResult(video)
            abr = out_dir / f"{stem}.abr"
            source = open_source(str(video), fast=True)
            total = _frame_count(video)
            if max_frames is not None:
                total = min(total, max_frames) if total else max_frames
            if tracker is not None:
                tracker.forget()  # the last video's face is not where this one's is
            try:
                pipeline = Pipeline(cfg, source, max_frames=max_frames, tracker=tracker)
            except BaseException:
                source.close()
                raise
            writer = RecordingWriter(abr, landmarks, meta_for(cfg, source) | {"video": str(video)})
            with Progress(total, f"[{i}/{len(paths)}] {video.name}", "frames", enabled=progress) as bar:
                pipeline.outputs.listeners.append(writer.write)
                pipeline.listeners.append(lambda f, bar=bar: bar.update())
                try:
                    stats = pipeline.run()
                finally:
                    writer.close()
            res.frames, res.faces = stats.frames, stats.faces
            if "abr" in formats:
                res.outputs["abr"] = abr
            for fmt in formats:
                if fmt != "abr":
                    out = out_dir / f"{stem}.{fmt}"
                    export(abr, out, fmt)
                    res.outputs[fmt] = out
            if "abr" not in formats:
                abr.unlink(missing_ok=True)
            log.info("%s: %d frames (face in %d) -> %s", video.name, res.frames, res.faces,
                     ", ".join(str(p) for p in res.outputs.values()))
            results.append(res)
    finally:
        if own_tracker:
            tracker.close()
    return results
