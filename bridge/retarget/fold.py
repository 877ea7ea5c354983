"""Rotations for bones an avatar lacks, moved onto bones it has, so no consumer drops them.

three-vrm, Unity and Blender ignore a rotation for a bone the model does not have (upperChest and
neck are optional in VRM): the avatar then leans 10 degrees less than the person. A missing bone's
rotation goes into its parent when it is the parent's only child (Chest' = Chest * UpperChest: the
chest mesh bends as the person did) and otherwise into each of its children (no neck: Head' = Neck *
Head, as the shoulders must not turn with the head); a missing leaf (eyes, toes, jaw) is dropped.
Every kept bone's world rotation stays what it was. The plan is made once per avatar.
"""
from __future__ import annotations

import numpy as np

from . import quat
from .humanoid import PARENT


class BoneFold:
    def __init__(self, names: tuple[str, ...], present: frozenset[str]):
        index = {n: i for i, n in enumerate(names)}

        def parent_in_names(b: str) -> str | None:
            p = PARENT[b]
            while p is not None and p not in index:
                p = PARENT[p]
            return p

        children = {n: [c for c in names if parent_in_names(c) == n] for n in names}
        owner: dict[str, int | None] = {n: index[n] for n in names if n in present}
        self.ops: list[tuple[int, int, bool]] = []  # (target, source, post-multiply)
        for b in sorted((n for n in names if n not in present), key=_depth):
            p = parent_in_names(b)
            if not children[b]:
                continue
            if p is not None and owner.get(p) is not None and children[p] == [b]:
                owner[b] = owner[p]
                self.ops.append((owner[p], index[b], True))
            else:
                owner[b] = None
                self.ops.extend((index[c], index[b], False) for c in children[b])
        self.keep = np.array([index[n] for n in names if n in present], dtype=np.intp)
        self.names: tuple[str, ...] = tuple(n for n in names if n in present)
        self.identity = not self.ops and len(self.keep) == len(names)

    def apply(self, rotations: np.ndarray) -> np.ndarray:
        """(len(names), 4) local rotations -> (len(self.names), 4)."""
        if self.identity:
            return rotations
        r = np.array(rotations, dtype=np.float64, copy=True)
        for target, source, post in self.ops:
            r[target] = quat.multiply(r[target], r[source]) if post else quat.multiply(r[source], r[target])
        return r[self.keep]


def _depth(b: str) -> int:
    d = 0
    while PARENT[b] is not None:
        b, d = PARENT[b], d + 1
    return d
