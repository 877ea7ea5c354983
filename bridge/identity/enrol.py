"""A few seconds of a source -> one person's descriptors, refusing frames that hold no face or two.

A camera is read for `seconds` of wall time, a video for its first `seconds`, an image or a folder of
images whole. At most `per_second` frames a second are looked at (searching a frame for every face
and the descriptor are costly, and neighbouring frames add little).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SourceError
from ..sources import Source
from ..tracking.enrol_faces import EnrolFaceFinder
from .embedder import FaceEmbedder

PER_SECOND = 5.0  # frames looked at per second of source


@dataclass(frozen=True, slots=True)
class Enrolment:
    embeddings: np.ndarray  # (M, 128) float32, one per frame looked at with exactly one face
    frames: int  # frames looked at
    several_faces: int  # frames with two or more


def collect(source: Source, finder: EnrolFaceFinder, embedder: FaceEmbedder, seconds: float,
            per_second: float = PER_SECOND, progress=None) -> Enrolment:
    """Raises SourceError when no frame had exactly one face (saying whether none or several were seen)."""
    embeddings, frames, several, most = [], 0, 0, 0
    next_t = float("-inf")
    first_t = None
    while (f := source.read()) is not None:
        t = f.capture_time if source.live else f.source_time
        first_t = t if first_t is None else first_t
        if not source.still and t - first_t > seconds:
            break
        if t < next_t and not source.still:
            continue
        next_t = t + 1.0 / per_second
        frames += 1
        faces = finder.faces(f.rgb)
        several += len(faces) > 1
        most = max(most, len(faces))
        if len(faces) == 1:
            embeddings.append(embedder.embed(f.rgb, faces[0]))
            if progress is not None:
                progress.update()
    what = source.description or "the source"
    if not embeddings:
        if several:
            seen = (f"{most} faces" if source.still
                    else f"{several} of {frames} frames show up to {most} faces and none one")
            raise SourceError(f"{what}: {seen}: enrol one person at a time (ask others to step out of view, "
                              "or crop the picture to one face)")
        if not frames:
            raise SourceError(f"{what} gave no frames: check the file or the camera")
        raise SourceError(f"no face found in {what} ({frames} frame(s)): face the camera in good light, "
                          "or pass --source with a clip or photo where your face is clearly visible")
    return Enrolment(np.stack(embeddings), frames, several)
