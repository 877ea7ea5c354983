"""Folding rotations of bones an avatar lacks: every kept bone turns in the world as before (a parent
that absorbed its only child as that child did)."""
import numpy as np
import pytest

from bridge.retarget import quat
from bridge.retarget.fold import BoneFold
from bridge.retarget.humanoid import BONES, PARENT


def world(names, rotations, bone):
    """World rotation of `bone` through the chain of its ancestors that are in `names`."""
    index = {n: i for i, n in enumerate(names)}
    chain, b = [], bone
    while b is not None:
        if b in index:
            chain.append(rotations[index[b]])
        b = PARENT[b]
    q = quat.IDENTITY
    for r in reversed(chain):
        q = quat.multiply(q, r)
    return q


def random_rotations(n, seed):
    q = np.random.default_rng(seed).normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


@pytest.mark.parametrize("missing", [
    {"UpperChest"}, {"Chest", "UpperChest"}, {"Neck"}, {"LeftShoulder", "RightShoulder"},
    {"UpperChest", "Neck", "LeftToes", "RightToes", "Jaw", "LeftEye"}, {"LeftThumbIntermediate"},
])
def test_kept_bones_keep_their_world_rotation(missing):
    names = BONES
    rot = random_rotations(len(names), len(missing))
    fold = BoneFold(names, frozenset(names) - missing)
    out = fold.apply(rot)
    assert fold.names == tuple(n for n in names if n not in missing)
    for b in fold.names:
        shown = b  # a parent that took in its only child's rotation now turns as that child did
        while (kids := [c for c in names if PARENT[c] == shown]) and len(kids) == 1 and kids[0] in missing \
                and any(PARENT[g] == kids[0] for g in names):
            shown = kids[0]
        a, c = world(names, rot, shown), world(fold.names, out, b)
        assert quat.angle_between(a, c) < 1e-6, b


def test_missing_upper_chest_goes_into_chest_not_the_shoulders():
    names = ("Hips", "Spine", "Chest", "UpperChest", "Neck", "LeftShoulder")
    rot = random_rotations(len(names), 7)
    out = BoneFold(names, frozenset(names) - {"UpperChest"}).apply(rot)
    np.testing.assert_allclose(out[2], quat.multiply(rot[2], rot[3]))  # Chest' = Chest * UpperChest
    np.testing.assert_allclose(out[3:], rot[4:])  # neck and shoulder untouched


def test_nothing_missing_is_a_no_op():
    rot = random_rotations(len(BONES), 1)
    assert BoneFold(BONES, frozenset(BONES)).apply(rot) is rot
