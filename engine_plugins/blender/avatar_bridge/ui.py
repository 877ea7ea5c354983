"""The View3D sidebar panel ("Avatar Bridge" tab) and its operators."""
import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from . import driver, mapping


def _settings(context):
    return context.scene.avatar_bridge


class AVATARBRIDGE_OT_connect(bpy.types.Operator):
    """Start receiving from the sidecar (VMC listen or WebSocket connect)"""
    bl_idname = "avatar_bridge.connect"
    bl_label = "Connect"

    def execute(self, context):
        st = _settings(context)
        arm = st.armature
        if arm is not None and not len(arm.avatar_bridge_bones):
            bpy.ops.avatar_bridge.auto_map_bones()
        if st.meshes and not st.shape_map:
            bpy.ops.avatar_bridge.auto_map_shapes()
        driver.start(st)
        return {"FINISHED"}


class AVATARBRIDGE_OT_disconnect(bpy.types.Operator):
    """Stop receiving (the pose stays as it was)"""
    bl_idname = "avatar_bridge.disconnect"
    bl_label = "Disconnect"

    def execute(self, context):
        driver.stop()
        return {"FINISHED"}


class AVATARBRIDGE_OT_auto_map_bones(bpy.types.Operator):
    """Fill the bone map from the VRM humanoid (when the VRM add-on knows this armature) or by bone names"""
    bl_idname = "avatar_bridge.auto_map_bones"
    bl_label = "Auto-map bones"

    @classmethod
    def poll(cls, context):
        return _settings(context).armature is not None

    def execute(self, context):
        arm = _settings(context).armature
        found = mapping.vrm_bone_map(arm)
        how = "VRM humanoid"
        if not found:
            found, how = mapping.name_bone_map(arm), "bone names"
        mapping.set_bone_map(arm, found)
        self.report({"INFO"}, f"{len(found)} of {len(arm.avatar_bridge_bones)} Unity bones mapped ({how})")
        return {"FINISHED"}


class AVATARBRIDGE_OT_load_bone_preset(bpy.types.Operator, ImportHelper):
    """Load a bone map preset (JSON: Unity bone name -> bone name)"""
    bl_idname = "avatar_bridge.load_bone_preset"
    bl_label = "Load bone map"
    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        return _settings(context).armature is not None

    def invoke(self, context, event):
        self.filepath = str(mapping.PRESETS) + "/"
        return super().invoke(context, event)

    def execute(self, context):
        arm = _settings(context).armature
        try:
            preset = mapping.read_preset(self.filepath)
        except ValueError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        found = mapping.name_bone_map(arm, preset)
        mapping.set_bone_map(arm, found)
        self.report({"INFO"}, f"{len(found)} of {len(preset)} preset bones found on {arm.name}")
        return {"FINISHED"}


class AVATARBRIDGE_OT_save_bone_preset(bpy.types.Operator, ExportHelper):
    """Save this armature's bone map as a preset (JSON)"""
    bl_idname = "avatar_bridge.save_bone_preset"
    bl_label = "Save bone map"
    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        return _settings(context).armature is not None

    def execute(self, context):
        mapping.write_preset(self.filepath, mapping.bone_map(_settings(context).armature))
        return {"FINISHED"}


class AVATARBRIDGE_OT_add_mesh(bpy.types.Operator):
    """Drive the shape keys of the selected meshes"""
    bl_idname = "avatar_bridge.add_mesh"
    bl_label = "Add selected meshes"

    def execute(self, context):
        st = _settings(context)
        have = {m.object for m in st.meshes}
        for obj in context.selected_objects:
            if obj.type == "MESH" and obj not in have:
                st.meshes.add().object = obj
        return {"FINISHED"}


class AVATARBRIDGE_OT_remove_mesh(bpy.types.Operator):
    """Stop driving the highlighted mesh"""
    bl_idname = "avatar_bridge.remove_mesh"
    bl_label = "Remove mesh"

    def execute(self, context):
        st = _settings(context)
        if 0 <= st.mesh_index < len(st.meshes):
            st.meshes.remove(st.mesh_index)
        return {"FINISHED"}


class AVATARBRIDGE_OT_auto_map_shapes(bpy.types.Operator):
    """Match the sidecar's blendshape names (ARKit, VRM presets, and any seen on the wire) to shape keys"""
    bl_idname = "avatar_bridge.auto_map_shapes"
    bl_label = "Auto-map shape keys"

    def execute(self, context):
        st = _settings(context)
        s = driver.session()
        sources = mapping.default_sources()
        sources += sorted(s.channels - set(sources)) if s is not None else []
        st.match_report = mapping.fill_shape_map(st, sources)
        self.report({"INFO"}, st.match_report)
        return {"FINISHED"}


class AVATARBRIDGE_OT_add_shape_row(bpy.types.Operator):
    """Add a row to the shape key map"""
    bl_idname = "avatar_bridge.add_shape_row"
    bl_label = "Add shape mapping"

    def execute(self, context):
        st = _settings(context)
        item = st.shape_map.add()
        item.how = "by hand"
        if st.meshes:
            item.object = st.meshes[0].object
        st.shape_index = len(st.shape_map) - 1
        return {"FINISHED"}


class AVATARBRIDGE_OT_remove_shape_row(bpy.types.Operator):
    """Remove the highlighted row of the shape key map"""
    bl_idname = "avatar_bridge.remove_shape_row"
    bl_label = "Remove shape mapping"

    def execute(self, context):
        st = _settings(context)
        if 0 <= st.shape_index < len(st.shape_map):
            st.shape_map.remove(st.shape_index)
        return {"FINISHED"}


class AVATARBRIDGE_OT_record_start(bpy.types.Operator):
    """Key every received frame into the armature's and shape keys' Actions, from the current frame"""
    bl_idname = "avatar_bridge.record_start"
    bl_label = "Record"

    @classmethod
    def poll(cls, context):
        s = driver.session()
        return s is not None and not s.recording

    def execute(self, context):
        driver.start_recording(context.scene)
        return {"FINISHED"}


class AVATARBRIDGE_OT_record_stop(bpy.types.Operator):
    """Stop recording"""
    bl_idname = "avatar_bridge.record_stop"
    bl_label = "Stop recording"

    @classmethod
    def poll(cls, context):
        s = driver.session()
        return s is not None and s.recording

    def execute(self, context):
        actions = driver.stop_recording(context.scene)
        self.report({"INFO"}, f"recorded into {', '.join(actions) or 'no Action (nothing was driven)'}")
        return {"FINISHED"}


class AVATARBRIDGE_UL_bones(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index):
        row = layout.row(align=True)
        row.label(text=item.unity)
        row.prop_search(item, "bone", data.data, "bones", text="")


class AVATARBRIDGE_UL_meshes(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index):
        layout.prop(item, "object", text="")


class AVATARBRIDGE_UL_shapes(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index):
        row = layout.row(align=True)
        row.prop(item, "source", text="")
        if item.object is not None and item.object.data.shape_keys:
            row.prop_search(item, "key", item.object.data.shape_keys, "key_blocks", text="")
        else:
            row.prop(item, "object", text="")


class AVATARBRIDGE_PT_panel(bpy.types.Panel):
    bl_label = "Avatar Bridge"
    bl_idname = "AVATARBRIDGE_PT_panel"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Avatar Bridge"

    def draw(self, context):
        st = _settings(context)
        s = driver.session()
        col = self.layout.column()
        col.prop(st, "protocol")
        if st.protocol == "VMC":
            row = col.row(align=True)
            row.prop(st, "vmc_host")
            row.prop(st, "vmc_port")
        else:
            col.prop(st, "ws_url")
            row = col.row(align=True)
            row.prop(st, "follow_slot")
            row.prop(st, "follow_name")
        if s is None:
            col.operator("avatar_bridge.connect", icon="PLAY")
        else:
            col.operator("avatar_bridge.disconnect", icon="PAUSE")
            rx = s.receiver
            col.label(text=rx.status, icon="ERROR" if rx.status.startswith(("error", "cannot")) else "INFO")
            col.label(text=f"frames {rx.frames}, applied {s.applied}, bad packets {rx.bad}, errors {s.errors}")
            missing = getattr(getattr(rx, "reader", None), "without_person", 0)
            if missing:
                col.label(text=f"{missing} frames without the followed person (holding the last pose)")
            for line in (rx.last_error, s.last_error):
                if line:
                    col.label(text=line, icon="ERROR")

        box = self.layout.box()
        box.prop(st, "armature")
        arm = st.armature
        if arm is not None:
            row = box.row(align=True)
            row.operator("avatar_bridge.auto_map_bones")
            row.operator("avatar_bridge.load_bone_preset", text="", icon="FILEBROWSER")
            row.operator("avatar_bridge.save_bone_preset", text="", icon="FILE_TICK")
            mapped = sum(1 for i in arm.avatar_bridge_bones if i.bone)
            box.label(text=f"{mapped} of {len(arm.avatar_bridge_bones)} Unity bones mapped")
            box.template_list("AVATARBRIDGE_UL_bones", "", arm, "avatar_bridge_bones", st, "bone_index", rows=4)
            box.prop(st, "apply_root")

        box = self.layout.box()
        box.label(text="Shape keys")
        row = box.row()
        row.template_list("AVATARBRIDGE_UL_meshes", "", st, "meshes", st, "mesh_index", rows=2)
        sub = row.column(align=True)
        sub.operator("avatar_bridge.add_mesh", text="", icon="ADD")
        sub.operator("avatar_bridge.remove_mesh", text="", icon="REMOVE")
        box.operator("avatar_bridge.auto_map_shapes")
        if st.match_report:
            box.label(text=st.match_report)
        row = box.row()
        row.template_list("AVATARBRIDGE_UL_shapes", "", st, "shape_map", st, "shape_index", rows=4)
        sub = row.column(align=True)
        sub.operator("avatar_bridge.add_shape_row", text="", icon="ADD")
        sub.operator("avatar_bridge.remove_shape_row", text="", icon="REMOVE")

        box = self.layout.box()
        if s is not None and s.recording:
            box.operator("avatar_bridge.record_stop", icon="SNAP_FACE")
            box.label(text=f"recording: {len(s.keyed_frames)} frames keyed")
        else:
            box.operator("avatar_bridge.record_start", icon="REC")


CLASSES = (AVATARBRIDGE_OT_connect, AVATARBRIDGE_OT_disconnect, AVATARBRIDGE_OT_auto_map_bones,
           AVATARBRIDGE_OT_load_bone_preset, AVATARBRIDGE_OT_save_bone_preset, AVATARBRIDGE_OT_add_mesh,
           AVATARBRIDGE_OT_remove_mesh, AVATARBRIDGE_OT_auto_map_shapes, AVATARBRIDGE_OT_add_shape_row,
           AVATARBRIDGE_OT_remove_shape_row, AVATARBRIDGE_OT_record_start, AVATARBRIDGE_OT_record_stop,
           AVATARBRIDGE_UL_bones, AVATARBRIDGE_UL_meshes, AVATARBRIDGE_UL_shapes, AVATARBRIDGE_PT_panel)


def register() -> None:
    for c in CLASSES:
        bpy.utils.register_class(c)


def unregister() -> None:
    for c in reversed(CLASSES):
        bpy.utils.unregister_class(c)
