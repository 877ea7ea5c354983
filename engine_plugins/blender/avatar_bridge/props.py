"""Settings stored in the .blend: scene.avatar_bridge (connection, targets, shape map) and each
armature's editable bone map, object.avatar_bridge_bones (Unity name -> bone name)."""
import bpy
from bpy.props import (BoolProperty, CollectionProperty, EnumProperty, IntProperty, PointerProperty,
                       StringProperty)

from . import driver


def _is_armature(_self, obj) -> bool:
    return obj.type == "ARMATURE"


def _is_mesh(_self, obj) -> bool:
    return obj.type == "MESH"


class BoneMapItem(bpy.types.PropertyGroup):
    unity: StringProperty(name="Unity bone", description="Unity HumanBodyBones name sent by the sidecar")
    bone: StringProperty(name="Bone", description="Bone of this armature it drives (empty: not driven)")


class MeshItem(bpy.types.PropertyGroup):
    object: PointerProperty(type=bpy.types.Object, poll=_is_mesh, name="Mesh")


def _follow_changed(self, _context) -> None:
    """Who to follow is read at every message: a change applies to the running session at once."""
    driver.follow(self)


class ShapeMapItem(bpy.types.PropertyGroup):
    source: StringProperty(name="Channel", description="Blendshape name sent by the sidecar")
    object: PointerProperty(type=bpy.types.Object, poll=_is_mesh, name="Mesh")
    key: StringProperty(name="Shape key")
    how: StringProperty(name="Matched by")


class Settings(bpy.types.PropertyGroup):
    protocol: EnumProperty(name="Protocol", items=[
        ("VMC", "VMC (UDP)", "Listen for the sidecar's VMC packets (OSC over UDP)"),
        ("WS", "WebSocket", "Connect to the sidecar's WebSocket server (JSON schema 3 or 2)")], default="VMC")
    vmc_host: StringProperty(name="Listen on", default="127.0.0.1",
                             description="Address to listen on (0.0.0.0: every network interface)")
    vmc_port: IntProperty(name="Port", default=39539, min=1, max=65535)
    ws_url: StringProperty(name="URL", default="ws://127.0.0.1:8765",
                           description="ws://host:port of the sidecar (add ?token=SECRET if it asks for one)")
    follow_slot: IntProperty(name="Slot", default=1, min=1, max=4, update=_follow_changed,
                             description="Which person of the WebSocket frames drives this avatar "
                                         "(1: the first; with --people N, slot N). Over VMC each slot has its own port")
    follow_name: StringProperty(name="Name", default="", update=_follow_changed,
                                description="Follow the person with this enrolled name wherever they stand "
                                            "(instead of the slot); empty: by slot")
    armature: PointerProperty(type=bpy.types.Object, poll=_is_armature, name="Armature")
    apply_root: BoolProperty(name="Root motion", default=True,
                             description="Apply the sidecar's root position and rotation to the Hips")
    meshes: CollectionProperty(type=MeshItem)
    mesh_index: IntProperty()
    shape_map: CollectionProperty(type=ShapeMapItem)
    shape_index: IntProperty()
    bone_index: IntProperty()
    match_report: StringProperty(name="Match report")


CLASSES = (BoneMapItem, MeshItem, ShapeMapItem, Settings)


def register() -> None:
    for c in CLASSES:
        bpy.utils.register_class(c)
    bpy.types.Scene.avatar_bridge = PointerProperty(type=Settings)
    bpy.types.Object.avatar_bridge_bones = CollectionProperty(type=BoneMapItem)


def unregister() -> None:
    del bpy.types.Object.avatar_bridge_bones
    del bpy.types.Scene.avatar_bridge
    for c in reversed(CLASSES):
        bpy.utils.unregister_class(c)
