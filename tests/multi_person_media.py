"""Real footage with several people, assembled at test time from the single-person fixtures.

Nothing here is committed: the clips are built into a temporary folder from the fixtures (whose
licences forbid shipping some of them). The ground truth comes from the construction: which source
clip is in which tile at each frame.

- `crossing(folder)`: two real people, each a tile cut around the face of a real clip
  (`face/expressions_pexels.mp4`, the woman: "A"; `face/single_face.mp4`, the man: "B") on a grey
  stage. They stand apart, slide across each other (A passes in front of B, hiding them for a
  moment), stand on the other side, then B leaves for 1.5 s and comes back. 10 fps.
- `four_people(folder)`: four tiles side by side (both clips, and both mirrored at another time),
  for the cost of N = 4.
- `twins(folder)`: A twice, apart, at two moments of her clip: one enrolled person seen on two people.
- `hagrid_pair(left, right)`: two HaGRID gesture photos side by side at the same height.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

FACE_A = "face/expressions_pexels.mp4"
FACE_B = "face/single_face.mp4"
TILE_W, H = 300, 360  # each source is 640x360: a tile is 300 px around the face, full height
CROP_X = {FACE_A: 288, FACE_B: 148}  # tile's left edge in the source (the face's centre minus 150 px)
STAGE_W = 760
LEFT_X, RIGHT_X = 30, 430  # tile positions on the stage
FPS = 10.0
GREY = 128


@dataclass
class Clip:
    path: Path  # an MP4 in the caller's folder
    fps: float
    size: tuple[int, int]  # width, height
    names: tuple[str, ...]  # the sources, e.g. ("A", "B")
    centre_x: np.ndarray  # (T, people) each source's tile centre, normalized x; NaN while it is away
    tile_w: float  # normalized tile width

    @property
    def frames(self) -> int:
        return len(self.centre_x)

    def who_at(self, k: int, x: float) -> str | None:
        """The source whose tile holds normalized x at frame k, when only one does."""
        inside = [n for n, c in zip(self.names, self.centre_x[k]) if not np.isnan(c) and abs(x - c) < self.tile_w / 2]
        return inside[0] if len(inside) == 1 else None

    def apart(self, k: int) -> bool:
        """Whether every present tile at frame k is clear of the others."""
        c = self.centre_x[k][~np.isnan(self.centre_x[k])]
        return len(c) < 2 or np.min(np.diff(np.sort(c))) >= self.tile_w


def read_rgb(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    if not out:
        raise FileNotFoundError(f"{path}: no frames read")
    return out


class _Source:
    """A fixture video's tile at a given time (looped back and forth when it is shorter)."""

    def __init__(self, fixtures: Path, name: str, start_s: float = 0.0, mirror: bool = False):
        self.frames = [f[:, CROP_X[name]:CROP_X[name] + TILE_W] for f in read_rgb(fixtures / name)]
        cap = cv2.VideoCapture(str(fixtures / name))
        self.fps = cap.get(cv2.CAP_PROP_FPS)
        cap.release()
        self.start_s, self.mirror = start_s, mirror

    def at(self, t_s: float) -> np.ndarray:
        n = len(self.frames)
        i = int(round((t_s + self.start_s) * self.fps)) % (2 * n - 2)
        tile = self.frames[i if i < n else 2 * n - 2 - i]
        return tile[:, ::-1] if self.mirror else tile


def _write(path: Path, frames: list[np.ndarray], fps: float) -> None:
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        out.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    out.release()


def _paste(stage: np.ndarray, tile: np.ndarray, x: float) -> None:
    x = int(round(x))
    a, b = max(x, 0), min(x + tile.shape[1], stage.shape[1])
    if b > a:
        stage[:, a:b] = tile[:, a - x:b - x]


def crossing_plan(fps: float = FPS) -> np.ndarray:
    """(T, 2) left edges of A's and B's tiles on the stage, NaN while away: apart 1.5 s, crossing 3 s,
    apart (swapped) 1.5 s, B away 1.5 s, B back 1.5 s."""
    def frames(s):
        return int(round(s * fps))
    hold, cross, away = frames(1.5), frames(3.0), frames(1.5)
    u = np.linspace(0, 1, cross)
    s = (1 - np.cos(np.pi * u)) / 2  # eased start and stop
    a = np.r_[np.full(hold, LEFT_X), LEFT_X + s * (RIGHT_X - LEFT_X), np.full(hold + away + hold, RIGHT_X)]
    b = np.r_[np.full(hold, RIGHT_X), RIGHT_X + s * (LEFT_X - RIGHT_X), np.full(hold, LEFT_X),
              np.full(away, np.nan), np.full(hold, LEFT_X)]
    return np.stack([a, b], axis=1).astype(np.float64)


def crossing(fixtures: Path, folder: Path) -> Clip:
    """Two real people who cross (A in front), then B leaves and comes back (see the module docstring)."""
    plan = crossing_plan()
    srcs = [_Source(fixtures, FACE_A), _Source(fixtures, FACE_B)]
    frames = []
    for k, xs in enumerate(plan):
        stage = np.full((H, STAGE_W, 3), GREY, np.uint8)
        for src, x in reversed(list(zip(srcs, xs))):  # B first: A passes in front
            if not np.isnan(x):
                _paste(stage, src.at(k / FPS), x)
        frames.append(stage)
    path = folder / "crossing.mp4"
    _write(path, frames, FPS)
    return Clip(path, FPS, (STAGE_W, H), ("A", "B"), (plan + TILE_W / 2) / STAGE_W, TILE_W / STAGE_W)


def four_people(fixtures: Path, folder: Path, seconds: float = 3.0) -> Clip:
    """Four real people side by side: both clips, and both mirrored and started elsewhere."""
    srcs = [_Source(fixtures, FACE_A), _Source(fixtures, FACE_B),
            _Source(fixtures, FACE_A, start_s=8.0, mirror=True), _Source(fixtures, FACE_B, start_s=1.0, mirror=True)]
    n = int(round(seconds * FPS))
    frames = [np.hstack([s.at(k / FPS) for s in srcs]) for k in range(n)]
    path = folder / "four_people.mp4"
    _write(path, frames, FPS)
    w = 4 * TILE_W
    centres = np.tile((np.arange(4) * TILE_W + TILE_W / 2) / w, (n, 1))
    return Clip(path, FPS, (w, H), ("A", "B", "A'", "B'"), centres, TILE_W / w)


def twins(fixtures: Path, folder: Path, seconds: float = 6.0) -> Clip:
    """A on the left and A again on the right, 6 s further into her clip (another expression)."""
    srcs = [_Source(fixtures, FACE_A), _Source(fixtures, FACE_A, start_s=6.0)]
    n = int(round(seconds * FPS))
    frames = []
    for k in range(n):
        stage = np.full((H, STAGE_W, 3), GREY, np.uint8)
        for src, x in zip(srcs, (LEFT_X, RIGHT_X)):
            _paste(stage, src.at(k / FPS), x)
        frames.append(stage)
    path = folder / "twins.mp4"
    _write(path, frames, FPS)
    centres = np.tile((np.array([LEFT_X, RIGHT_X]) + TILE_W / 2) / STAGE_W, (n, 1))
    return Clip(path, FPS, (STAGE_W, H), ("A", "A'"), centres, TILE_W / STAGE_W)


def hagrid_pair(left: Path, right: Path) -> tuple[np.ndarray, float]:
    """Two photos side by side at the height of the shorter (RGB), and where the second starts (normalized x)."""
    imgs = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in (left, right)]
    h = min(i.shape[0] for i in imgs)
    imgs = [cv2.resize(i, (int(round(i.shape[1] * h / i.shape[0])), h), interpolation=cv2.INTER_AREA) for i in imgs]
    both = np.hstack(imgs)
    return np.ascontiguousarray(both), imgs[0].shape[1] / both.shape[1]
