"""Checks of the Godot 4 addon (engine_plugins/godot) that need no Godot binary.

* every .gd file parses (gdparse) and lints clean with the committed gdlintrc (gdlint);
* plugin.cfg has the keys Godot needs and its script exists;
* every res:// path in scripts, scenes, resources and configs exists, and the .tscn/.tres files
  are well formed (header, ext_resource paths and ids, node parents);
* every function declares parameter and return types, and every `var` a type (static typing);
* the name tables of names.gd agree with bridge/arkit.py and with Godot's own enums;
* the control command builders (control_commands.gd) agree with the sidecar's COMMANDS, and the
  wire code stays out of the scene: sockets only in the transports, parser and builders
  scene-free;
* the golden-vector tables of the addon README hold for tests/vectors/ (checked with a small
  Python decoder that follows osc_parser.gd's rules), so the documented parser behaviour is
  tied to the same bytes the Python and Unity sides are tested against.

gdtoolkit 4 is required: pip install "gdtoolkit==4.*".
"""
from __future__ import annotations

import ast
import configparser
import json
import math
import re
import struct
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from bridge.arkit import ARKIT_NAMES

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "engine_plugins" / "godot"
ADDON = PROJECT / "addons" / "avatar_bridge"
README = ADDON / "README.md"
VECTORS = ROOT / "tests" / "vectors"
GD_FILES = sorted(PROJECT.rglob("*.gd"))
INSTALL_HINT = 'gdtoolkit 4 is not installed: pip install "gdtoolkit==4.*"'


def _require_gdtoolkit() -> None:
    try:
        version = metadata.version("gdtoolkit")
    except metadata.PackageNotFoundError:
        pytest.fail(INSTALL_HINT, pytrace=False)
    if not version.startswith("4."):
        pytest.fail(f"gdtoolkit {version} found; {INSTALL_HINT}", pytrace=False)


def _run_tool(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=PROJECT,
                          capture_output=True, text=True, timeout=300)


# ---------------------------------------------------------------- layout and tooling

def test_project_layout():
    assert (PROJECT / "project.godot").is_file()
    assert (PROJECT / "gdlintrc").is_file()
    for name in ("plugin.cfg", "plugin.gd", "osc_parser.gd", "control_commands.gd", "transport.gd",
                 "udp_transport.gd", "websocket_transport.gd", "receiver.gd", "driver.gd",
                 "blendshape_driver.gd", "blendshape_mapping.gd", "skeleton_driver.gd",
                 "trigger_driver.gd", "xr_publisher.gd", "README.md"):
        assert (ADDON / name).is_file(), name
    assert (PROJECT / "demo" / "demo.tscn").is_file()
    assert len(GD_FILES) >= 10


def test_gdtoolkit_is_installed():
    _require_gdtoolkit()


def test_gdparse_every_script():
    _require_gdtoolkit()
    result = _run_tool("gdtoolkit.parser", *[str(p.relative_to(PROJECT)) for p in GD_FILES])
    assert result.returncode == 0, result.stdout + result.stderr


def test_gdlint_with_committed_config():
    _require_gdtoolkit()
    result = _run_tool("gdtoolkit.linter", "--verbose", "addons", "demo")
    output = result.stdout + result.stderr
    assert f"Config file found: '{PROJECT / 'gdlintrc'}'" in output, output[-2000:]
    assert result.returncode == 0, output[-4000:]


# ---------------------------------------------------------------- plugin.cfg, res:// paths, scenes

def _godot_cfg(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    text = path.read_text(encoding="utf-8")
    # project.godot has keys before the first section; configparser needs a section for them.
    parser.read_string("[__top__]\n" + text)
    return parser


def _unquote(value: str) -> str:
    value = value.strip()
    assert value.startswith('"') and value.endswith('"'), value
    return value[1:-1]


def test_plugin_cfg():
    cfg = _godot_cfg(ADDON / "plugin.cfg")
    assert cfg.has_section("plugin")
    plugin = cfg["plugin"]
    for key in ("name", "description", "author", "version", "script"):
        assert key in plugin and _unquote(plugin[key]), f"plugin.cfg lacks {key}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", _unquote(plugin["version"]))
    script = _unquote(plugin["script"])
    script_path = PROJECT / script[len("res://"):] if script.startswith("res://") else ADDON / script
    assert script_path.is_file(), script
    assert re.search(r"^extends EditorPlugin$", script_path.read_text(), re.M)
    assert re.search(r"^@tool$", script_path.read_text(), re.M)


def test_project_godot():
    cfg = _godot_cfg(PROJECT / "project.godot")
    assert cfg["__top__"]["config_version"] == "5"
    assert "res://addons/avatar_bridge/plugin.cfg" in cfg["editor_plugins"]["enabled"]
    assert _unquote(cfg["application"]["run/main_scene"]) == "res://demo/demo.tscn"


def _res_files() -> list[Path]:
    files = [PROJECT / "project.godot"]
    for pattern in ("*.gd", "*.tscn", "*.tres", "*.cfg"):
        files += PROJECT.rglob(pattern)
    return sorted(files)


def test_every_res_path_exists():
    missing = []
    seen = 0
    for path in _res_files():
        for match in re.finditer(r"res://([^\"'\s)\]]+)", path.read_text(encoding="utf-8")):
            seen += 1
            if not (PROJECT / match.group(1)).exists():
                missing.append(f"{path.relative_to(PROJECT)}: res://{match.group(1)}")
    assert seen > 10
    assert not missing, missing


_HEADER = re.compile(r"^\[(\w+)((?:\s+\w+=(?:\"[^\"]*\"|[^\s\]]+))*)\s*\]$")
_ATTR = re.compile(r"(\w+)=(\"[^\"]*\"|[^\s\]]+)")


def _sections(path: Path) -> list[tuple[str, dict[str, str]]]:
    sections = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("["):
            match = _HEADER.match(line)
            assert match, f"{path.name}:{number}: malformed section header {line!r}"
            attrs = {k: v.strip('"') for k, v in _ATTR.findall(match.group(2))}
            sections.append((match.group(1), attrs))
    return sections


@pytest.mark.parametrize("path", sorted(PROJECT.rglob("*.tscn")) + sorted(PROJECT.rglob("*.tres")),
                         ids=lambda p: p.name)
def test_scene_or_resource_is_well_formed(path: Path):
    text = path.read_text(encoding="utf-8")
    sections = _sections(path)
    kind, header = sections[0]
    assert kind == ("gd_scene" if path.suffix == ".tscn" else "gd_resource"), kind
    assert header.get("format") == "3", "Godot 4 text resources are format=3"
    ext_ids, sub_ids = set(), set()
    for name, attrs in sections[1:]:
        if name == "ext_resource":
            assert {"type", "path", "id"} <= attrs.keys(), attrs
            assert attrs["id"] not in ext_ids, f"duplicate ext_resource id {attrs['id']}"
            ext_ids.add(attrs["id"])
            assert attrs["path"].startswith("res://")
            assert (PROJECT / attrs["path"][len("res://"):]).is_file(), attrs["path"]
            if attrs["type"] == "Script":
                assert attrs["path"].endswith(".gd")
        elif name == "sub_resource":
            assert {"type", "id"} <= attrs.keys(), attrs
            sub_ids.add(attrs["id"])
    if "load_steps" in header:
        assert int(header["load_steps"]) == len(ext_ids) + len(sub_ids) + 1
    for ref in re.findall(r'ExtResource\("([^"]+)"\)', text):
        assert ref in ext_ids, f"ExtResource({ref!r}) is not declared"
    for ref in re.findall(r'SubResource\("([^"]+)"\)', text):
        assert ref in sub_ids, f"SubResource({ref!r}) is not declared"
    assert text.count("{") == text.count("}") and text.count("[") == text.count("]")
    if path.suffix == ".tscn":
        nodes = [attrs for name, attrs in sections if name == "node"]
        roots = [n for n in nodes if "parent" not in n]
        assert len(roots) == 1, "a scene has exactly one root node"
        known = {"."}
        for node in nodes[1:]:
            assert node["parent"] in known, f"node {node['name']}: unknown parent {node['parent']}"
            known.add(node["name"] if node["parent"] == "." else f"{node['parent']}/{node['name']}")
    else:
        assert any(name == "resource" for name, _ in sections)


# ---------------------------------------------------------------- static typing

def _signatures(source: str):
    """(name, parameters text, text between ')' and the body's ':') of every func."""
    for match in re.finditer(r"^[ \t]*(?:static\s+)?func\s+(\w+)\s*\(", source, re.M):
        depth, i = 1, match.end()
        while depth:
            char = source[i]
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
            elif char == '"':
                i = source.index('"', i + 1)
            i += 1
        params = source[match.end():i - 1]
        tail = source[i:source.index(":", i)]
        yield match.group(1), params, tail


def _split_top_level(text: str) -> list[str]:
    parts, depth, current, in_string = [], 0, "", False
    for char in text:
        if char == '"':
            in_string = not in_string
        elif not in_string and char in "([{":
            depth += 1
        elif not in_string and char in ")]}":
            depth -= 1
        if char == "," and depth == 0 and not in_string:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return parts


def test_functions_declare_parameter_and_return_types():
    problems = []
    count = 0
    for path in GD_FILES:
        for name, params, tail in _signatures(path.read_text(encoding="utf-8")):
            count += 1
            where = f"{path.relative_to(PROJECT)}: {name}"
            if not re.fullmatch(r"\s*->\s*[\w.\[\], ]+\s*", tail):
                problems.append(f"{where}: no return type")
            for param in _split_top_level(params):
                if not re.match(r"\s*\w+\s*(:\s*[\w.\[\]]+\s*(=.*)?|:=.*)$", param, re.S):
                    problems.append(f"{where}: untyped parameter {param.strip()!r}")
    assert count > 50
    assert not problems, problems


def test_variables_declare_types():
    problems = []
    for path in GD_FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.match(r"\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:static\s+)?var\s+(\w+)\s*(.)", line)
            if match and match.group(2) != ":":
                problems.append(f"{path.relative_to(PROJECT)}:{number}: var {match.group(1)} untyped")
    assert not problems, problems


# ---------------------------------------------------------------- names.gd tables

def _gd_constant(path: Path, name: str):
    """A constant array/dictionary literal of a .gd file, read as a Python literal."""
    source = path.read_text(encoding="utf-8")
    start = re.search(rf"^const {name} := ", source, re.M).end()
    depth, i = 0, start
    while True:
        if source[i] in "[{":
            depth += 1
        elif source[i] in "]}":
            depth -= 1
            if depth == 0:
                break
        i += 1
    return ast.literal_eval(source[start:i + 1])


# Godot 4.3+ XRFaceTracker.BlendShapeEntry and XRBodyTracker.Joint names, as declared in
# servers/xr/xr_face_tracker.h and xr_body_tracker.h (the addon resolves them by name at run time,
# so a typo would silently drop a shape or joint).
FACE_TRACKER_ENTRIES = {"FT_" + n for n in """
EYE_LOOK_OUT_RIGHT EYE_LOOK_IN_RIGHT EYE_LOOK_UP_RIGHT EYE_LOOK_DOWN_RIGHT EYE_LOOK_OUT_LEFT
EYE_LOOK_IN_LEFT EYE_LOOK_UP_LEFT EYE_LOOK_DOWN_LEFT EYE_CLOSED_RIGHT EYE_CLOSED_LEFT
EYE_SQUINT_RIGHT EYE_SQUINT_LEFT EYE_WIDE_RIGHT EYE_WIDE_LEFT EYE_DILATION_RIGHT EYE_DILATION_LEFT
EYE_CONSTRICT_RIGHT EYE_CONSTRICT_LEFT BROW_PINCH_RIGHT BROW_PINCH_LEFT BROW_LOWERER_RIGHT
BROW_LOWERER_LEFT BROW_INNER_UP_RIGHT BROW_INNER_UP_LEFT BROW_OUTER_UP_RIGHT BROW_OUTER_UP_LEFT
NOSE_SNEER_RIGHT NOSE_SNEER_LEFT NASAL_DILATION_RIGHT NASAL_DILATION_LEFT NASAL_CONSTRICT_RIGHT
NASAL_CONSTRICT_LEFT CHEEK_SQUINT_RIGHT CHEEK_SQUINT_LEFT CHEEK_PUFF_RIGHT CHEEK_PUFF_LEFT
CHEEK_SUCK_RIGHT CHEEK_SUCK_LEFT JAW_OPEN MOUTH_CLOSED JAW_RIGHT JAW_LEFT JAW_FORWARD
JAW_BACKWARD JAW_CLENCH JAW_MANDIBLE_RAISE LIP_SUCK_UPPER_RIGHT LIP_SUCK_UPPER_LEFT
LIP_SUCK_LOWER_RIGHT LIP_SUCK_LOWER_LEFT LIP_SUCK_CORNER_RIGHT LIP_SUCK_CORNER_LEFT
LIP_FUNNEL_UPPER_RIGHT LIP_FUNNEL_UPPER_LEFT LIP_FUNNEL_LOWER_RIGHT LIP_FUNNEL_LOWER_LEFT
LIP_PUCKER_UPPER_RIGHT LIP_PUCKER_UPPER_LEFT LIP_PUCKER_LOWER_RIGHT LIP_PUCKER_LOWER_LEFT
MOUTH_UPPER_UP_RIGHT MOUTH_UPPER_UP_LEFT MOUTH_LOWER_DOWN_RIGHT MOUTH_LOWER_DOWN_LEFT
MOUTH_UPPER_DEEPEN_RIGHT MOUTH_UPPER_DEEPEN_LEFT MOUTH_UPPER_RIGHT MOUTH_UPPER_LEFT
MOUTH_LOWER_RIGHT MOUTH_LOWER_LEFT MOUTH_CORNER_PULL_RIGHT MOUTH_CORNER_PULL_LEFT
MOUTH_CORNER_SLANT_RIGHT MOUTH_CORNER_SLANT_LEFT MOUTH_FROWN_RIGHT MOUTH_FROWN_LEFT
MOUTH_STRETCH_RIGHT MOUTH_STRETCH_LEFT MOUTH_DIMPLE_RIGHT MOUTH_DIMPLE_LEFT MOUTH_RAISER_UPPER
MOUTH_RAISER_LOWER MOUTH_PRESS_RIGHT MOUTH_PRESS_LEFT MOUTH_TIGHTENER_RIGHT MOUTH_TIGHTENER_LEFT
TONGUE_OUT TONGUE_UP TONGUE_DOWN TONGUE_RIGHT TONGUE_LEFT TONGUE_ROLL TONGUE_BLEND_DOWN
TONGUE_CURL_UP TONGUE_SQUISH TONGUE_FLAT TONGUE_TWIST_RIGHT TONGUE_TWIST_LEFT SOFT_PALATE_CLOSE
THROAT_SWALLOW NECK_FLEX_RIGHT NECK_FLEX_LEFT
EYE_CLOSED EYE_WIDE EYE_SQUINT EYE_DILATION EYE_CONSTRICT BROW_DOWN_RIGHT BROW_DOWN_LEFT BROW_DOWN
BROW_UP_RIGHT BROW_UP_LEFT BROW_UP NOSE_SNEER NASAL_DILATION NASAL_CONSTRICT CHEEK_PUFF CHEEK_SUCK
CHEEK_SQUINT LIP_SUCK_UPPER LIP_SUCK_LOWER LIP_SUCK LIP_FUNNEL_UPPER LIP_FUNNEL_LOWER LIP_FUNNEL
LIP_PUCKER_UPPER LIP_PUCKER_LOWER LIP_PUCKER MOUTH_UPPER_UP MOUTH_LOWER_DOWN MOUTH_OPEN
MOUTH_RIGHT MOUTH_LEFT MOUTH_SMILE_RIGHT MOUTH_SMILE_LEFT MOUTH_SMILE MOUTH_SAD_RIGHT
MOUTH_SAD_LEFT MOUTH_SAD MOUTH_STRETCH MOUTH_DIMPLE MOUTH_TIGHTENER MOUTH_PRESS
""".split()}
_JOINT_PARTS = ["METACARPAL", "PHALANX_PROXIMAL", "PHALANX_INTERMEDIATE", "PHALANX_DISTAL", "TIP"]
BODY_TRACKER_JOINTS = {"JOINT_" + n for n in """
ROOT HIPS SPINE CHEST UPPER_CHEST NECK HEAD HEAD_TIP LEFT_SHOULDER LEFT_UPPER_ARM LEFT_LOWER_ARM
RIGHT_SHOULDER RIGHT_UPPER_ARM RIGHT_LOWER_ARM LEFT_UPPER_LEG LEFT_LOWER_LEG LEFT_FOOT LEFT_TOES
RIGHT_UPPER_LEG RIGHT_LOWER_LEG RIGHT_FOOT RIGHT_TOES LEFT_HAND LEFT_PALM LEFT_WRIST
RIGHT_HAND RIGHT_PALM RIGHT_WRIST
""".split()} | {
    f"JOINT_{side}_THUMB_{part}" for side in ("LEFT", "RIGHT")
    for part in ("METACARPAL", "PHALANX_PROXIMAL", "PHALANX_DISTAL", "TIP")} | {
    f"JOINT_{side}_{finger}_FINGER_{part}" for side in ("LEFT", "RIGHT")
    for finger in ("INDEX", "MIDDLE", "RING", "PINKY") for part in _JOINT_PARTS}

# Unity's HumanBodyBones (without LastBone) and Godot's SkeletonProfileHumanoid bone names.
_FINGERS = ("Thumb", "Index", "Middle", "Ring", "Little")
_SIDES = ("Left", "Right")
UNITY_BONES = {"Hips", "Spine", "Chest", "UpperChest", "Neck", "Head", "Jaw"} | {
    s + b for s in _SIDES for b in ("UpperLeg", "LowerLeg", "Foot", "Toes", "Shoulder", "UpperArm",
                                    "LowerArm", "Hand", "Eye")} | {
    s + f + p for s in _SIDES for f in _FINGERS for p in ("Proximal", "Intermediate", "Distal")}
GODOT_HUMANOID = {"Root", "Hips", "Spine", "Chest", "UpperChest", "Neck", "Head", "Jaw"} | {
    s + b for s in _SIDES for b in ("UpperLeg", "LowerLeg", "Foot", "Toes", "Shoulder", "UpperArm",
                                    "LowerArm", "Hand", "Eye", "ThumbMetacarpal", "ThumbProximal",
                                    "ThumbDistal")} | {
    s + f + p for s in _SIDES for f in _FINGERS[1:] for p in ("Proximal", "Intermediate", "Distal")}


def test_names_tables_agree_with_the_sidecar_and_godot():
    names = ADDON / "names.gd"
    assert len(UNITY_BONES) == 55 and len(GODOT_HUMANOID) == 56
    assert len(FACE_TRACKER_ENTRIES) == 143 and len(BODY_TRACKER_JOINTS) == 76
    assert tuple(_gd_constant(names, "ARKIT_NAMES")) == ARKIT_NAMES
    to_ft = _gd_constant(names, "ARKIT_TO_FACE_TRACKER")
    assert set(to_ft) == set(ARKIT_NAMES), "every ARKit name feeds XRFaceTracker"
    used = {entry for entries in to_ft.values() for entry in entries}
    for unified, parts in _gd_constant(names, "FACE_TRACKER_BLENDS"):
        used |= {unified, *parts}
    assert used <= FACE_TRACKER_ENTRIES, sorted(used - FACE_TRACKER_ENTRIES)
    bones = _gd_constant(names, "UNITY_TO_GODOT_BONES")
    assert set(bones) == UNITY_BONES
    assert set(bones.values()) <= GODOT_HUMANOID and len(set(bones.values())) == 55
    assert bones["LeftThumbProximal"] == "LeftThumbMetacarpal"
    assert bones["RightThumbIntermediate"] == "RightThumbProximal"
    joints = _gd_constant(names, "BODY_JOINTS")
    assert set(joints) <= GODOT_HUMANOID
    assert set(joints.values()) <= BODY_TRACKER_JOINTS, sorted(set(joints.values()) - BODY_TRACKER_JOINTS)
    assert len(set(joints.values())) == len(joints)
    assert _gd_constant(names, "VRM0_NAMES") == ["A", "I", "U", "E", "O", "Blink", "Blink_L",
                                                 "Blink_R", "Joy", "Angry", "Sorrow", "Fun",
                                                 "Surprised"]
    assert _gd_constant(names, "VRM1_NAMES") == ["aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft",
                                                 "blinkRight", "happy", "angry", "sad", "relaxed",
                                                 "surprised"]


# The mesh blend shape names XRFaceModifier3D recognises (lower-cased, "_" removed), as listed in
# Godot 4.3+'s scene/3d/xr/xr_face_modifier_3d.cpp (find_face_blend_shape): Unified Expressions,
# ARKit, SRanipal and Meta spellings. ARKit's single "browInnerUp" is not among them.
GODOT_FACE_MODIFIER_NAMES = set("""
eyelookoutright eyerightright eyeslookoutr eyelookinright eyerightleft eyeslookinr eyelookupright
eyerightlookup eyeslookupr eyelookdownright eyerightlookdown eyeslookdownr eyelookoutleft
eyeleftleft eyeslookoutl eyelookinleft eyeleftright eyeslookinl eyelookupleft eyeleftlookup
eyeslookupl eyelookdownleft eyeleftlookdown eyeslookdownl eyeclosedright eyeblinkright
eyerightblink eyesclosedr eyeclosedleft eyeblinkleft eyeleftblink eyesclosedl eyesquintright
eyessquintr eyesquintleft eyessquintl eyewideright eyerightwide eyeswidenr eyewideleft eyeleftwide
eyeswidenl eyedilationright eyerightdilation eyedilationleft eyeleftdilation eyeconstrictright
eyerightconstrict eyeconstrictleft eyeleftconstrict browpinchright browpinchleft browlowererright
browlowererleft browinnerupright innerbrowraiserr browinnerupleft innerbrowraiserl
browouterupright outerbrowraiserr browouterupleft outerbrowraiserl nosesneerright nosewrinklerr
nosesneerleft nosewrinklerl nasaldilationright nasaldilationleft nasalconstrictright
nasalconstrictleft cheeksquintright cheekraiserr cheeksquintleft cheekraiserl cheekpuffright
cheekpuffr cheekpuffleft cheekpuffl cheeksuckright cheeksuckr cheeksuckleft cheeksuckl jawopen
jawdrop mouthclosed mouthclose mouthapeshape lipstoward jawright jawsidewaysright jawleft
jawsidewaysleft jawforward jawthrust jawbackward jawclench jawmandibleraise lipsuckupperright
lipsuckrt lipsuckupperleft lipsucklt lipsucklowerright lipsuckrb lipsucklowerleft lipsucklb
lipsuckcornerright lipsuckcornerleft lipfunnelupperright lipfunnelerrt lipfunnelupperleft
lipfunnelerlt lipfunnellowerright lipfunnellowerleft lippuckerupperright lippuckerupperleft
lippuckerlowerright lippuckerlowerleft mouthupperupright upperlipraiserr mouthupperupleft
upperlipraiserl mouthlowerdownright mouthlowerupright lowerlipdepressorr mouthlowerdownleft
mouthlowerupleft lowerlipdepressorl mouthupperdeepenright mouthupperdeepenleft mouthupperright
mouthupperleft mouthlowerright mouthlowerleft mouthcornerpullright mouthcornerpullleft
mouthcornerslantright mouthcornerslantleft mouthfrownright lipcornerdepressorr mouthfrownleft
lipcornerdepressorl mouthstretchright lipstretcherr mouthstretchleft lipstretcherl
mouthdimplerright mouthdimpleright dimplerr mouthdimplerleft mouthdimpleleft dimplerl
mouthraiserupper mouthshrugupper chinraisert mouthraiserlower mouthshruglower mouthloweroverlay
chinraiserb mouthpressright lippressorr mouthpressleft lippressorl mouthtightenerright
liptightenerr mouthtightenerleft liptightenerl tongueout tonguelongstep2 tongueup tonguedown
tongueright tongueleft tongueroll tongueblenddown tonguecurlup tonguesquish tongueflat
tonguetwistright tonguetwistleft softpalateclose throatswallow neckflexright neckflexleft
eyeclosed eyewide eyesquint eyedilation eyeconstrict browdownright browlowererr browdownleft
browlowererl browdown browupright browupleft browup nosesneer nasaldilation nasalconstrict
cheekpuff cheeksuck cheeksquint lipsuckupper mouthrollupper mouthupperinside lipsucklower
mouthrolllower mouthlowerinside lipsuck lipfunnelupper mouthupperoverturn lipfunnellower
mouthloweroverturn lipfunnel mouthfunnel lippuckerupper lippuckerlower lippucker mouthpucker
mouthpout mouthupperup mouthlowerdown mouthopen mouthright mouthleft mouthsmileright
lipcornerpullerr mouthsmileleft lipcornerpullerl mouthsmile mouthsadright mouthsadleft mouthsad
mouthstretch mouthdimple mouthtightener mouthpress
""".split())


def test_browinnerup_meshes_are_driven_beside_xr_face_modifier():
    """Exactly the ARKit names XRFaceModifier3D cannot match get a route of their own, to both inner
    brows, and the publisher sets them on the modifiers' meshes from those entries."""
    names = ADDON / "names.gd"
    missing = {n for n in ARKIT_NAMES if n.lower().replace("_", "") not in GODOT_FACE_MODIFIER_NAMES}
    assert missing == {"browInnerUp"}
    extra = _gd_constant(names, "FACE_MODIFIER_MISSING_SHAPES")
    assert extra == {"browInnerUp": ["FT_BROW_INNER_UP_RIGHT", "FT_BROW_INNER_UP_LEFT"]}
    assert {e for entries in extra.values() for e in entries} <= FACE_TRACKER_ENTRIES
    assert _gd_constant(names, "ARKIT_TO_FACE_TRACKER")["browInnerUp"] == extra["browInnerUp"], \
        "browInnerUp on the wire must fill the entries the mesh shape is read back from"
    publisher = (ADDON / "xr_publisher.gd").read_text()
    drive = publisher[publisher.index("func _drive_modifier_shapes"):]
    drive = drive[:drive.index("\n\n\n")]
    assert "total / maxf(1.0, entries.size())" in drive and "set_blend_shape_value" in drive
    scan = publisher[publisher.index("func _scan_face_modifiers"):]
    assert 'find_children("*", FACE_MODIFIER_CLASS' in scan and "FACE_MODIFIER_MISSING_SHAPES" in publisher
    calls = re.findall(r"^\t+_drive_modifier_shapes\(\)$", publisher, re.M)
    assert len(calls) == 2, "after every publish and every reset"


# ---------------------------------------------------------------- control commands and layering

GD_TYPES = {"bool": "bool", "str": "String", "number": "float", "mix": "Dictionary"}


def test_control_commands_agree_with_the_sidecar():
    """One builder per sidecar command, its parameters named and typed as the command's arguments,
    returning exactly {"type": command, argument: parameter, ...}."""
    from bridge.protocols.jsonframe import COMMANDS

    path = ADDON / "control_commands.gd"
    source = path.read_text(encoding="utf-8")
    assert _gd_constant(path, "NAMES") == list(COMMANDS)
    builders = {m.group(1): (m.group(2), m.group(3)) for m in re.finditer(
        r"^static func (\w+)\(([^)]*)\) -> Dictionary:\n\treturn (\{[^\n]*\})$", source, re.M)}
    assert set(builders) == set(COMMANDS), sorted(set(builders) ^ set(COMMANDS))
    for command, spec in COMMANDS.items():
        params, literal = builders[command]
        declared = [tuple(p.split(":")) for p in _split_top_level(params)]
        assert [(n.strip(), t.strip()) for n, t in declared] == [(a, GD_TYPES[t]) for a, (t, _) in spec.items()], command
        entries = re.findall(r'"(\w+)": (\w+|"\w+")', literal)
        assert entries == [("type", f'"{command}"')] + [(a, a) for a in spec], f"{command}: {literal}"


def test_sockets_stay_in_the_transports():
    """The receiver decodes and emits; only the transports touch sockets, and the transports,
    the parser and the command builders are scene-free RefCounted scripts."""
    receiver = (ADDON / "receiver.gd").read_text(encoding="utf-8")
    assert not re.search(r"\b(PacketPeerUDP|WebSocketPeer)\b", receiver)
    for name, base in (("transport.gd", "RefCounted"), ("udp_transport.gd", "AvatarBridgeTransport"),
                       ("websocket_transport.gd", "AvatarBridgeTransport"), ("osc_parser.gd", "RefCounted"),
                       ("control_commands.gd", "RefCounted")):
        source = (ADDON / name).read_text(encoding="utf-8")
        assert re.search(rf"^extends {base}$", source, re.M), name
        assert not re.search(r"\bget_(node|tree|parent)\b|\$\w|\bNode[23]?D?\b", source), f"{name} uses the scene"
    sockets = {n: (ADDON / n).read_text(encoding="utf-8") for n in ("udp_transport.gd", "websocket_transport.gd")}
    assert "PacketPeerUDP" in sockets["udp_transport.gd"] and "WebSocketPeer" in sockets["websocket_transport.gd"]


# ---------------------------------------------------------------- Unity -> Godot conversion

def _matrix(q) -> np.ndarray:
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def godot_rotation(q):
    return (q[0], -q[1], -q[2], q[3])


def godot_position(p):
    return (-p[0], p[1], p[2])


def test_unity_to_godot_conversion_is_the_x_reflection():
    """(x, -y, -z, w) is M R M with M = diag(-1, 1, 1): the same rotation seen with X flipped."""
    mirror = np.diag([-1.0, 1.0, 1.0])
    rng = np.random.default_rng(6)
    for q in [(0, math.sqrt(0.5), 0, math.sqrt(0.5)), *rng.normal(size=(20, 4))]:
        q = np.asarray(q, float) / np.linalg.norm(q)
        np.testing.assert_allclose(_matrix(godot_rotation(q)), mirror @ _matrix(q) @ mirror, atol=1e-12)
    # Golden head: 90 degrees about +Y in Unity turns the face (+Z) to the avatar's right, +X.
    head = (0.0, math.sqrt(0.5), 0.0, math.sqrt(0.5))
    np.testing.assert_allclose(_matrix(head) @ [0, 0, 1], [1, 0, 0], atol=1e-12)
    # In Godot the model faces +Z with its left at +X, so its right is -X.
    np.testing.assert_allclose(_matrix(godot_rotation(head)) @ [0, 0, 1], [-1, 0, 0], atol=1e-12)
    # A downward pitch stays a downward pitch (+Z towards -Y).
    pitch = (0.0871557, 0.0, 0.0, 0.9961947)
    assert (_matrix(godot_rotation(pitch)) @ [0, 0, 1])[1] < 0


# ---------------------------------------------------------------- golden vectors and the README

def _osc_string(data: bytes, pos: int, end: int) -> tuple[str, int]:
    nul = data.index(b"\0", pos, end)
    return data[pos:nul].decode("utf-8"), pos + ((nul - pos + 4) & ~3)


def _osc_messages(data: bytes, start: int = 0, end: int | None = None, depth: int = 0) -> list:
    """Flattened (address, tags with ',', args) of a packet, following osc_parser.gd's rules."""
    end = len(data) if end is None else end
    assert (end - start) > 0 and (end - start) % 4 == 0
    if data[start:start + 8] == b"#bundle\0":
        assert depth < 8 and struct.unpack(">Q", data[start + 8:start + 16])[0] == 1
        out, pos = [], start + 16
        while pos < end:
            size = struct.unpack(">i", data[pos:pos + 4])[0]
            assert size > 0 and size % 4 == 0 and pos + 4 + size <= end
            out += _osc_messages(data, pos + 4, pos + 4 + size, depth + 1)
            pos += 4 + size
        return out
    address, pos = _osc_string(data, start, end)
    tags, pos = _osc_string(data, pos, end)
    args = []
    for tag in tags[1:]:
        if tag in "if":
            args.append(struct.unpack(">" + tag, data[pos:pos + 4])[0])
            pos += 4
        elif tag == "s":
            value, pos = _osc_string(data, pos, end)
            args.append(value)
        else:
            raise AssertionError(f"unexpected tag {tag}")
    assert pos == end, "trailing bytes"
    return [(address, tags, args)]


def _unit(values) -> list[float]:
    q = np.asarray(values, float)
    return (q / np.linalg.norm(q)).tolist()


def _vmc_frame() -> dict:
    """AvatarBridgeOscParser.apply_vmc_message over vmc_frame_0..N, until Blend/Apply."""
    frame = {"source": "vmc", "seq": -1, "time": 0.0, "found": True, "presence": 1.0,
             "blendshapes": {}, "bones": {}, "root": {}, "vmc_ok": []}
    for path in sorted(VECTORS.glob("vmc_frame_*.bin")):
        for address, _tags, args in _osc_messages(path.read_bytes()):
            if address == "/VMC/Ext/OK":
                frame["vmc_ok"] = args
                frame["found"] = args[3] == 1
                frame["presence"] = 1.0 if args[3] == 1 else 0.0
            elif address == "/VMC/Ext/T":
                frame["time"] = args[0]
            elif address in ("/VMC/Ext/Root/Pos", "/VMC/Ext/Bone/Pos"):
                pose = {"position": args[1:4], "rotation": _unit(args[4:8])}
                if address.endswith("Root/Pos"):
                    frame["root"] = pose
                else:
                    frame["bones"][args[0]] = pose
            elif address == "/VMC/Ext/Blend/Val":
                frame["blendshapes"][args[0]] = args[1]
            elif address == "/VMC/Ext/Blend/Apply":
                return frame
    raise AssertionError("no /VMC/Ext/Blend/Apply")


def _json(name: str) -> dict:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def _find_person(msg: dict, slot: int, name: str = "") -> int:
    """AvatarBridgeOscParser.find_person: the index of the first person named `name` when it is not
    empty (slot ignored), else of the first in `slot` (a schema 2 person's slot is its place); -1."""
    for i, person in enumerate(msg["people"]):
        if (person.get("name") == name) if name else (int(person.get("slot", i + 1)) == slot):
            return i
    return -1


def _ws_frame(frame: str = "ws_frame.json", hello: str = "ws_hello.json", slot: int = 1, name: str = "") -> dict:
    """AvatarBridgeOscParser.frame_from_json(frame, hello, slot, name) on two vector files."""
    hello, msg = _json(hello), _json(frame)
    assert msg["v"] in (2, 3), f"{frame} is not schema 2 or 3: run python tests/vectors/generate.py"
    index = _find_person(msg, slot, name)
    if index < 0:
        return {}
    person = msg["people"][index]
    face = person["face"]
    names, bones = hello["channels"]["bones"], person["bones"]
    similarity = person.get("similarity")
    return {
        "source": "websocket", "seq": msg["seq"], "time": msg["t"], "person_id": person["id"],
        "slot": int(person.get("slot", index + 1)), "name": person.get("name"),
        "similarity": float(similarity) if similarity is not None else math.nan,
        "found": face["found"], "presence": face["presence"],
        "face": {"head_rotation": _unit(face["head_rot"]), "head_position": face["head_pos"],
                 "eye_left": _unit(face["eye_left"]), "eye_right": _unit(face["eye_right"]),
                 "eye_angles": face["eye_angles"]},
        "blendshapes": dict(zip(hello["channels"]["blendshapes"], person["blendshapes"], strict=True)),
        "bones": {n: {"rotation": _unit(r), "position": p}
                  for n, r, p in zip(names, bones["rot"], bones["pos"], strict=True)},
        "root": {"rotation": _unit(person["root"]["rot"]), "position": person["root"]["pos"]},
        "events": person["events"], "parameters": person["parameters"], "timings_ms": msg["timings_ms"],
    }


def _gd_function(source: str, name: str) -> str:
    return source.split(f"static func {name}(", 1)[1].split("\nstatic func ", 1)[0]


def test_frame_parsing_reads_schema_3_and_2():
    """osc_parser.gd reads v 3 and v 2 frames person by person: the versions, the checks of every
    person (v3's slot, name, similarity and box), frame_from_json's slot and name, and the receiver's
    exported follow_slot / follow_name, read at every message, with an absent person applying nothing."""
    parser = (ADDON / "osc_parser.gd").read_text(encoding="utf-8")
    receiver = (ADDON / "receiver.gd").read_text(encoding="utf-8")
    assert re.search(r"^const SCHEMA_VERSION := 3$", parser, re.M)
    assert re.search(r"^const OLDEST_SCHEMA_VERSION := 2$", parser, re.M)
    decode = _gd_function(parser, "decode_json_message")
    assert "int(version) < OLDEST_SCHEMA_VERSION" in decode and "int(version) > SCHEMA_VERSION" in decode
    assert re.search(r"static func frame_from_json\(\s*message: Dictionary, hello: Dictionary, slot: int = 1, "
                     r'name: String = ""\s*\)', parser)
    assert re.search(r'^static func find_person\(message: Dictionary, slot: int, name: String = ""\) -> int:$',
                     parser, re.M)
    find = _gd_function(parser, "find_person")
    assert 'if name.is_empty():' in find and 'person.get("slot", i + 1)' in find and 'person["name"] == name' in find
    check_frame = _gd_function(parser, "_check_frame")
    assert 'message.get("people")' in check_frame and "_check_person(person, version)" in check_frame
    check_person = _gd_function(parser, "_check_person")
    for key in ("id", "face", "blendshapes", "bones", "root", "events", "parameters"):
        assert f'person.get("{key}")' in check_person, key
    assert "if version >= 3:" in check_person and "_check_identity(person)" in check_person
    identity = _gd_function(parser, "_check_identity")
    for key in ("slot", "name", "similarity", "box"):
        assert f'person.get("{key}")' in identity, key
    from_json = _gd_function(parser, "frame_from_json")
    for line in ('frame["person_id"] = int(person["id"])', 'frame["slot"] = int(person.get("slot", index + 1))',
                 'frame["name"] = person.get("name")'):
        assert line in from_json, line
    assert re.search(r"^@export_range\(1, 4\) var follow_slot: int = 1$", receiver, re.M)
    assert re.search(r'^@export var follow_name: String = ""$', receiver, re.M)
    assert "frame_from_json(\n\t\t\t\tmessage, hello, follow_slot, follow_name\n\t\t\t)" in receiver, \
        "the exported values are read at every message, so changing them needs no reconnect"
    assert re.search(r"if frame\.is_empty\(\):\n\t\t\t\tframes_without_person \+= 1\n\t\t\t\treturn \{\}", receiver), \
        "an absent person applies nothing"
    assert "person_id" not in receiver, "the receiver follows a slot or a name, not an id"


def test_follow_slot_or_name_on_the_two_person_vector():
    """frame_from_json on ws_frame_people.json (the sidecar's encoder: slot 1 is id 7 "A", slot 2 is
    id 3 "B"): slot 2 and name "B" give the second person's values, a name wins over the slot, and a
    slot or name nobody has gives nothing (never someone else); schema 2 still reads."""
    msg = _json("ws_frame_people.json")
    a, b = msg["people"]
    kw = {"frame": "ws_frame_people.json", "hello": "ws_hello_people.json"}
    for frame, person in ((_ws_frame(**kw), a), (_ws_frame(**kw, slot=2), b), (_ws_frame(**kw, name="B"), b),
                          (_ws_frame(**kw, slot=2, name="A"), a), (_ws_frame(**kw, slot=1, name="B"), b)):
        assert (frame["person_id"], frame["slot"], frame["name"]) == (person["id"], person["slot"], person["name"])
        assert frame["similarity"] == person["similarity"]
        assert list(frame["blendshapes"].values()) == person["blendshapes"]
        assert frame["face"]["head_rotation"] == _unit(person["face"]["head_rot"])
        assert frame["root"]["position"] == person["root"]["pos"]
        assert frame["events"] == person["events"] and frame["parameters"] == person["parameters"]
    assert a["blendshapes"] != b["blendshapes"] and a["face"]["head_rot"] != b["face"]["head_rot"]
    assert _ws_frame(**kw, name="C") == {} and _ws_frame(**kw, slot=3) == {} and _ws_frame(**kw, name="b") == {}
    assert _json("ws_hello_people.json")["people"]["max"] == 2
    v2 = _ws_frame("ws_frame_v2.json", "ws_hello_v2.json")
    assert (v2["person_id"], v2["slot"], v2["name"], math.isnan(v2["similarity"])) == (0, 1, None, True)
    assert _ws_frame("ws_frame_v2.json", "ws_hello_v2.json", name="A") == {}
    one = _ws_frame()
    assert (one["person_id"], one["slot"], one["name"]) == (0, 1, None) and _ws_frame(slot=2) == {}


def _readme_rows(heading: str) -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not re.match(r"\|\s*-", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    assert rows[0][0].lower().startswith("vector"), f"{heading}: header row expected"
    return rows[1:]


def _value(text: str):
    """One README value: "text", true/false, a number, (a, b, ...) or a JSON object/array."""
    text = text.strip().strip("`").strip()
    if text.startswith(("{", "[")):
        return json.loads(text)
    if text.startswith("(") and text.endswith(")"):
        return [_value(part) for part in _split_top_level(text[1:-1])]
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    return float(text)


def _same(actual, expected, tolerance: float) -> bool:
    if expected is None or isinstance(expected, bool) or isinstance(expected, str):
        return actual == expected
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool) and abs(actual - expected) <= tolerance
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(_same(a, e, tolerance) for a, e in zip(actual, expected))
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(_same(actual[k], expected[k], tolerance) for k in expected)
    raise AssertionError(f"unsupported expected value {expected!r}")


def test_readme_lists_every_golden_vector():
    text = README.read_text(encoding="utf-8")
    for path in sorted(VECTORS.iterdir()):
        if path.suffix in (".bin", ".json"):
            assert f"`{path.name}`" in text, f"README does not mention {path.name}"


def test_readme_osc_message_table_matches_the_vectors():
    """Every row of "Golden vectors: OSC messages" holds for the bytes in tests/vectors/."""
    rows = _readme_rows("### Golden vectors: OSC messages")
    assert len(rows) >= 15
    checked_packets = set()
    for vector, item, expected in rows:
        name = vector.strip("`")
        data = (VECTORS / name).read_bytes()
        messages = _osc_messages(data)
        if item == "packet":
            match = re.fullmatch(r"(bundle \(time tag 1\)|message), (\d+) messages?", expected)
            assert match, f"{name}: cannot read {expected!r}"
            assert data.startswith(b"#bundle\0") == match.group(1).startswith("bundle"), name
            assert len(messages) == int(match.group(2)), f"{name}: {len(messages)} messages"
            checked_packets.add(name)
            continue
        index = int(re.fullmatch(r"message (\d+)", item).group(1))
        match = re.fullmatch(r"`([^`]+)` `(,[a-z]*)`\s*(.*)", expected)
        assert match, f"{name} {item}: cannot read {expected!r}"
        address, tags, args = messages[index]
        assert (address, tags) == (match.group(1), match.group(2)), f"{name} {item}"
        want = [] if match.group(3) == "(no arguments)" else [_value(v) for v in _split_top_level(match.group(3))]
        assert _same(args, want, 1e-6), f"{name} {item}: {args} != {want}"
    assert checked_packets == {p.name for p in VECTORS.glob("*.bin")}, "one packet row per .bin vector"


def test_readme_decoded_frame_table_matches_the_vectors():
    """Every row of "Golden vectors: decoded values" holds, and its Godot column is the conversion."""
    people = {"frame": "ws_frame_people.json", "hello": "ws_hello_people.json"}
    sources = {
        "`vmc_frame_0..2.bin`": _vmc_frame(),
        "`ws_hello.json`": _json("ws_hello.json"),
        "`ws_frame.json`": _ws_frame(),
        "`ws_reply.json`": _json("ws_reply.json"),
        "`ws_hello_people.json`": _json("ws_hello_people.json"),
        "`ws_frame_people.json` slot 1": _ws_frame(**people),
        "`ws_frame_people.json` slot 2": _ws_frame(**people, slot=2),
        '`ws_frame_people.json` name "B"': _ws_frame(**people, name="B"),
        "`ws_frame_v2.json`": _ws_frame("ws_frame_v2.json", "ws_hello_v2.json"),
    }
    rows = _readme_rows("### Golden vectors: decoded values")
    assert len(rows) >= 20
    assert {row[0] for row in rows} == set(sources), "one or more rows for each decoded source"
    for vector, field, wire, godot in rows:
        source = sources[vector]
        value = source
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", field.strip("`")):
            if part.startswith("["):
                value = value[int(part[1:-1])]
            elif part == "size":
                value = len(value)
            else:
                value = value[part]
        expected = _value(wire)
        # float32 on VMC; JSON is rounded to 5 decimals and re-normalized.
        tolerance = 1e-6 if vector.startswith("`vmc") else 1e-4
        assert _same(value, expected, tolerance), f"{vector} {field}: {value!r} != {expected!r}"
        if godot:
            converted = _value(godot)
            assert len(expected) in (3, 4), f"{field}: a Godot value needs a vector or quaternion"
            want = godot_rotation(expected) if len(expected) == 4 else godot_position(expected)
            assert _same(converted, [float(v) for v in want], 1e-9), f"{field}: Godot {converted} != {want}"
