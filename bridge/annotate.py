"""Annotated video: what the trackers saw and the classifiers said, drawn over each frame.

`draw(rgb, frame, views, layers)` is a pure function: the camera image (RGB, as tracked), the frame
record (`classes`: expression, gesture, action, activity, mood..., whatever the classifiers wrote)
and each person's tracker observations of that image -> a BGR image with the chosen layers. The colours and
the pose/hand links are the dashboard camera view's. `annotate_video` runs the batch path
(`batch.track_part`, so the frames are exactly those `process` records) and writes the drawn
frames with OpenCV's VideoWriter (mp4v).
"""
from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from .config import Config
from .errors import BridgeError
from .frame import AvatarFrame, Person
from .progress import Progress

log = logging.getLogger("avatar_bridge.annotate")

LAYERS = ("box", "labels", "face", "skeleton", "hands", "progress")
DEFAULT_LAYERS = LAYERS
# the dashboard's colours (index.html), as BGR
FACE_COLOR, POSE_COLOR, HAND_COLOR, BOX_COLOR = (141, 211, 95), (0, 212, 255), (242, 61, 255), (255, 190, 60)
POSE_LINKS = ((11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18),
              (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
              (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32))
HAND_LINKS = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12),
              (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20))
MIN_VISIBILITY = 0.5  # pose points below this are guesses (occluded or off the image): not drawn, not boxed
SHOWN_SCORE = 0.3  # a class below this is not worth a label (a one-hot gesture shows at 1)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def parse_layers(text: str) -> tuple[str, ...]:
    """'box,face,...' -> the layers, each checked (one line naming the bad one and the choices)."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in LAYERS]
    if bad or not names:
        what = f"--layers {text!r}: unknown layer {bad[0]!r}" if bad else "--layers is empty"
        raise BridgeError(f"{what}; choose from {','.join(LAYERS)}")
    return names


def _px(landmarks: np.ndarray, w: int, h: int) -> np.ndarray:
    return np.round(np.asarray(landmarks)[:, :2] * (w, h)).astype(np.int32)


def person_box(obs, w: int, h: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) pixels around everything tracked of the person (Observations.box), padded by
    4%, clipped to the image; None when nothing is tracked."""
    box = obs.box(MIN_VISIBILITY)
    if box is None:
        return None
    x0, y0, x1, y1 = box * (w, h, w, h)
    pad = 0.04 * max(x1 - x0, y1 - y0)
    return (int(max(0, x0 - pad)), int(max(0, y0 - pad)), int(min(w - 1, x1 + pad)), int(min(h - 1, y1 + pad)))


def label_lines(person: Person) -> list[str]:
    """What the classifiers say about `person`: its id, the expression's top three, then each other
    kind's top class (gesture, action, activity, mood, ...) when it scores at least SHOWN_SCORE."""
    who = f"person {person.id}" + (f" (slot {person.slot})" if person.slot != 1 else "")
    if person.name is not None:
        who += f": {person.name}" + ("" if person.similarity != person.similarity else f" {person.similarity:.2f}")
    lines = [who]
    for kind, scores in person.classes.items():
        if not scores:
            continue
        top = sorted(scores.items(), key=lambda kv: -kv[1])
        if kind == "expression":
            lines.append("  ".join(f"{k} {v:.2f}" for k, v in top[:3]))
        elif top[0][1] >= SHOWN_SCORE:
            lines.append(f"{kind}: {top[0][0]} {top[0][1]:.2f}")
    return lines


def _text_block(img: np.ndarray, lines: list[str], x: int, y: int, scale: float) -> None:
    """Lines of text on a dark band, below (x, y), kept inside the image."""
    h, w = img.shape[:2]
    th = int(22 * scale) + 4
    width = max(cv2.getTextSize(t, FONT, scale, 1)[0][0] for t in lines) + 8
    x = int(min(max(0, x), max(0, w - width)))
    y = int(min(max(0, y), max(0, h - th * len(lines))))
    band = img[y:y + th * len(lines), x:x + width]
    band[:] = (band * 0.35).astype(img.dtype)
    for i, t in enumerate(lines):
        cv2.putText(img, t, (x + 4, y + (i + 1) * th - 6), FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)


def _links(img, pts: np.ndarray, links, shown, color, thickness: int) -> None:
    for a, b in links:
        if shown[a] and shown[b]:
            cv2.line(img, tuple(map(int, pts[a])), tuple(map(int, pts[b])), color, thickness, cv2.LINE_AA)
    for i in np.flatnonzero(shown):
        cv2.circle(img, tuple(map(int, pts[i])), thickness + 1, color, -1, cv2.LINE_AA)


def draw(rgb: np.ndarray, frame: AvatarFrame, views, layers=DEFAULT_LAYERS, position: float | None = None) -> np.ndarray:
    """A BGR copy of `rgb` with `layers` drawn. `views` are the frame's people with the trackers'
    observations of each (the pipeline's (Person, Observations) pairs); `position` 0..1 through the
    video for the progress layer."""
    img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    h, w = img.shape[:2]
    scale = max(0.4, min(1.0, h / 720))
    thick = max(1, round(h / 360))
    for k, (person, obs) in enumerate(views):
        if "face" in layers and obs.face is not None:
            for x, y in _px(obs.face.landmarks, w, h):
                cv2.circle(img, (int(x), int(y)), 1, FACE_COLOR, -1)
        if "skeleton" in layers and obs.pose is not None:
            _links(img, _px(obs.pose.landmarks, w, h), POSE_LINKS, obs.pose.visibility >= MIN_VISIBILITY, POSE_COLOR, thick)
        if "hands" in layers:
            for hand in obs.hands:
                _links(img, _px(hand.landmarks, w, h), HAND_LINKS, np.ones(21, bool), HAND_COLOR, thick)
        box = person_box(obs, w, h) if {"box", "labels"} & set(layers) else None
        if box is not None and "box" in layers:
            cv2.rectangle(img, box[:2], box[2:], BOX_COLOR, thick + 1)
        if "labels" in layers:
            x, y = (box[0], box[3] + 2) if box is not None else (4, 4 + k * round(60 * scale))
            _text_block(img, label_lines(person), x, y, scale)
    if "progress" in layers and position is not None:
        bar_h = max(3, h // 120)
        img[h - bar_h:, :int(round(w * min(max(position, 0.0), 1.0)))] = BOX_COLOR
    return img


def annotate_video(video: str | Path, out: str | Path, cfg: Config, layers=DEFAULT_LAYERS, progress: bool = True,
                   max_frames: int | None = None) -> int:
    """Write `out` (mp4v): `video` as `process` tracks it, with `layers` drawn. Returns the frames written."""
    from .batch import Part, check_videos, face_tracker, frame_count, offline_config, track_part
    out = Path(out)
    (video,), _, _ = check_videos([video], out.parent, ())
    cfg = offline_config(cfg)
    total = frame_count(video)
    if max_frames is not None:
        total = min(total, max_frames) if total else max_frames
    writer: list[cv2.VideoWriter] = []
    fps = [30.0]
    tracker = face_tracker(cfg)

    def on_meta(meta: dict) -> None:
        fps[0] = meta.get("fps") or 30.0

    try:
        with Progress(total, f"annotate {video.name}", "frames", enabled=progress) as bar:
            def write(frame: AvatarFrame, rgb: np.ndarray, views) -> None:
                if not writer:
                    h, w = rgb.shape[:2]
                    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps[0], (w, h))
                    if not vw.isOpened():
                        raise BridgeError(f"cannot write video {out}: OpenCV's mp4v writer refused it "
                                          "(check the folder is writable and the name ends in .mp4)")
                    writer.append(vw)
                writer[0].write(draw(rgb, frame, views, layers, (frame.seq + 1) / total if total else None))
                bar.update()

            frames, _ = track_part(Part(video, end=max_frames), cfg, tracker, lambda f: None, [write], on_meta)
    finally:
        for vw in writer:
            vw.release()
        if tracker is not None:
            tracker.close()
    log.info("wrote %s (%d frames, layers %s)", out, frames, ",".join(layers))
    return frames
