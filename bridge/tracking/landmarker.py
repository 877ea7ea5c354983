"""What every MediaPipe landmarker wrapper shares: loading a checked model quietly, running it in
VIDEO or IMAGE mode with increasing timestamps, and closing it."""
from __future__ import annotations

import functools
import importlib
import os
import sys
import types
from importlib import resources

import numpy as np

from ..errors import ModelError
from ..models import load_model, reinstall_hint
from .native_logs import quiet_native_logs

os.environ.setdefault("GLOG_minloglevel", "2")
BLANK = np.zeros((64, 64, 3), np.uint8)


class _Deferred(types.ModuleType):
    """Stands in for a module that importing MediaPipe pulls in but the sidecar never calls:
    `mediapipe.tasks.python` imports its drawing utilities (matplotlib.pyplot, about 0.3 s of the
    start-up) and its audio recorder (sounddevice). The real module is imported the first time any
    attribute is read, so code that does use it (bridge/report.py's plots) gets it as usual.
    (importlib's LazyLoader cannot do this: an import statement reads the module's __spec__, which
    loads it.)"""

    def __getattr__(self, attr: str):
        return getattr(self._real(), attr)

    def _real(self) -> types.ModuleType:
        real = self.__dict__.get("_module")
        if real is None:
            parent = self.__name__.rpartition(".")[0]
            if parent and isinstance(sys.modules.get(parent), _Deferred):
                sys.modules[parent]._real()
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            try:
                real = self.__dict__["_module"] = importlib.import_module(self.__name__)
            except (ImportError, OSError) as e:  # e.g. sounddevice without PortAudio: as if it had no attribute
                raise AttributeError(f"{self.__name__} cannot be imported here ({e})") from None
        return real


def _defer_unused_imports() -> None:
    """Installs the stand-ins (see _Deferred) for what MediaPipe imports but does not need here,
    unless something imported them already or they are not installed. Each carries its module's
    real spec (found without importing it), so `importlib.util.find_spec` still answers."""
    from importlib.machinery import PathFinder
    from importlib.util import find_spec
    if "mediapipe" in sys.modules:
        return
    for top, subs in (("matplotlib", ("pyplot",)), ("sounddevice", ())):
        if top in sys.modules or (spec := find_spec(top)) is None:
            continue
        stand_in = sys.modules[top] = _Deferred(top)
        stand_in.__spec__ = spec
        for sub in subs:
            sub_spec = PathFinder.find_spec(f"{top}.{sub}", spec.submodule_search_locations or [])
            if sub_spec is not None:
                child = sys.modules[f"{top}.{sub}"] = _Deferred(f"{top}.{sub}")
                child.__spec__ = sub_spec
                stand_in.__dict__[sub] = child  # `import a.b` reads a.b: it must not load a


_defer_unused_imports()


@functools.cache
def warm_up_frame() -> np.ndarray:
    """The first frame of the shipped demo clip: a face, head and shoulders. A model's first inference
    on it runs every stage, so the notices MediaPipe prints once per process the first time a stage
    runs (the pose graph's "NORM_RECT without IMAGE_DIMENSIONS" when it first finds a person) come
    while stderr is quiet, not in the middle of a run."""
    import cv2
    cap = cv2.VideoCapture(str(resources.files("bridge.assets").joinpath("demo_face.mp4")))
    try:
        ok, bgr = cap.read()
    finally:
        cap.release()
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if ok else BLANK


class SearchBackoff:
    """While a VIDEO-mode landmarker tracks nothing, each call runs its detector over the whole image
    (the costly stage: 17 ms CPU a frame for the hand landmarker on the 1080p body clip that never
    shows a hand, bench/cpu.py). After `patience` frames in a row with nothing found, the search runs
    on one frame in `every` (the frames between return nothing, as the search would have); a find
    goes back to every frame. A subject who comes into view is found at most every - 1 frames later.
    """

    def __init__(self, every: int, patience: int = 5):
        self.every = every
        self.patience = patience
        self._empty = 0  # frames in a row with nothing found, searched or not

    def search(self) -> bool:
        """Whether this frame runs the landmarker; a frame it does not is counted as empty."""
        if self.every <= 1 or self._empty < self.patience or (self._empty - self.patience) % self.every == 0:
            return True
        self._empty += 1
        return False

    def found(self, anything: bool) -> None:
        self._empty = 0 if anything else self._empty + 1

    def reset(self) -> None:
        self._empty = 0


class Landmarker:
    """Subclasses pass the Tasks class and its options (minus base options and running mode).

    VIDEO mode tracks across frames; IMAGE mode treats each picture on its own (unrelated still
    images must use it, or VIDEO mode would try to track the previous picture's subject).
    Call close() (or use `with`): MediaPipe's own destructor fails when it runs at interpreter exit.
    """

    def __init__(self, model_name: str, task_class_name: str, options_class_name: str, options: dict,
                 still_images: bool, search_every: int = 1):
        from mediapipe.tasks.python import BaseOptions, vision

        self.still_images = still_images
        # unrelated pictures are each searched whole; see SearchBackoff
        self.backoff = SearchBackoff(search_every) if search_every > 1 and not still_images else None
        self._landmarker = None
        self._last_ts = 0
        self._offset = 0  # added to the caller's timestamps: see forget()
        model = load_model(model_name)
        opts = getattr(vision, options_class_name)(
            base_options=BaseOptions(model_asset_buffer=model.path.read_bytes()),
            running_mode=vision.RunningMode.IMAGE if still_images else vision.RunningMode.VIDEO, **options)
        try:
            with quiet_native_logs():
                self._landmarker = getattr(vision, task_class_name).create_from_options(opts)
                # the demo frame (see warm_up_frame), then a blank one: VIDEO mode forgets the demo's face,
                # and a notice a graph thread prints as the first result returns has time to come out
                # while stderr is still quiet
                for ts, frame in enumerate((warm_up_frame(), BLANK)):
                    self._run(frame, ts)
        except BaseException as e:
            self.close()
            if isinstance(e, (RuntimeError, ValueError)):
                raise ModelError(f"MediaPipe could not load {model.path} ({e}): "
                                 f"{reinstall_hint(model.path.parent)}") from None
            raise

    def _run(self, rgb, timestamp_ms: int):
        """The raw MediaPipe result for one RGB uint8 image (an array, or an `mp_image` shared by several
        landmarkers: wrapping copies the pixels, 0.9 ms at 1080p); timestamps are bumped to keep increasing."""
        ts = self._timestamp(timestamp_ms)
        image = mp_image(rgb) if isinstance(rgb, np.ndarray) else rgb
        if self.still_images:
            return self._landmarker.detect(image)
        return self._landmarker.detect_for_video(image, ts)

    def _timestamp(self, timestamp_ms: int) -> int:
        """The caller's timestamp shifted by `_offset`, bumped to keep increasing."""
        ts = max(int(timestamp_ms) + self._offset, self._last_ts + 1)
        self._last_ts = ts
        return ts

    def forget(self) -> None:
        """Before a new video: VIDEO mode looks for the subject where the last frame had it, so the
        first frame of another video would miss its face; after one blank frame the next is searched whole.
        The next video's timestamps then start just after the blank one, so MediaPipe sees the same
        time steps whatever ran before: a video gives the same landmarks first or after others (batch, Ray)."""
        if self.backoff is not None:
            self.backoff.reset()
        if not self.still_images:
            self._offset = 0
            self._run(BLANK, self._last_ts + 1)
            self._offset = self._last_ts + 1

    def close(self) -> None:
        if self._landmarker is not None:
            with quiet_native_logs():
                self._landmarker.close()
            self._landmarker = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def mp_image(rgb: np.ndarray):
    """An RGB uint8 array as a MediaPipe image (a copy), to hand to every landmarker of one frame."""
    import mediapipe as mp
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))


def points(landmarks) -> np.ndarray:
    """MediaPipe landmark list -> (N, 3) float64 array."""
    return np.array([(p.x, p.y, p.z) for p in landmarks], dtype=np.float64)
