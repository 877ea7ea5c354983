"""Unity's frame -> Blender pose bones, free of bpy (pure Python quaternions) so it can be tested
without Blender. This is the one place the conversion is stated.

Wire (docs/conventions.md): Unity's frame, left-handed, +Y up, the avatar faces +Z, +X its right;
bone rotations local to the parent, relative to the normalized VRM T-pose (identity rest).
Blender armature space of a VRM import (either VRM version, and Blender's front convention):
right-handed, +Z up, the avatar faces -Y, +X its left.
Unity -> glTF (VRM 1.0) negates x; glTF -> Blender takes (x, y, z) to (x, -z, y). So

    position  (x, y, z)       -> (-x, -z, y)
    rotation  (x, y, z, w)    -> Blender (w, x, y, z) = (w, x, z, -y)

(the matrix M = [[-1,0,0],[0,0,-1],[0,1,0]] has det -1, so R_blender = M R_unity M^T and the
quaternion's axis becomes det(M) M axis = (x, z, -y)). A pose bone's rotation is local to its own
rest orientation (bone roll), so bone b with rest rotation Rb (bone.matrix_local, armature space)
gets the basis rotation

    basis_b = Rb^-1 * C(Wa^-1 * Wb) * Rb

where C is the rotation map above, Wb the Unity world rotation b shows and Wa that of the nearest
driven ancestor (Wb = Wparent * local, Hips: root * local). A Unity bone the rig lacks (say
UpperChest) is folded into its parent: the parent shows the missing bone's world rotation, so the
children keep theirs. Missing leaves (eyes, jaw) are dropped. Rest pose must be the T-pose.
"""
from __future__ import annotations

from .names import PARENT

IDENTITY_WXYZ = (1.0, 0.0, 0.0, 0.0)


def qmul(a, b):
    """Hamilton product of (w, x, y, z) quaternions."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw)


def qconj(q):
    return (q[0], -q[1], -q[2], -q[3])


def unity_to_wxyz(q):
    """A Unity (x, y, z, w) quaternion as (w, x, y, z), same rotation, same (Unity) frame."""
    x, y, z, w = q
    return (w, x, y, z)


def rot_to_blender(q_wxyz):
    """Rotation in Unity's frame -> the same rotation in Blender armature space (both (w, x, y, z))."""
    w, x, y, z = q_wxyz
    return (w, x, z, -y)


def pos_to_blender(p):
    x, y, z = p
    return (-x, -z, y)


def _rotate(q, v):
    w, x, y, z = qmul(qmul(q, (0.0, *v)), qconj(q))
    return (x, y, z)


def fold_plan(driven) -> dict[str, tuple[str | None, str]]:
    """For each driven Unity bone: (nearest driven ancestor or None, the Unity bone whose world
    rotation it shows: itself, or the deepest chain of missing bones below it that leads to driven ones)."""
    driven = set(driven)
    has_driven_below: set[str] = set()
    for b in PARENT:
        if b in driven:
            p = PARENT[b]
            while p is not None:
                has_driven_below.add(p)
                p = PARENT[p]
    children: dict[str, list[str]] = {}
    for b, p in PARENT.items():
        if p is not None:
            children.setdefault(p, []).append(b)
    plan = {}
    for b in PARENT:
        if b not in driven:
            continue
        anc = PARENT[b]
        while anc is not None and anc not in driven:
            anc = PARENT[anc]
        shown = b
        while True:
            nxt = [c for c in children.get(shown, ()) if c not in driven and c in has_driven_below]
            if not nxt:
                break
            shown = nxt[0]
        plan[b] = (anc, shown)
    return plan


def world_rotations(bones: dict, root_rot=None) -> dict:
    """Unity world rotations (w, x, y, z) of every bone from the frame's local ones (missing = identity)."""
    world = {}
    for b, p in PARENT.items():
        local = unity_to_wxyz(bones[b]) if b in bones else IDENTITY_WXYZ
        if p is None:
            world[b] = qmul(unity_to_wxyz(root_rot), local) if root_rot is not None else local
        else:
            world[b] = qmul(world[p], local)
    return world


def basis_rotations(bones: dict, rest: dict, plan: dict, root_rot=None) -> dict:
    """Pose-bone basis rotations (w, x, y, z) for the driven bones.

    bones: Unity name -> local (x, y, z, w) from the wire; rest: Unity name -> the mapped pose bone's
    rest rotation (w, x, y, z) in armature space; plan: fold_plan(rest); root_rot: the frame's root
    rotation to apply at the Hips, or None."""
    world = world_rotations(bones, root_rot)
    out = {}
    for b, (anc, shown) in plan.items():
        wb = world[shown]
        rel = qmul(qconj(world[plan[anc][1]]), wb) if anc is not None else wb
        rb = rest[b]
        out[b] = qmul(qmul(qconj(rb), rot_to_blender(rel)), rb)
    return out


def hips_location(root_pos, rest_hips) -> tuple:
    """Pose-bone location of the Hips for the frame's root offset (metres from the rest position)."""
    return _rotate(qconj(rest_hips), pos_to_blender(root_pos))
