"""Filling the editable maps: bones from the VRM add-on's humanoid (1.0 or 0.x) or by name, bone-map
presets as JSON files ({"Hips": "mixamorig:Hips", ...}), and shape keys by name (names.match_shapes)."""
from __future__ import annotations

import json
from pathlib import Path

from . import names

PRESETS = Path(__file__).parent / "presets"


def vrm_bone_map(arm) -> dict[str, str]:
    """Unity name -> bone name from the VRM add-on's humanoid on this armature ({} without one)."""
    ext = getattr(arm.data, "vrm_addon_extension", None)
    if ext is None:
        return {}
    out: dict[str, str] = {}
    if str(getattr(ext, "spec_version", "")) == "1.0":
        hb = ext.vrm1.humanoid.human_bones
        for u in names.BONES:
            item = getattr(hb, names.snake(names.vrm1_name(u)), None)
            bone = item.node.bone_name if item is not None else ""
            if bone:
                out[u] = bone
    else:
        by_vrm0 = {names.vrm0_name(u): u for u in names.BONES}
        for item in ext.vrm0.humanoid.human_bones:
            u = by_vrm0.get(item.bone)
            if u and item.node.bone_name:
                out[u] = item.node.bone_name
    return {u: b for u, b in out.items() if b in arm.data.bones}


def name_bone_map(arm, preset: dict[str, str] | None = None) -> dict[str, str]:
    """Unity name -> bone name by a preset's names, else the Unity / VRM names themselves (any case)."""
    bones = {b.name.casefold(): b.name for b in arm.data.bones}
    out = {}
    for u in names.BONES:
        for cand in ([preset[u]] if preset and u in preset else []) + [u, names.vrm1_name(u), names.vrm0_name(u)]:
            if cand.casefold() in bones:
                out[u] = bones[cand.casefold()]
                break
    return out


def set_bone_map(arm, mapping: dict[str, str]) -> None:
    arm.avatar_bridge_bones.clear()
    for u in names.BONES:
        item = arm.avatar_bridge_bones.add()
        item.unity, item.bone = u, mapping.get(u, "")


def bone_map(arm) -> dict[str, str]:
    """The armature's editable map as a dict (only rows naming an existing bone)."""
    return {i.unity: i.bone for i in arm.avatar_bridge_bones if i.bone and i.bone in arm.data.bones}


def read_preset(path) -> dict[str, str]:
    """A bone-map preset file; raises ValueError with one line on a bad one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read bone map {path}: {e}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"{path}: expected a JSON object of Unity bone name -> bone name")
    unknown = sorted(set(data) - set(names.BONES))
    if unknown:
        raise ValueError(f"{path}: not Unity HumanBodyBones names: {', '.join(unknown[:5])}")
    return data


def write_preset(path, mapping: dict[str, str]) -> None:
    Path(path).write_text(json.dumps(mapping, indent=1) + "\n", encoding="utf-8")


def default_sources() -> list[str]:
    """Channels to map before any frame arrived: the sidecar's arkit, vrm0 and vrm1 preset names."""
    return list(names.ARKIT_NAMES) + list(names.VRM0_TO_VRM1) + list(names.VRM0_TO_VRM1.values())


def fill_shape_map(settings, sources) -> str:
    """Match every source channel on the chosen meshes (first mesh that has it wins); returns the report."""
    settings.shape_map.clear()
    meshes = [m.object for m in settings.meshes if m.object is not None and m.object.data.shape_keys]
    matched: dict[str, tuple] = {}
    for obj in meshes:
        found = names.match_shapes([s for s in sources if s not in matched], obj.data.shape_keys.key_blocks.keys())
        for s, (key, how) in found.items():
            matched[s] = (obj, key, how)
    for s in sources:
        if s in matched:
            item = settings.shape_map.add()
            item.source, (item.object, item.key, item.how) = s, matched[s]
    if not meshes:
        return "no mesh with shape keys chosen"
    arkit = [s for s in names.ARKIT_NAMES if s in sources]
    missing = [s for s in arkit if s not in matched]
    hows: dict[str, int] = {}
    for _, _, how in matched.values():
        hows[how] = hows.get(how, 0) + 1
    report = f"{len(matched)} of {len(sources)} channels matched ({', '.join(f'{n} {h}' for h, n in sorted(hows.items()))})"
    if arkit:
        report += f"; ARKit {len(arkit) - len(missing)}/{len(arkit)}"
        if missing:
            report += f", missing {', '.join(missing[:6])}{'...' if len(missing) > 6 else ''}"
    return report
