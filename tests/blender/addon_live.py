"""Run in Blender's venv by tests/test_blender_addon.py: install the add-on zip as an extension,
load the test avatar, receive a real sidecar over loopback, and write what Blender shows.

argv: zip avatar out.json protocol(vmc|ws) address sidecar-command-json [drop-bone]
Output (JSON): per applied frame the frame received (as the add-on decoded it) and, read back
from Blender's evaluated pose, each driven bone's world rotation converted into Unity's frame,
plus shape key values; the recorded Action's keys; leftovers after uninstall.
"""
import json
import subprocess
import sys
import threading
import time

import bpy
import numpy as np

zip_path, avatar, out_path, protocol, address, command = sys.argv[1:7]
drop = sys.argv[7] if len(sys.argv) > 7 else ""
result = {"errors": []}

# Unity -> Blender armature axes, checked against the avatar below: x -> -x, y -> z, z -> -y.
M = np.array([[-1.0, 0, 0], [0, 0, -1], [0, 1, 0]])

import addon_utils  # noqa: E402
addon_utils.enable("io_scene_vrm", default_set=True)  # the VRM add-on, installed in this venv as a package
res = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
result["install"] = sorted(res)
mod = sys.modules["bl_ext.user_default.avatar_bridge"]
driver = sys.modules["bl_ext.user_default.avatar_bridge.driver"]

for o in list(bpy.data.objects):
    bpy.data.objects.remove(o)
res = bpy.ops.import_scene.vrm(filepath=avatar)
result["import"] = sorted(res)
scene = bpy.context.scene
arm = next(o for o in scene.objects if o.type == "ARMATURE")
meshes = [o for o in scene.objects if o.type == "MESH" and o.data.shape_keys]
st = scene.avatar_bridge
st.armature = arm
for m in meshes:
    st.meshes.add().object = m
bones = arm.data.bones
hb = arm.data.vrm_addon_extension.vrm1.humanoid.human_bones
bn = lambda key: getattr(hb, key).node.bone_name  # noqa: E731
# the axis map, from the avatar itself: its left hand is at +X, eyes in front (-Y), head above
result["axes"] = {
    "left": float(bones[bn("left_hand")].head_local.x), "forward": float(bones[bn("left_eye")].head_local.y - bones[bn("head")].head_local.y),
    "up": float(bones[bn("head")].head_local.z - bones[bn("hips")].head_local.z)}

if protocol == "vmc":
    st.protocol, st.vmc_host, st.vmc_port = "VMC", "127.0.0.1", int(address)
else:
    st.protocol, st.ws_url = "WS", address
assert bpy.ops.avatar_bridge.auto_map_bones() == {"FINISHED"}
if drop:
    next(i for i in arm.avatar_bridge_bones if i.unity == drop).bone = ""
assert bpy.ops.avatar_bridge.auto_map_shapes() == {"FINISHED"}
result["match_report"] = st.match_report
result["bone_map"] = {i.unity: i.bone for i in arm.avatar_bridge_bones if i.bone}
assert bpy.ops.avatar_bridge.connect() == {"FINISHED"}
result["timer_registered"] = bpy.app.timers.is_registered(driver.tick)
sess = driver.session()
if protocol == "ws":  # the panel's Slot / Name reach the running session's reader at once
    st.follow_slot, st.follow_name = 2, " Ann "
    result["follow_live"] = [sess.receiver.reader.follow_slot, sess.receiver.reader.follow_name]
    st.follow_slot, st.follow_name = 1, ""

# Capture each frame the add-on takes from its receiver (the tick applies it).
taken = []
orig_take = sess.receiver.take
def take():
    f = orig_take()
    if f is not None:
        taken.append(f)
    return f
sess.receiver.take = take

def observe():
    bpy.context.view_layer.update()
    world = {}
    for u, b in result["bone_map"].items():
        pb = arm.pose.bones[b]
        w_b = np.array(pb.matrix.to_3x3()) @ np.array(pb.bone.matrix_local.to_3x3()).T
        world[u] = (M.T @ w_b @ M).tolist()
    shapes = {i.source: i.object.data.shape_keys.key_blocks[i.key].value for i in st.shape_map}
    hips = arm.pose.bones[result["bone_map"]["Hips"]]
    return world, shapes, list(hips.matrix.translation - hips.bone.head_local)

if protocol == "vmc":  # bad packets: counted, never raised
    import socket
    for _ in range(100):  # the receiver thread binds its socket shortly after connect()
        if sess.receiver.status.startswith("listening"):
            break
        time.sleep(0.02)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for junk in (b"garbage", b"/VMC/Ext/Bone/Pos\x00\x00\x00,sf\x00", b"#bundle\x00" + bytes(8) + b"\x00\x00\x03\xe8"):
            s.sendto(junk, ("127.0.0.1", int(address)))
    time.sleep(0.3)
    driver.tick()
fired = []
probe = lambda: fired.append(1)  # noqa: E731
bpy.app.timers.register(probe)
time.sleep(0.2)
result["timers_fire_headless"] = bool(fired)
if bpy.app.timers.is_registered(probe):
    bpy.app.timers.unregister(probe)

proc = subprocess.Popen(json.loads(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
frames_out, t0, ticks = [], time.monotonic(), 0
record_at, stop_at = 5, 25
keyed_pose = {}
while time.monotonic() - t0 < 60:
    time.sleep(1 / 60)
    n = len(taken)
    driver.tick()  # headless bpy runs no event loop, so timers never fire: pump the add-on's timer here
    ticks += 1
    if len(taken) > n:
        f = taken[-1]
        world, shapes, hips_offset = observe()
        frames_out.append({"bones": f.bones, "root_pos": f.root_pos, "root_rot": f.root_rot, "blends": f.blends,
                           "world": world, "shapes": shapes, "hips_offset": hips_offset})
        if len(frames_out) == record_at:
            assert bpy.ops.avatar_bridge.record_start() == {"FINISHED"}
        elif record_at < len(frames_out) <= stop_at and sess.recording:
            fr = max(sess.keyed_frames)
            keyed_pose[fr] = {b: list(arm.pose.bones[b].rotation_quaternion) for b in ("head", "leftLowerArm", "rightIndexProximal")
                              if b in arm.pose.bones} | {"shapes": shapes}
        if len(frames_out) == stop_at:
            bpy.ops.avatar_bridge.record_stop()
    if proc.poll() is not None and time.monotonic() - t0 > 1 and len(taken) == n:
        time.sleep(0.3)
        driver.tick()
        if sess.receiver.take() is None:
            break
result["sidecar_rc"] = proc.wait(timeout=30)
result["sidecar_log"] = proc.stdout.read()[-3000:]
result["frames"] = frames_out
result["received"] = sess.receiver.frames
result["bad"] = sess.receiver.bad
result["add_on_errors"] = [sess.errors, sess.last_error]
result["status"] = sess.receiver.status

# the recorded Actions: keys at the frames recorded, values as the pose was then
ad = arm.animation_data
act = ad.action if ad else None
result["action"] = act.name if act else None
keys = {}
if act is not None:
    fcurves = [fc for layer in act.layers for strip in layer.strips for bag in strip.channelbags for fc in bag.fcurves] \
        if hasattr(act, "layers") and act.layers else list(act.fcurves)
    for fc in fcurves:
        if fc.data_path.endswith("rotation_quaternion"):
            b = fc.data_path.split('"')[1]
            if b in ("head", "leftLowerArm", "rightIndexProximal"):
                for fr in keyed_pose:
                    keys.setdefault(str(fr), {}).setdefault(b, [0, 0, 0, 0])[fc.array_index] = fc.evaluate(fr)
        result.setdefault("fcurve_points", {})[f"{fc.data_path}[{fc.array_index}]"] = len(fc.keyframe_points)
sk_act = {}
for m in meshes:
    a = m.data.shape_keys.animation_data
    if a and a.action:
        sk_act[m.name] = a.action.name
        fcs = [fc for layer in a.action.layers for strip in layer.strips for bag in strip.channelbags for fc in bag.fcurves]
        for fc in fcs:
            name = fc.data_path.split('"')[1]
            src = next((i.source for i in st.shape_map if i.key == name and i.object == m), None)
            for fr in keyed_pose:
                if src is not None:
                    keys.setdefault(str(fr), {}).setdefault("shapes", {})[src] = fc.evaluate(fr)
result["shape_actions"] = sk_act
result["keyed"] = {str(k): v for k, v in keyed_pose.items()}
result["keys"] = keys

# disconnect and uninstall: nothing may be left behind
bpy.ops.avatar_bridge.disconnect()
rx_thread_alive = sess.receiver.alive
bpy.ops.extensions.package_uninstall(repo_index=[r.module for r in bpy.context.preferences.extensions.repos].index("user_default"),
                                     pkg_id="avatar_bridge")
result["leftovers"] = {
    "thread": rx_thread_alive or any(t.name.startswith("avatar-bridge") for t in threading.enumerate()),
    "timer": bpy.app.timers.is_registered(driver.tick),
    "scene_prop": hasattr(bpy.types.Scene, "avatar_bridge"),
    "object_prop": hasattr(bpy.types.Object, "avatar_bridge_bones"),
    "panel": hasattr(bpy.types, "AVATARBRIDGE_PT_panel"),
    "operator": hasattr(bpy.ops.avatar_bridge, "connect") and "connect" in dir(bpy.ops.avatar_bridge),
    "module": "bl_ext.user_default.avatar_bridge" in sys.modules,
}
with open(out_path, "w") as fh:
    json.dump(result, fh)
