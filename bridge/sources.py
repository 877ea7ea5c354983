"""Frame sources: camera, video file, image file, image folder.

A camera runs on its own thread and always hands over the newest frame (old frames are
dropped: latency beats completeness live). Files are decoded on a reader thread into a short
queue, in order and without loss, so decoding overlaps tracking; `fast=False` paces them at
their own frame rate.

A file source that fails rather than ends (cut short, deleted or replaced while it is read, gone
when `--loop` reopens it) raises SourceError from `read()` once the frames before the fault are
handed over, so the CLI says what happened in one line and exits non-zero.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import BridgeError, SourceError
from .tracking.native_logs import quiet_opencv_logs

quiet_opencv_logs()

# A container's frame count may be an estimate (duration x fps): no_face.mp4 says 98 and holds 95.
# A pass that reads this share of it is complete, unless the file changed while it was read.
COMPLETE = 0.95

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass(slots=True)
class Frame:
    rgb: np.ndarray  # H x W x 3 uint8
    capture_time: float  # time.time() when captured/decoded
    source_time: float  # seconds into the source (monotonic across loops)
    index: int


class Source:
    fps: float = 30.0
    live: bool = False
    still: bool = False  # unrelated pictures rather than a video: track each on its own
    description: str = ""

    def read(self) -> Frame | None:
        """The next frame, or None at the end of the source."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class _FileReader(Source):
    """Decodes `_frames()` on a thread into a bounded queue; paces output unless fast."""

    def __init__(self, loop: bool, fast: bool):
        self.loop = loop
        self.fast = fast
        self._q: queue.Queue = queue.Queue(maxsize=4)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._t0: float | None = None
        self.frames_read = 0  # handed to the pipeline; the soak checks none is lost after this
        self._thread = threading.Thread(target=self._run, name="source-reader", daemon=True)

    def _start(self) -> None:
        self._thread.start()

    def _decode(self):
        raise NotImplementedError

    def _run(self) -> None:
        try:
            index = 0
            offset = 0.0
            while not self._stop.is_set():
                n_before = index
                last_t = 0.0
                for rgb, t in self._decode():
                    last_t = t
                    item = (rgb, offset + t, index)
                    while not self._stop.is_set():
                        try:
                            self._q.put(item, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    index += 1
                    if self._stop.is_set():
                        return
                if self._stop.is_set():
                    return
                if index == n_before:
                    raise SourceError(f"{self.description}: no frame could be read (deleted, moved or damaged?)")
                if not self.loop:
                    break
                offset += last_t + 1.0 / self.fps
        except BaseException as e:  # noqa: BLE001 - handed to the reading thread
            self._error = e
        finally:
            self._q.put(None)

    def read(self) -> Frame | None:
        item = self._q.get()
        if item is None:
            self._q.put(None)
            if isinstance(self._error, BridgeError):
                raise self._error
            if self._error is not None:
                raise SourceError(f"{self.description}: reading failed ({self._error})")
            return None
        rgb, st, index = item
        self.frames_read += 1
        if not self.fast:
            now = time.monotonic()
            if self._t0 is None:
                self._t0 = now - st
            delay = self._t0 + st - now
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.25:
                self._t0 = now - st  # fell behind: don't rush to catch up
        return Frame(rgb, time.time(), st, index)

    def close(self) -> None:
        self._stop.set()
        try:
            while True:
                self._q.get_nowait()
        except queue.Empty:
            pass
        self._thread.join(timeout=2)


class VideoSource(_FileReader):
    def __init__(self, path: Path, loop: bool = False, fast: bool = False):
        super().__init__(loop, fast)
        self.path = path
        self.description = f"video {path}"
        cap = cv2.VideoCapture(str(path))
        ok, _ = cap.read() if cap.isOpened() else (False, None)
        fps = cap.get(cv2.CAP_PROP_FPS) if ok else 0
        cap.release()
        if not ok:
            raise SourceError(f"cannot read video {path}: the file is damaged, incomplete or not a video OpenCV "
                              "can decode (try converting it to MP4/H.264)")
        self.fps = fps if 1 <= fps <= 240 else 30.0
        self._start()

    def _decode(self):
        before = _identity(self.path)
        cap = cv2.VideoCapture(str(self.path))
        try:
            if not cap.isOpened():
                raise SourceError(f"{self.description} became unreadable when it was opened again "
                                  "(deleted or moved?): put it back or drop --loop")
            expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            i = 0
            while not self._stop.is_set():
                ok, bgr = cap.read()
                if not ok:
                    break
                yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), i / self.fps
                i += 1
            changed = _identity(self.path) != before
            if not self._stop.is_set() and 0 < i < expected and (changed or i < COMPLETE * expected):
                why = ("it changed while it was read: let whatever writes it finish, or copy it first" if changed
                       else "the file is truncated or damaged: download or export it again")
                raise SourceError(f"{self.description} ended early: {i} of its {expected} frames could be read ({why})")
        finally:
            cap.release()


def _identity(path: Path) -> tuple | None:
    """What tells a file replaced, cut or rewritten from the one opened; None once it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class ImageSource(_FileReader):
    """One image or a folder of images (sorted by name), played at `fps`."""

    still = True

    def __init__(self, paths: list[Path], fps: float, loop: bool = False, fast: bool = False, description: str = ""):
        super().__init__(loop, fast)
        self.paths = paths
        self.fps = fps
        self.description = description
        self._start()

    def _decode(self):
        for i, p in enumerate(self.paths):
            bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if bgr is None:
                continue  # a stray non-image in a folder is skipped, not fatal
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), i / self.fps


class CameraSource(Source):
    live = True

    def __init__(self, index: int, width: int, height: int, fps: float):
        self.index_ = index
        self.description = f"camera {index}"
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            raise SourceError(f"cannot open camera {index}: check it is connected and not used by another "
                              "app, or pass --source with another index or a video file")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._cap.set(cv2.CAP_PROP_FPS, fps)
        got = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = got if 1 <= got <= 240 else fps
        self._latest: Frame | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        i = 0
        failures = 0
        while not self._stop.is_set():
            ok, bgr = self._cap.read()
            if not ok or bgr is None:
                failures += 1
                time.sleep(min(2.0, 0.05 * 2 ** min(failures, 6)))  # back off while the camera is gone
                if failures % 20 == 0:
                    self._cap.release()
                    self._cap = cv2.VideoCapture(self.index_)
                continue
            failures = 0
            f = Frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), time.time(), time.monotonic() - self._t0, i)
            i += 1
            with self._cond:
                self._latest = f
                self._cond.notify()

    def read(self) -> Frame | None:
        with self._cond:
            while self._latest is None and not self._stop.is_set():
                self._cond.wait(timeout=0.5)
            f, self._latest = self._latest, None
        return f

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._cap.release()


def open_source(spec: str, loop: bool = False, fast: bool = False, width: int = 640, height: int = 480,
                fps: float = 30.0) -> Source:
    """`spec` is a camera index ("0"), a video file, an image file or a folder of images."""
    if spec.isdigit():
        return CameraSource(int(spec), width, height, fps)
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(f"source {spec!r} not found: pass a camera index (0, 1, ...), a video file, "
                          "an image or a folder of images")
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTS)
        if not images:
            raise SourceError(f"folder {path} has no images ({', '.join(sorted(IMAGE_EXTS))})")
        return ImageSource(images, fps, loop, fast, f"folder {path}")
    if path.suffix.lower() in IMAGE_EXTS:
        if cv2.imread(str(path)) is None:
            raise SourceError(f"cannot read image {path}: the file is damaged or not an image")
        return ImageSource([path], fps, loop, fast, f"image {path}")
    return VideoSource(path, loop, fast)
