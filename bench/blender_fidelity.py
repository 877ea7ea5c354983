"""Run under Blender's venv by bench/fidelity.py: pose an avatar in Blender from a recording and
write, per frame, the world head positions of the limb joints in Unity's frame.

argv: bvh OUT.json FILE.bvh
      addon OUT.json ADDON.zip AVATAR.vrm PORT SIDECAR-COMMAND-JSON
bvh: Blender's BVH importer; frame k of the file -> "joints" list item k.
addon: the avatar-bridge add-on on a VRM avatar, fed real VMC by the sidecar command; every
received frame is applied, in arrival order, by the add-on's own timer callback, then read back
(joints through the VRM humanoid map, and each mapped shape key with the value sent for it).
"""
import json
import subprocess
import sys
import time
from collections import deque

import bpy

UNITY = ("UpperArm", "LowerArm", "Hand", "UpperLeg", "LowerLeg", "Foot", "MiddleProximal",
         "IndexProximal", "IndexDistal", "ThumbIntermediate", "ThumbDistal")
# Unity bone -> VRM 1.0 humanoid property (Unity's thumb joints are one off VRM 1.0's)
VRM1 = {"UpperArm": "upper_arm", "LowerArm": "lower_arm", "Hand": "hand", "UpperLeg": "upper_leg",
        "LowerLeg": "lower_leg", "Foot": "foot", "MiddleProximal": "middle_proximal",
        "IndexProximal": "index_proximal", "IndexDistal": "index_distal",
        "ThumbIntermediate": "thumb_proximal", "ThumbDistal": "thumb_distal"}


def to_unity(v) -> list:
    """Blender world (x, y, z) -> Unity (-x, z, -y), the inverse of Unity -> Blender (-x, -z, y)."""
    return [-v[0], v[2], -v[1]]


def heads(arm, bones: dict) -> dict:
    return {u: to_unity(arm.matrix_world @ arm.pose.bones[b].head) for u, b in bones.items()}


def clear():
    for o in list(bpy.data.objects):
        bpy.data.objects.remove(o)


def run_bvh(out_path, path):
    clear()
    scene = bpy.context.scene
    bpy.ops.import_anim.bvh(filepath=path, axis_forward="-Z", axis_up="Y", rotate_mode="NATIVE", global_scale=1.0,
                            frame_start=1, use_fps_scale=False, update_scene_duration=True)
    arm = next(o for o in scene.objects if o.type == "ARMATURE")
    bones = {s + u: s + u for s in ("Left", "Right") for u in UNITY if s + u in arm.pose.bones}
    first, last = (round(x) for x in arm.animation_data.action.frame_range)
    frames = []
    for f in range(first, last + 1):
        scene.frame_set(f)
        frames.append(heads(arm, bones))
    json.dump({"joints": frames}, open(out_path, "w"))


def run_addon(out_path, zip_path, avatar, port, command):
    import addon_utils
    addon_utils.enable("io_scene_vrm", default_set=True)
    bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
    driver = sys.modules["bl_ext.user_default.avatar_bridge.driver"]
    clear()
    bpy.ops.import_scene.vrm(filepath=avatar)
    scene = bpy.context.scene
    arm = next(o for o in scene.objects if o.type == "ARMATURE")
    st = scene.avatar_bridge
    st.armature = arm
    for m in (o for o in scene.objects if o.type == "MESH" and o.data.shape_keys):
        st.meshes.add().object = m
    hb = arm.data.vrm_addon_extension.vrm1.humanoid.human_bones
    bones = {s + u: getattr(hb, f"{s.lower()}_{v}").node.bone_name for s in ("Left", "Right") for u, v in VRM1.items()}
    bones = {u: b for u, b in bones.items() if b in arm.pose.bones}
    st.protocol, st.vmc_host, st.vmc_port = "VMC", "127.0.0.1", int(port)
    bpy.ops.avatar_bridge.auto_map_bones()
    bpy.ops.avatar_bridge.auto_map_shapes()
    bpy.ops.avatar_bridge.connect()
    rx = driver.session().receiver
    queue = deque()  # every frame, in arrival order (the add-on itself keeps only the newest)
    publish = rx._publish
    rx._publish = lambda f: (queue.append(f), publish(f))
    rx.take = lambda: queue.popleft() if queue else None
    for _ in range(100):
        if rx.status.startswith("listening"):
            break
        time.sleep(0.02)
    proc = subprocess.Popen(json.loads(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    frames, idle_since = [], None
    while True:
        if not queue:
            if proc.poll() is not None:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 0.5:
                    break
            time.sleep(1 / 240)
            continue
        f = queue[0]
        driver.tick()  # headless bpy fires no timers: run the add-on's timer callback here
        bpy.context.view_layer.update()
        shape_err = [abs(i.object.data.shape_keys.key_blocks[i.key].value - f.blends[i.source])
                     for i in st.shape_map if i.source in f.blends]
        sent = [abs(f.blends[i.source]) for i in st.shape_map if i.source in f.blends]
        frames.append({"seq": f.seq, "joints": heads(arm, bones), "shape_err": max(shape_err, default=None),
                       "sent_max": max(sent, default=0.0), "shapes": len(shape_err)})
    s = driver.session()
    json.dump({"joints": [f["joints"] for f in frames], "seq": [f["seq"] for f in frames],
               "shape_err": [f["shape_err"] for f in frames], "sent_max": max((f["sent_max"] for f in frames), default=0.0), "shapes": max((f["shapes"] for f in frames), default=0),
               "errors": [s.errors, s.last_error], "bad": rx.bad, "sidecar_rc": proc.wait(),
               "sidecar_log": proc.stdout.read()[-2000:]}, open(out_path, "w"))
    bpy.ops.avatar_bridge.disconnect()


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"bvh": run_bvh, "addon": run_addon}[mode](*args)
