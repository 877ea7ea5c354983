"""Run under Blender's venv by bench/fidelity.py: pose an avatar in Blender from a recording and
write, per frame, the world head positions of the limb joints and the head's forward direction,
in Unity's frame.

argv: bvh OUT.json FILE.bvh
      addon OUT.json ADDON.zip AVATAR.vrm PORT SIDECAR-COMMAND-JSON [RENDER-DIR SEQS-JSON]
bvh: Blender's BVH importer; frame k of the file -> "joints" list item k.
addon: the avatar-bridge add-on on a VRM avatar, fed real VMC by the sidecar command; every
received frame is applied, in arrival order, by the add-on's own timer callback, then read back
(joints through the VRM humanoid map, and each mapped shape key with the value sent for it);
the frames with the given seq numbers are also rendered (Workbench, front view) to RENDER-DIR/SEQ.png.
"""
import json
import math
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


def facing(arm, bone: str) -> list:
    """Where the head faces: the avatar's rest forward (Unity +Z, Blender -Y) turned by the head's
    world rotation from its rest one."""
    from mathutils import Vector
    w = arm.matrix_world.to_3x3()
    turn = (w @ arm.pose.bones[bone].matrix.to_3x3()) @ (w @ arm.data.bones[bone].matrix_local.to_3x3()).inverted()
    return to_unity(turn @ Vector((0.0, -1.0, 0.0)))


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
    frames, head = [], []
    for f in range(first, last + 1):
        scene.frame_set(f)
        frames.append(heads(arm, bones))
        head.append(facing(arm, "Head"))
    json.dump({"joints": frames, "head": head}, open(out_path, "w"))


def front_camera(scene):
    """An orthographic camera looking at the avatar's front, the whole body in view."""
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "STUDIO"
    scene.display.shading.color_type = "MATERIAL"
    scene.view_settings.view_transform = "Standard"
    scene.render.resolution_x, scene.render.resolution_y = 400, 480
    scene.render.image_settings.file_format = "PNG"
    world = bpy.data.worlds.new("bg")
    world.color = (0.85, 0.87, 0.9)
    scene.world = world
    cam = bpy.data.objects.new("cam", bpy.data.cameras.new("cam"))
    scene.collection.objects.link(cam)
    scene.camera = cam
    cam.data.type, cam.data.ortho_scale = "ORTHO", 2.1
    cam.location, cam.rotation_euler = (0, -3, 0.9), (math.radians(90), 0, 0)  # along +Y at the avatar's front


def run_addon(out_path, zip_path, avatar, port, command, render_dir=None, seqs="[]"):
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
    head_bone = hb.head.node.bone_name
    st.protocol, st.vmc_host, st.vmc_port = "VMC", "127.0.0.1", int(port)
    bpy.ops.avatar_bridge.auto_map_bones()
    bpy.ops.avatar_bridge.auto_map_shapes()
    render = set(json.loads(seqs))
    if render:
        front_camera(scene)
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
        if f.seq in render:
            scene.render.filepath = f"{render_dir}/{f.seq}.png"
            bpy.ops.render.render(write_still=True)
        frames.append({"seq": f.seq, "joints": heads(arm, bones), "head": facing(arm, head_bone), "shape_err": max(shape_err, default=None),
                       "sent_max": max(sent, default=0.0), "shapes": len(shape_err)})
    s = driver.session()
    json.dump({"joints": [f["joints"] for f in frames], "head": [f["head"] for f in frames], "seq": [f["seq"] for f in frames],
               "shape_err": [f["shape_err"] for f in frames], "sent_max": max((f["sent_max"] for f in frames), default=0.0), "shapes": max((f["shapes"] for f in frames), default=0),
               "errors": [s.errors, s.last_error], "bad": rx.bad, "sidecar_rc": proc.wait(),
               "sidecar_log": proc.stdout.read()[-2000:]}, open(out_path, "w"))
    bpy.ops.avatar_bridge.disconnect()


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"bvh": run_bvh, "addon": run_addon}[mode](*args)
