"""Templates, per-face decisions and the hysteresis that turns them into a steady label per person.

Pure: embeddings in, labels out. The descriptor is trained so that one person's faces lie within a
Euclidean distance of about 0.6 of each other (dlib-models README); a decision compares a face's
descriptor with each enrolled name's mean descriptor. `similarity` = 1 - distance, so higher is
more alike. Two thresholds and K consistent decisions make the label steady: a face at
distance <= `accept` from a name votes for it, one farther than `reject` from every name votes
`unknown`, one in between votes for nothing; the label moves to a new name only after `k` votes for
it in a row, so a single bad frame (a blink, motion blur, a turned head) never flips it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Templates:
    """Each enrolled name's mean descriptor: names (N,), means (N, D) float32."""
    names: tuple[str, ...]
    means: np.ndarray

    @classmethod
    def from_people(cls, people: dict[str, np.ndarray]) -> Templates:
        """people: name -> (M, D) descriptors (store.read_store)."""
        names = tuple(sorted(people))
        dim = next((v.shape[1] for v in people.values()), 0)
        means = np.array([people[n].mean(0) for n in names], np.float32).reshape(len(names), dim)
        return cls(names, means)

    def nearest(self, embedding: np.ndarray) -> tuple[str | None, float]:
        """The closest name and its distance; (None, inf) with nothing enrolled."""
        if not self.names:
            return None, float("inf")
        d = np.linalg.norm(self.means - np.asarray(embedding, np.float32), axis=1)
        i = int(np.argmin(d))
        return self.names[i], float(d[i])


@dataclass(frozen=True, slots=True)
class RecogniserSettings:
    # Distances chosen on validation faces by models/evaluate_identity.py (the card's "thresholds"):
    accept: float = 0.534  # at or under: a vote for the nearest name (0.1% of impostor pairs)
    reject: float = 0.594  # over: a vote for unknown (1% of impostor pairs); in between: no vote
    k: int = 3  # consecutive votes that move the label
    interval_s: float = 1.0  # between two looks at one person: a descriptor costs about 130 ms of CPU


@dataclass(frozen=True, slots=True)
class Identity:
    name: str  # an enrolled name or UNKNOWN
    similarity: float  # 1 - distance of the latest face to that name (to the nearest name when unknown); nan before any


def one_each(labels: list[Identity]) -> list[Identity]:
    """One frame's labels with each name kept by its most similar holder only: two people in view
    cannot both be one enrolled person (a look-alike, a photo of them), so the others read unknown
    for that frame."""
    best: dict[str, int] = {}
    for i, label in enumerate(labels):
        j = best.get(label.name)
        if label.name != UNKNOWN and (j is None or label.similarity > labels[j].similarity):
            best[label.name] = i
    return [label if label.name == UNKNOWN or best[label.name] == i else Identity(UNKNOWN, label.similarity)
            for i, label in enumerate(labels)]


@dataclass(slots=True)
class _Track:
    label: str = UNKNOWN
    similarity: float = float("nan")
    pending: str | None = None
    votes: int = 0


@dataclass
class Recogniser:
    """Labels tracked people (by the tracker's person id) with a name or `unknown`.

    Its `update` is called with a person's descriptor a few times a second at most (identity/worker.py
    schedules the looks, off the frame path)."""
    templates: Templates
    settings: RecogniserSettings = field(default_factory=RecogniserSettings)
    _tracks: dict[int, _Track] = field(default_factory=dict, init=False)

    def vote(self, embedding: np.ndarray) -> tuple[str | None, str | None, float]:
        """(vote, nearest name, distance): vote is a name, UNKNOWN, or None (ambiguous)."""
        name, dist = self.templates.nearest(embedding)
        if name is not None and dist <= self.settings.accept:
            return name, name, dist
        if dist > self.settings.reject:
            return UNKNOWN, name, dist
        return None, name, dist

    def update(self, person_id: int, embedding: np.ndarray) -> Identity:
        tr = self._tracks.setdefault(person_id, _Track())
        vote, nearest, dist = self.vote(embedding)
        if vote is None or vote == tr.label:
            tr.pending, tr.votes = None, 0
        elif vote == tr.pending:
            tr.votes += 1
        else:
            tr.pending, tr.votes = vote, 1
        if tr.pending is not None and tr.votes >= self.settings.k:
            tr.label, tr.pending, tr.votes = tr.pending, None, 0
        if tr.label != UNKNOWN:
            dist = float(np.linalg.norm(self.templates.means[self.templates.names.index(tr.label)] - embedding))
        tr.similarity = 1.0 - dist if np.isfinite(dist) else float("nan")
        return self.identity(person_id)

    def identity(self, person_id: int) -> Identity:
        tr = self._tracks.get(person_id)
        return Identity(tr.label, tr.similarity) if tr else Identity(UNKNOWN, float("nan"))

    def forget(self, person_id: int) -> None:
        """The tracker dropped this person for good: a new person with the same id starts afresh."""
        self._tracks.pop(person_id, None)
