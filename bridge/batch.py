"""Batch processing: videos -> recordings (and exports, reports), with the real pipeline and no transports.

`process_videos` runs each video through the same Pipeline as `avatar-bridge run --fast`
(tracking, solving, filtering, mapping, mirroring from the config) with every transport off,
records every frame to `OUT/<video stem>.abr` and exports it (`.csv` Live Link Face, `.bvh`;
`.html` with `report=True`). One face tracker is shared by all videos, so the face model is
loaded once; the pose and hand trackers (`[pose]`, `[hands]`, or `process --pose --hands`) are
made per video. `track_part` is the one way a video (or a part of it) becomes frames: the
single-process path, `annotate` and the Ray path (`batch_ray.py`) all go through it.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from .config import Config, from_tables
from .errors import BridgeError
from .frame import AvatarFrame
from .progress import Progress
from .recording import RecordingWriter, meta_for
from .sources import Source

log = logging.getLogger("avatar_bridge.batch")
FORMATS = ("abr", "csv", "bvh")


@dataclass
class VideoResult:
    video: Path
    frames: int = 0
    faces: int = 0
    outputs: dict[str, Path] = field(default_factory=dict)
    error: str | None = None  # the Ray path reports a video that failed twice here instead of raising


@dataclass(frozen=True)
class Part:
    """Frames [start, end) of a video (end None: to its end), tracked from frame `warm` <= start so
    that the trackers, filters and classifier windows have settled by `start`; the frames before
    `start` are tracked and dropped."""

    video: Path
    start: int = 0
    end: int | None = None
    warm: int = 0


def offline_config(cfg: Config | None = None, tables: dict | None = None) -> Config:
    """`cfg` (or the defaults, updated with `tables`) with every transport off and fast reading."""
    base = {"vmc": {"enabled": False}, "vrchat": {"enabled": False}, "websocket": {"enabled": False},
            "source": {"fast": True, "loop": False}}
    if cfg is not None:
        return dataclasses.replace(
            cfg, source=dataclasses.replace(cfg.source, fast=True, loop=False),
            vmc=dataclasses.replace(cfg.vmc, enabled=False), vrchat=dataclasses.replace(cfg.vrchat, enabled=False),
            websocket=dataclasses.replace(cfg.websocket, enabled=False))
    merged = {k: dict(v) for k, v in (tables or {}).items()}
    for k, v in base.items():
        merged.setdefault(k, {}).update(v)
    return from_tables(merged, "batch")


def frame_count(path: Path) -> int | None:
    """The container's frame count (None when it does not say)."""
    cap = cv2.VideoCapture(str(path))
    try:
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
    finally:
        cap.release()
    return n if n > 0 else None


def check_videos(paths, out_dir: str | Path, formats) -> tuple[list[Path], Path, tuple[str, ...]]:
    """The arguments of a batch run, checked: one line saying what is wrong, before any work starts."""
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
    return paths, out_dir, formats


def stems(paths: list[Path]) -> list[str]:
    """One output name per video: its stem, `-2`, `-3`... for repeated stems."""
    used: set[str] = set()
    out = []
    for video in paths:
        stem, k = video.stem, 2
        while stem in used:
            stem, k = f"{video.stem}-{k}", k + 1
        used.add(stem)
        out.append(stem)
    return out


def face_tracker(cfg: Config):
    """A face tracker with the config's settings (None with `[face] enabled = false`)."""
    from .tracking.face import FaceTracker, FaceTrackerSettings
    if not cfg.face.enabled:
        return None
    f = cfg.face
    return FaceTracker(FaceTrackerSettings(f.min_detection_confidence, f.min_detection_confidence,
                                           f.min_tracking_confidence))


class _PartSource(Source):
    """A video's frames from index `first` up to `end` (decoded from the start and skipped: seeking
    is not frame-exact in every codec, and decoding costs little next to tracking)."""

    def __init__(self, video: Path, first: int, end: int | None):
        from .sources import open_source
        self.inner = open_source(str(video), fast=True)
        self.fps, self.description = self.inner.fps, self.inner.description
        self.first, self.end = first, end

    def read(self):
        while (f := self.inner.read()) is not None:
            if self.end is not None and f.index >= self.end:
                return None
            if f.index >= self.first:
                return f
        return None

    def close(self) -> None:
        self.inner.close()


def track_part(part: Part, cfg: Config, tracker, on_frame: Callable[[AvatarFrame], None],
               observers=(), on_meta: Callable[[dict], None] | None = None) -> tuple[int, int]:
    """Run `part` through the pipeline with `tracker` (a face tracker kept between videos, or None);
    `on_frame(frame)` gets each kept frame, its `seq` the frame's index in the video, and each of
    `observers(frame, rgb, views)` too (each person with their observations); `on_meta(meta)` the recording metadata before the
    first frame. Returns (frames kept, frames with a face)."""
    from .pipeline import Pipeline
    source = _PartSource(part.video, part.warm, part.end)
    if tracker is not None:
        tracker.forget()  # the last video's face is not where this one's is
    try:
        pipeline = Pipeline(cfg, source, tracker=tracker)
    except BaseException:
        source.close()
        raise
    if on_meta is not None:
        on_meta(meta_for(cfg, source) | {"video": str(part.video)})
    counts = [0, 0]

    def keep(frame: AvatarFrame) -> None:
        frame.seq += part.warm
        if frame.seq >= part.start:
            counts[0] += 1
            counts[1] += frame.found
            on_frame(frame)

    pipeline.listeners.append(keep)
    for observer in observers:
        pipeline.observers.append(lambda f, rgb, views, o=observer: f.seq >= part.start and o(f, rgb, views))
    pipeline.run()
    return counts[0], counts[1]


def finish(res: VideoResult, abr: Path, out_dir: Path, stem: str, formats, report: bool) -> None:
    """The exports (and report) of a written recording, into `res.outputs`; drops the .abr when not asked for."""
    from .export import export
    if "abr" in formats:
        res.outputs["abr"] = abr
    for fmt in formats:
        if fmt != "abr":
            out = out_dir / f"{stem}.{fmt}"
            export(abr, out, fmt)
            res.outputs[fmt] = out
    if report:
        from .report import write_report
        res.outputs["html"] = write_report(abr, out_dir / f"{stem}.html")
    if "abr" not in formats:
        abr.unlink(missing_ok=True)
    log.info("%s: %d frames (face in %d) -> %s", res.video.name, res.frames, res.faces,
             ", ".join(str(p) for p in res.outputs.values()))


def process_videos(paths, out_dir: str | Path, formats=FORMATS, progress: bool = True, cfg: Config | None = None,
                   tables: dict | None = None, tracker=None, landmarks: bool = False,
                   max_frames: int | None = None, report: bool = False) -> list[VideoResult]:
    """Process each video in `paths`; returns one VideoResult per video (outputs by format)."""
    paths, out_dir, formats = check_videos(paths, out_dir, formats)
    if report:
        from .report import require_matplotlib
        require_matplotlib()
    cfg = offline_config(cfg, tables)
    own_tracker = tracker is None
    if own_tracker:
        tracker = face_tracker(cfg)
    results: list[VideoResult] = []
    try:
        for i, (video, stem) in enumerate(zip(paths, stems(paths)), 1):
            res = VideoResult(video)
            abr = out_dir / f"{stem}.abr"
            total = frame_count(video)
            if max_frames is not None:
                total = min(total, max_frames) if total else max_frames
            writers: list[RecordingWriter] = []
            with Progress(total, f"[{i}/{len(paths)}] {video.name}", "frames", enabled=progress) as bar:
                def write(frame: AvatarFrame) -> None:
                    writers[0].write(frame)
                    bar.update()
                try:
                    res.frames, res.faces = track_part(
                        Part(video, end=max_frames), cfg, tracker, write,
                        on_meta=lambda meta: writers.append(RecordingWriter(abr, landmarks, meta)))
                finally:
                    for w in writers:
                        w.close()
            finish(res, abr, out_dir, stem, formats, report)
            results.append(res)
    finally:
        if own_tracker and tracker is not None:
            tracker.close()
    return results
