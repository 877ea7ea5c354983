"""Run in Blender's venv by tests/test_bvh_blender.py: import BVH files with Blender's own importer
and write, per file, what it made: the importer's result and messages, scene frame range and rate,
key counts, and every joint's rotation in every frame, turned back into the BVH file's axes.

argv: out.json bvh [bvh ...]
"""
import json
import sys

import bpy
from bpy_extras.io_utils import axis_conversion

out_path, files = sys.argv[1], sys.argv[2:]
FORWARD, UP = "-Z", "Y"  # the importer's defaults: BVH -Z forward (into the screen), +Y up
A = axis_conversion(from_forward=FORWARD, from_up=UP).to_3x3()  # BVH axes -> Blender's (what the importer applies)
results = []
for path in files:
    for o in list(bpy.data.objects):
        bpy.data.objects.remove(o)
    for a in list(bpy.data.actions):
        bpy.data.actions.remove(a)
    scene = bpy.context.scene
    ret = bpy.ops.import_anim.bvh(filepath=path, axis_forward=FORWARD, axis_up=UP, rotate_mode="NATIVE",
                                  global_scale=1.0, frame_start=1, use_fps_scale=False,
                                  update_scene_fps=True, update_scene_duration=True)
    arm = next(o for o in scene.objects if o.type == "ARMATURE")
    act = arm.animation_data.action
    fcurves = [fc for layer in act.layers for strip in layer.strips for bag in strip.channelbags for fc in bag.fcurves]
    rest = {b.name: (arm.matrix_world @ b.matrix_local).to_3x3() for b in arm.data.bones}
    first, last = (round(x) for x in act.frame_range)
    frames = []
    for f in range(first, last + 1):
        scene.frame_set(f)
        g = {}
        for pb in arm.pose.bones:
            world = (arm.matrix_world @ pb.matrix).to_3x3() @ rest[pb.name].inverted()  # rotation from rest, Blender axes
            g[pb.name] = [list(r) for r in (A.inverted() @ world @ A)]  # the same rotation in the BVH file's axes
        hips = arm.pose.bones["Hips"]
        frames.append({"rot": g, "hips_head": list(A.inverted() @ (arm.matrix_world @ hips.matrix).translation)})
    results.append({
        "file": path, "result": sorted(ret), "action_range": [first, last], "scene_range": [scene.frame_start, scene.frame_end],
        "fps": scene.render.fps, "fps_base": scene.render.fps_base, "axis": [list(r) for r in A],
        "key_counts": sorted({len(fc.keyframe_points) for fc in fcurves}),
        "rotation_modes": sorted({pb.rotation_mode for pb in arm.pose.bones}),
        "parents": {b.name: b.parent.name if b.parent else None for b in arm.data.bones},
        "frames": frames})
with open(out_path, "w") as fh:
    json.dump(results, fh)
