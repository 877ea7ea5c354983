"""Names, free of bpy: Unity HumanBodyBones and their hierarchy, the VRM humanoid names they map
to, and automatic matching of blendshape names (ARKit / VRM) to a mesh's shape keys."""
from __future__ import annotations

import re

FINGERS = ("Thumb", "Index", "Middle", "Ring", "Little")
PHALANGES = ("Proximal", "Intermediate", "Distal")
_LIMBS = ("UpperLeg", "LowerLeg", "Foot", "Toes", "Shoulder", "UpperArm", "LowerArm", "Hand", "Eye")


def _hierarchy() -> dict[str, str | None]:
    p: dict[str, str | None] = {"Hips": None, "Spine": "Hips", "Chest": "Spine", "UpperChest": "Chest",
                                "Neck": "UpperChest", "Head": "Neck", "Jaw": "Head"}
    for s in ("Left", "Right"):
        p.update({f"{s}UpperLeg": "Hips", f"{s}LowerLeg": f"{s}UpperLeg", f"{s}Foot": f"{s}LowerLeg",
                  f"{s}Toes": f"{s}Foot", f"{s}Shoulder": "UpperChest", f"{s}UpperArm": f"{s}Shoulder",
                  f"{s}LowerArm": f"{s}UpperArm", f"{s}Hand": f"{s}LowerArm", f"{s}Eye": "Head"})
        for f in FINGERS:
            parent = f"{s}Hand"
            for ph in PHALANGES:
                p[f"{s}{f}{ph}"] = parent
                parent = f"{s}{f}{ph}"
    return p


PARENT = _hierarchy()  # Unity HumanBodyBones name -> parent name (parents listed before children)
BONES = tuple(PARENT)

# Unity's thumb names are one joint off VRM 1.0's: Unity Proximal/Intermediate/Distal are VRM 1.0
# thumbMetacarpal/thumbProximal/thumbDistal (VRM 0.x uses Unity's names).
_THUMB_VRM1 = {"ThumbProximal": "ThumbMetacarpal", "ThumbIntermediate": "ThumbProximal"}


def vrm0_name(unity: str) -> str:
    """Unity name -> VRM 0.x humanoid bone name (lower camel case of the same word)."""
    return unity[0].lower() + unity[1:]


def vrm1_name(unity: str) -> str:
    """Unity name -> VRM 1.0 humanoid bone name (lower camel case, thumbs renamed)."""
    for u, v in _THUMB_VRM1.items():
        if unity.endswith(u):
            unity = unity[: -len(u)] + v
            break
    return vrm0_name(unity)


def snake(camel: str) -> str:
    """VRM name -> the VRM add-on's property name (leftThumbMetacarpal -> left_thumb_metacarpal)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


# VRM 0.x BlendShapeProxy presets <-> VRM 1.0 expression presets (the sidecar's vrm0 / vrm1 presets).
VRM0_TO_VRM1 = {"A": "aa", "I": "ih", "U": "ou", "E": "ee", "O": "oh", "Blink": "blink", "Blink_L": "blinkLeft",
                "Blink_R": "blinkRight", "Joy": "happy", "Angry": "angry", "Sorrow": "sad", "Fun": "relaxed",
                "Surprised": "surprised", "LookUp": "lookUp", "LookDown": "lookDown", "LookLeft": "lookLeft",
                "LookRight": "lookRight", "Neutral": "neutral"}
_ALIASES: dict[str, list[str]] = {}
for _a, _b in VRM0_TO_VRM1.items():
    _ALIASES.setdefault(_a.casefold(), []).append(_b)
    _ALIASES.setdefault(_b.casefold(), []).append(_a)


def _loose(name: str) -> str:
    """Case and separators ignored, _L/_R and .L/.R read as Left/Right: eye_blink_L == eyeBlinkLeft."""
    n = re.sub(r"[._\-\s]([LR])$", lambda m: "left" if m.group(1) == "L" else "right", name)
    return re.sub(r"[^0-9a-z]", "", n.casefold())


def match_shapes(sources, keys) -> dict[str, tuple[str, str]]:
    """Source channel names -> (shape key name, how) for the keys of one mesh. Tried in order:
    exact, case-insensitive, loose (separators, _L/_R), then the VRM 0.x <-> 1.0 preset alias."""
    keys = list(keys)
    exact = set(keys)
    folded = {k.casefold(): k for k in reversed(keys)}
    loose = {_loose(k): k for k in reversed(keys)}
    out: dict[str, tuple[str, str]] = {}
    for s in sources:
        for cand, how in [(s, "")] + [(a, "VRM alias ") for a in _ALIASES.get(s.casefold(), [])]:
            if cand in exact:
                out[s] = (cand, how + "exact")
            elif cand.casefold() in folded:
                out[s] = (folded[cand.casefold()], how + "case-insensitive")
            elif _loose(cand) in loose:
                out[s] = (loose[_loose(cand)], how + "loose")
            else:
                continue
            break
    return out

# The sidecar's 52 ARKit channel names (its default `arkit` preset), in ARKit order.
ARKIT_NAMES = (
    'eyeBlinkLeft', 'eyeLookDownLeft', 'eyeLookInLeft', 'eyeLookOutLeft', 'eyeLookUpLeft', 'eyeSquintLeft',
    'eyeWideLeft', 'eyeBlinkRight', 'eyeLookDownRight', 'eyeLookInRight', 'eyeLookOutRight',
    'eyeLookUpRight', 'eyeSquintRight', 'eyeWideRight', 'jawForward', 'jawLeft', 'jawRight', 'jawOpen',
    'mouthClose', 'mouthFunnel', 'mouthPucker', 'mouthLeft', 'mouthRight', 'mouthSmileLeft',
    'mouthSmileRight', 'mouthFrownLeft', 'mouthFrownRight', 'mouthDimpleLeft', 'mouthDimpleRight',
    'mouthStretchLeft', 'mouthStretchRight', 'mouthRollLower', 'mouthRollUpper', 'mouthShrugLower',
    'mouthShrugUpper', 'mouthPressLeft', 'mouthPressRight', 'mouthLowerDownLeft', 'mouthLowerDownRight',
    'mouthUpperUpLeft', 'mouthUpperUpRight', 'browDownLeft', 'browDownRight', 'browInnerUp',
    'browOuterUpLeft', 'browOuterUpRight', 'cheekPuff', 'cheekSquintLeft', 'cheekSquintRight',
    'noseSneerLeft', 'noseSneerRight', 'tongueOut',
)
