"""Batch processing on Ray: `process VIDEO... --ray [auto|ADDRESS]` (docs/batch.md).

The driver (this process) plans each video as one task, or, when a video is longer than
`chunk_s`, as parts of `chunk_s` seconds, each tracked from OVERLAP_S earlier so that the
trackers, filters and classifier windows settle before the part's first kept frame (the overlap
frames are tracked and dropped). A task is `run_part`: `batch.track_part`, the same code as the
single-process path, on a worker that keeps its face landmarker between tasks (a module-level
cache in the worker process). A task returns its frames to the driver, which writes each video's
recording, exports and report as soon as all its parts are in: outputs land only in the driver's
`--out` folder, and workers need no shared disk. A failed task is reported and retried once;
a video whose task fails twice is reported in its VideoResult while the others go on.

Ray is the optional extra `[ray]`; nothing else imports this module.
"""
from __future__ import annotations

import atexit
import logging
import tempfile
from pathlib import Path

from .batch import (FORMATS, Part, VideoResult, check_videos, face_tracker, finish, frame_count, offline_config,
                    stems, track_part)
from .config import Config
from .errors import BridgeError
from .progress import Progress
from .recording import RecordingWriter

log = logging.getLogger("avatar_bridge.batch")
CHUNK_S = 120.0  # a longer video is split into parts of this many seconds
OVERLAP_S = 2.0  # each part is tracked from this much earlier: the face filters and action windows settle in ~1 s
REPORT_EVERY = 10  # frames between a worker's progress reports
# CPUs a task asks for: a pipeline keeps two cores busy (tracking on one thread while the frame before
# is solved, classified and recorded on another; pose and hands beside the face), so one task per
# core would oversubscribe them (measured on 2 cores: 29.6 frames/s with 1 CPU a task, 51 in one process)
TASK_CPUS = 2

_TRACKERS: dict = {}  # in a worker process: its face trackers by settings, kept between tasks
_SHIPPED: dict = {}  # in a worker process: local copies of videos shipped from the driver


def require_ray():
    try:
        import ray
    except ImportError:
        raise BridgeError("--ray needs Ray: pip install \"avatar-bridge[ray]\" (or pip install ray)") from None
    return ray


def plan(video: Path, frames: int | None, fps: float, chunk_s: float | None, max_frames: int | None) -> list[Part]:
    """The parts of one video: one when it is no longer than `chunk_s` (or its length is unknown)."""
    n = min(frames, max_frames) if frames and max_frames else frames or max_frames
    size = max(1, round(chunk_s * fps)) if chunk_s else None
    if size is None or n is None or n <= size:
        return [Part(video, end=max_frames)]
    overlap = round(OVERLAP_S * fps)
    starts = list(range(0, n, size))
    # the last part runs to the video's (or max_frames') end: a container's frame count can be off
    return [Part(video, s, s + size if s != starts[-1] else max_frames, max(0, s - overlap)) for s in starts]


def _worker_tracker(cfg: Config):
    f = cfg.face
    key = (f.enabled, f.min_detection_confidence, f.min_tracking_confidence)
    if key not in _TRACKERS:
        _TRACKERS[key] = face_tracker(cfg)
        if _TRACKERS[key] is not None:
            atexit.register(_TRACKERS[key].close)  # MediaPipe's own destructor fails at interpreter exit
    return _TRACKERS[key]


def _local_video(part: Part, size: int, shipped) -> Part:
    """The part with a path this worker can read: the driver's path when it is here (a shared disk or
    the same machine), else a local copy of the bytes the driver shipped (once per worker)."""
    p = part.video
    if p.is_file() and p.stat().st_size == size:
        return part
    if shipped is None:
        raise BridgeError(f"video {p} is not on this Ray worker's machine: give the cluster's address to --ray "
                          "(the videos are then shipped to the workers) or put them on a shared disk")
    key = (str(p), size)
    if key not in _SHIPPED:
        import ray
        tmp = tempfile.NamedTemporaryFile(suffix=p.suffix, prefix="avatar-bridge-", delete=False)
        with tmp:
            tmp.write(ray.get(shipped[0]))
        _SHIPPED[key] = Path(tmp.name)
    return Part(_SHIPPED[key], part.start, part.end, part.warm)


def run_part(part: Part, cfg: Config, landmarks: bool, size: int, shipped, counter, key) -> dict:
    """A Ray task: track `part` on this worker; returns its kept frames and the recording metadata."""
    local = _local_video(part, size, shipped)
    frames, meta = [], {}

    def keep(frame) -> None:
        if not landmarks:
            frame.people = [_without_landmarks(p) for p in frame.people]
        frames.append(frame)
        if len(frames) % REPORT_EVERY == 0:
            counter.set.remote(key, len(frames))

    n, faces = track_part(local, cfg, _worker_tracker(cfg), keep, on_meta=meta.update)
    counter.set.remote(key, n)
    meta["video"] = str(part.video)
    return {"frames": frames, "faces": faces, "meta": meta}


def _without_landmarks(p):
    p.face.landmarks = None
    p.subject.landmarks = None
    return p


def _counter_class(ray):
    @ray.remote(num_cpus=0)
    class Counter:
        """Frames done per part (a retried part starts again from 0): one progress bar for the run."""

        def __init__(self):
            self.done: dict = {}

        def set(self, key, n: int) -> None:
            self.done[key] = n

        def total(self) -> int:
            return sum(self.done.values())

    return Counter


def _one_line(e: BaseException) -> str:
    cause = getattr(e, "cause", None) or e
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}" if not isinstance(cause, BridgeError) else lines[0]


def process_videos_ray(paths, out_dir: str | Path, formats=FORMATS, progress: bool = True, cfg: Config | None = None,
                       tables: dict | None = None, landmarks: bool = False, max_frames: int | None = None,
                       report: bool = False, address: str = "auto", chunk_s: float | None = CHUNK_S) -> list[VideoResult]:
    """`batch.process_videos` on Ray: the same outputs, one VideoResult per video (a failed one with `error`).
    `address` "auto" starts a local Ray unless this process already has one; else a cluster's address."""
    ray = require_ray()
    paths, out_dir, formats = check_videos(paths, out_dir, formats)
    if report:
        from .report import require_matplotlib
        require_matplotlib()
    cfg = offline_config(cfg, tables)
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=None if address == "auto" else address, include_dashboard=False,
                     logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as e:
            raise BridgeError(f"--ray {address}: cannot reach a Ray cluster there ({_one_line(e)}); "
                              "use --ray auto for a local one") from None
    try:
        return _run(ray, paths, out_dir, formats, progress, cfg, landmarks, max_frames, report, address != "auto",
                    chunk_s)
    finally:
        if started:
            ray.shutdown()


def _run(ray, paths, out_dir, formats, progress, cfg, landmarks, max_frames, report, ship, chunk_s):
    import cv2
    cpus = min(TASK_CPUS, max(1, int(ray.cluster_resources().get("CPU", 1))))
    task = ray.remote(num_cpus=cpus, max_retries=0)(run_part)  # retried below, once, with the error reported
    counter = _counter_class(ray).remote()
    results = [VideoResult(v) for v in paths]
    names = stems(paths)
    jobs = []  # per video: (parts, size, shipped)
    expected = []  # per video: the frames it should give (for the progress bar)
    for video in paths:
        cap = cv2.VideoCapture(str(video))
        fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0
        cap.release()
        n = frame_count(video)
        parts = plan(video, n, fps if 1 <= fps <= 240 else 30.0, chunk_s, max_frames)
        size = video.stat().st_size
        jobs.append((parts, size, [ray.put(video.read_bytes())] if ship else None))
        expected.append(min(n, max_frames) if n and max_frames else n or max_frames or 0)
    pending: dict = {}
    done: list[dict] = [{} for _ in paths]

    def submit(vi: int, pi: int, attempt: int) -> None:
        parts, size, shipped = jobs[vi]
        key = (vi, pi)
        pending[task.remote(parts[pi], cfg, landmarks, size, shipped, counter, key)] = (vi, pi, attempt)

    for vi, (parts, _, _) in enumerate(jobs):
        for pi in range(len(parts)):
            submit(vi, pi, 0)
    with Progress(sum(expected) or None, f"{len(paths)} video(s) on Ray", "frames", enabled=progress) as bar:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for ref in ready:
                vi, pi, attempt = pending.pop(ref)
                res = results[vi]
                try:
                    out = ray.get(ref)
                except Exception as e:  # noqa: BLE001 - a task's failure is reported, never fatal to the run
                    if res.error is not None:
                        continue
                    if attempt == 0:
                        log.warning("%s: part %d failed (%s); retrying once", res.video.name, pi + 1, _one_line(e))
                        submit(vi, pi, 1)
                    else:
                        res.error = _one_line(e)
                        done[vi] = {}
                        if bar.total:
                            bar.total = max(1, bar.total - expected[vi])
                        log.error("%s failed twice, skipped: %s", res.video.name, res.error)
                    continue
                if res.error is None:
                    done[vi][pi] = out
                    if len(done[vi]) == len(jobs[vi][0]):
                        _write_video(res, done[vi], out_dir, names[vi], formats, landmarks, report)
                        done[vi] = {}
            bar.update(ray.get(counter.total.remote()) - bar.n)
    return results


def _write_video(res: VideoResult, parts: dict, out_dir: Path, stem: str, formats, landmarks: bool,
                 report: bool) -> None:
    """A video's recording from its parts in order, then its exports: as soon as the video is done."""
    abr = out_dir / f"{stem}.abr"
    with RecordingWriter(abr, landmarks, parts[0]["meta"]) as w:
        for pi in sorted(parts):
            for frame in parts[pi]["frames"]:
                w.write(frame)
            res.frames += len(parts[pi]["frames"])
            res.faces += parts[pi]["faces"]
    finish(res, abr, out_dir, stem, formats, report)
