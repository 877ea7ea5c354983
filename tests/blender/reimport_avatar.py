"""Import a .vrm with the VRM add-on and print one JSON line: assigned humanoid bones, expressions
with binds, shape keys. Why: proves the add-on (a second, independent reader) accepts the file."""
import json
import sys

import bpy  # noqa: I001 (bpy first: it puts addon_utils on the path)
import addon_utils

path = sys.argv[1]
bpy.ops.wm.read_factory_settings(use_empty=True)
addon_utils.enable("io_scene_vrm", default_set=True, handle_error=None)
from io_scene_vrm.editor.extension import get_armature_extension  # noqa: E402

if bpy.ops.import_scene.vrm(filepath=path) != {"FINISHED"}:
    print(f"error: import_scene.vrm did not finish for {path}", file=sys.stderr)
    sys.exit(1)
arms = [o for o in bpy.data.objects if o.type == "ARMATURE"]
ext = get_armature_extension(arms[0].data)
hb = ext.vrm1.humanoid.human_bones
bones = {name.value: h.node.bone_name for name, h in hb.human_bone_name_to_human_bone().items() if h.node.bone_name}
ex = ext.vrm1.expressions
presets = {n: len(e.morph_target_binds) for n, e in ex.preset.name_to_expression_dict().items()}
custom = {e.custom_name: len(e.morph_target_binds) for e in ex.custom}
keys = sorted({k.name for o in bpy.data.objects if o.type == "MESH" and o.data.shape_keys
               for k in o.data.shape_keys.key_blocks[1:]})
print("RESULT " + json.dumps({"spec_version": ext.spec_version, "human_bones": bones, "presets": presets,
                              "custom": custom, "shape_keys": keys}))
