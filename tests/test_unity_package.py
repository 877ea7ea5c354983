"""Checks of the Unity package (engine_plugins/unity) that need no Unity editor.

* package.json and the .asmdef files are valid and say what Unity needs (the Editor assembly is
  editor-only, the protocol assembly references no engine);
* every file and folder Unity imports has a .meta with a unique, well-formed GUID, and there are
  no orphan .meta files (a package installed from a git URL is immutable: Unity ignores assets
  without .meta files there);
* with Mono's `mcs` (Debian: mono-mcs, mono-runtime): every C# file of the package compiles, per
  assembly as the .asmdef files split them, the Unity-facing ones against the compile-only stubs
  in Tests~/UnityStubs; the engine-independent core (Runtime/Protocol, Runtime/Transport) runs
  in the harness Tests~/ProtocolHarness, which decodes the golden vectors of tests/vectors/ so
  the values can be compared here with what the Python encoders wrote (WebSocket schema 3, and 2:
  the person the receiver follows by slot or by name, out of the frame's people list), rejects garbage cleanly,
  passes its own self-tests, builds control commands that the sidecar's own parser accepts with
  exactly the intended arguments, and talks to the sidecar's real UDP and WebSocket transports.

The Mono tests skip only when `mcs`/`mono` are missing.
"""
from __future__ import annotations

import base64
import importlib.util
import json
import random
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from bridge.arkit import ARKIT_NAMES

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "engine_plugins" / "unity"
VECTORS = ROOT / "tests" / "vectors"
HARNESS_DIR = PKG / "Tests~" / "ProtocolHarness"
STUBS_DIR = PKG / "Tests~" / "UnityStubs"
GUID = re.compile(r"^guid: ([0-9a-f]{32})$", re.M)
HEAD = (0.0, 0.7071068, 0.0, 0.7071068)
LEFT_EYE = (0.0, 0.0871557, 0.0, 0.9961947)
RIGHT_EYE = (0.0871557, 0.0, 0.0, 0.9961947)
CURRENT_UNITY_DEFINES = ("UNITY_2021_3_OR_NEWER", "UNITY_2022_3_OR_NEWER", "UNITY_2023_1_OR_NEWER")
MONO_MISSING = "Mono is not installed: apt-get install mono-mcs mono-runtime (Debian) to run the Unity package's C# tests"


def _generator():
    spec = importlib.util.spec_from_file_location("vector_generate", VECTORS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _golden_frame():
    return _generator().golden_frame()


def _golden_person():
    return _golden_frame().people[0]


# What the harness's sample commands (Program.SampleCommands) must mean to the sidecar's parse_control.
TRICKY = 'say "hi" \\ back\tslash\n\x01 caf\u00e9 \U0001F600'
SAMPLE_COMMANDS = [
    ("calibrate", {}), ("reload_config", {}), ("pause", {}), ("resume", {}), ("ping", {}),
    ("subscribe", {"preview": True}), ("set_preset", {"preset": "vrm1"}),
    ("set_shape", {"shape": TRICKY, "key": "curve", "value": -0.5}),
    ("set_shape", {"shape": "jawOpen", "key": "dead_zone", "value": 1e-5}),
    ("set_output", {"output": "Joy", "mix": {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5, "cheekSquintLeft": 1.0}}),
    ("rename", {"output": "Joy", "to": TRICKY}), ("save_config", {}),
]


def _vmc_files() -> list[Path]:
    files = sorted(VECTORS.glob("vmc_frame_*.bin"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    assert files, "no VMC vectors in tests/vectors"
    return files


# ---------------------------------------------------------------- manifest and assemblies

def test_package_json():
    manifest = json.loads((PKG / "package.json").read_text())
    assert re.fullmatch(r"com\.[a-z0-9-]+\.[a-z0-9.-]+", manifest["name"]), "reverse-domain, lowercase name"
    assert manifest["name"] == "com.avatarbridge.receiver"
    assert manifest["version"] == "0.1.0"
    assert manifest["unity"] == "2021.3"
    assert manifest["displayName"] and manifest["description"]
    assert manifest["license"] == "Apache-2.0"
    assert manifest.get("dependencies", {}) == {}, "the package must not depend on other packages"
    assert manifest["samples"], "samples entry missing"
    for sample in manifest["samples"]:
        assert sample["displayName"] and sample["description"]
        assert sample["path"].startswith("Samples~/")
        assert (PKG / sample["path"]).is_dir(), f"sample path {sample['path']} does not exist"


def test_package_documents():
    license_text = (PKG / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0" in license_text
    assert "## [0.1.0]" in (PKG / "CHANGELOG.md").read_text()
    readme = (PKG / "README.md").read_text()
    assert "https://github.com/<owner>/<repo>.git?path=engine_plugins/unity" in readme
    assert "Packages/" in readme
    for heading in ("## Install", "## Set up an avatar", "## How received values map onto the avatar", "## Troubleshooting"):
        assert heading in readme


def _asmdefs() -> dict[str, tuple[Path, dict]]:
    found = {}
    for path in PKG.rglob("*.asmdef"):
        data = json.loads(path.read_text())
        found[data["name"]] = (path, data)
    return found


def test_asmdefs():
    asm = _asmdefs()
    assert set(asm) == {"AvatarBridge.Protocol", "AvatarBridge.Runtime", "AvatarBridge.Editor"}
    protocol, runtime, editor = (asm[n][1] for n in ("AvatarBridge.Protocol", "AvatarBridge.Runtime", "AvatarBridge.Editor"))
    assert asm["AvatarBridge.Protocol"][0].parent == PKG / "Runtime" / "Protocol"
    assert asm["AvatarBridge.Runtime"][0].parent == PKG / "Runtime"
    assert asm["AvatarBridge.Editor"][0].parent == PKG / "Editor"
    assert protocol["noEngineReferences"] is True, "the protocol core must build without UnityEngine"
    assert protocol["references"] == []
    assert runtime["references"] == ["AvatarBridge.Protocol"]
    assert runtime["includePlatforms"] == []
    assert editor["includePlatforms"] == ["Editor"], "the Editor assembly must be restricted to the Editor platform"
    assert set(editor["references"]) == {"AvatarBridge.Runtime", "AvatarBridge.Protocol"}
    for name, (_, data) in asm.items():
        assert data["rootNamespace"] == name.replace(".Runtime", "")
        assert data["allowUnsafeCode"] is False
        for ref in data["references"]:
            assert ref in asm, f"{name} references unknown assembly {ref}"


def test_engine_independent_core():
    """Runtime/Protocol and Runtime/Transport use no UnityEngine (the harness build, which has no
    UnityEngine reference, proves it too), and the protocol core no networking."""
    for folder in ("Runtime/Protocol", "Runtime/Transport"):
        for cs in (PKG / folder).rglob("*.cs"):
            assert not re.search(r"^\s*using\s+Unity(Engine|Editor)", cs.read_text(), re.M), cs
    for cs in (PKG / "Runtime" / "Protocol").rglob("*.cs"):
        assert not re.search(r"^\s*using\s+System\.Net", cs.read_text(), re.M), f"{cs}: networking belongs in Runtime/Transport"


def test_namespaces():
    expected = {"Runtime/Protocol": "AvatarBridge.Protocol", "Runtime": "AvatarBridge", "Editor": "AvatarBridge.Editor",
                "Samples~": "AvatarBridge.Samples"}
    for cs in PKG.rglob("*.cs"):
        rel = cs.relative_to(PKG).as_posix()
        if rel.startswith("Tests~/"):
            continue
        prefix = max((p for p in expected if rel.startswith(p + "/")), key=len)
        namespaces = re.findall(r"^namespace (\S+)", cs.read_text(), re.M)
        assert namespaces == [expected[prefix]], f"{rel}: namespace {namespaces}, expected {expected[prefix]}"


# ---------------------------------------------------------------- .meta files

def _imported(path: Path) -> bool:
    """Whether Unity imports `path`: hidden files and ~ folders are skipped, except the files of
    Samples~, which are copied into Assets/ when a sample is imported (the ~ folder itself is not)."""
    parts = path.relative_to(PKG).parts
    if any(p.startswith(".") for p in parts):
        return False
    for i, part in enumerate(parts):
        if part.endswith("~"):
            return part == "Samples~" and i < len(parts) - 1
    return True


def test_meta_files():
    guids: dict[str, Path] = {}
    missing = []
    for path in sorted(PKG.rglob("*")):
        if path.suffix == ".meta":
            continue
        meta = path.with_name(path.name + ".meta")
        if not _imported(path):
            assert not meta.exists(), f"{meta.relative_to(PKG)}: Unity does not import {path.name}; remove the .meta"
            continue
        if not meta.is_file():
            missing.append(str(path.relative_to(PKG)))
            continue
        text = meta.read_text()
        assert text.startswith("fileFormatVersion: 2\n"), meta
        ids = GUID.findall(text)
        assert len(ids) == 1, f"{meta}: exactly one 32-hex lowercase guid expected"
        assert ids[0] not in guids, f"duplicate GUID {ids[0]} in {meta} and {guids[ids[0]]}"
        assert ids[0] != "0" * 32
        guids[ids[0]] = meta
        assert ("folderAsset: yes" in text) == path.is_dir(), f"{meta}: folderAsset must be set for folders only"
        importer = re.search(r"^(\w+Importer):$", text, re.M)
        assert importer, f"{meta}: no importer section"
        want = {".cs": "MonoImporter", ".asmdef": "AssemblyDefinitionImporter", ".md": "TextScriptImporter"}.get(path.suffix)
        if path.name == "package.json" and path.parent == PKG:
            want = "PackageManifestImporter"
        if want:
            assert importer.group(1) == want, f"{meta}: {importer.group(1)}, expected {want}"
    assert not missing, ("files without .meta (run python engine_plugins/unity/Tests~/write_missing_meta.py): "
                         + ", ".join(missing))
    for meta in PKG.rglob("*.meta"):
        target = meta.with_name(meta.name[:-5])
        assert target.exists(), f"orphan {meta.relative_to(PKG)}"
    assert len(guids) > 30


def test_sample_scene_references_the_demo_script():
    sample = PKG / "Samples~" / "ProceduralFaceDemo"
    script_guid = GUID.search((sample / "ProceduralFaceDemo.cs.meta").read_text()).group(1)
    scene = (sample / "ProceduralFaceDemo.unity").read_text()
    assert scene.startswith("%YAML 1.1\n%TAG !u! tag:unity3d.com,2011:\n")
    assert f"m_Script: {{fileID: 11500000, guid: {script_guid}, type: 3}}" in scene
    ids = re.findall(r"^--- !u!\d+ &(\d+)$", scene, re.M)
    assert len(ids) == len(set(ids))
    for ref in re.findall(r"\{fileID: (\d+)\}", scene):
        assert ref == "0" or ref in ids, f"scene refers to missing object {ref}"


# ---------------------------------------------------------------- Mono: compile everything

@pytest.fixture(scope="session")
def mono_build(tmp_path_factory) -> dict[str, Path]:
    if shutil.which("mcs") is None or shutil.which("mono") is None:
        pytest.skip(MONO_MISSING)
    out = tmp_path_factory.mktemp("unity_build")

    def cs(*folders: str, exclude: str | None = None) -> list[str]:
        files = []
        for folder in folders:
            files += [str(p) for p in sorted((PKG / folder).rglob("*.cs"))
                      if exclude is None or not p.relative_to(PKG).as_posix().startswith(exclude)]
        assert files, folders
        return files

    def mcs(target: Path, sources: list[str], refs: list[Path], kind: str = "library", strict: bool = True,
            defines: tuple[str, ...] = ()) -> Path:
        cmd = ["mcs", "-nologo", f"-target:{kind}", f"-out:{target}", "-r:System.dll", "-r:System.Core.dll"]
        cmd += ["-warnaserror+"] if strict else []
        cmd += [f"-define:{d}" for d in defines]
        cmd += [f"-r:{r}" for r in refs] + sources
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"mcs failed for {target.name}:\n{result.stdout}{result.stderr}"
        return target

    def unity_facing(folder: Path, defines: tuple[str, ...]) -> tuple[Path, ...]:
        folder.mkdir(exist_ok=True)
        engine = mcs(folder / "UnityEngine.dll", [str(STUBS_DIR / "UnityEngine.cs")], [], strict=False, defines=defines)
        editor_stub = mcs(folder / "UnityEditor.dll", [str(STUBS_DIR / "UnityEditor.cs")], [engine], strict=False)
        runtime = mcs(folder / "AvatarBridge.Runtime.dll", cs("Runtime", exclude="Runtime/Protocol/"), [engine, protocol],
                      defines=defines)
        editor = mcs(folder / "AvatarBridge.Editor.dll", cs("Editor"), [engine, editor_stub, protocol, runtime], defines=defines)
        samples = mcs(folder / "AvatarBridge.Samples.dll", cs("Samples~"), [engine, protocol, runtime], defines=defines)
        return runtime, editor, samples

    protocol = mcs(out / "AvatarBridge.Protocol.dll", cs("Runtime/Protocol"), [])
    # Each Unity-facing assembly twice, warnings as errors: as the oldest supported Unity (2021.3, no
    # version defines past it) and as a current one, whose stub marks FindObjectOfType obsolete.
    runtime, editor, samples = unity_facing(out, ())
    unity_facing(out / "current", CURRENT_UNITY_DEFINES)
    # The harness links the engine-free sources directly: no UnityEngine stub on its reference list.
    harness = mcs(out / "harness.exe", cs("Runtime/Protocol", "Runtime/Transport", "Tests~/ProtocolHarness"), [], kind="exe")
    return {"protocol": protocol, "runtime": runtime, "editor": editor, "samples": samples, "harness": harness}


def test_find_object_of_type_only_in_the_legacy_branch():
    """FindObjectOfType (obsolete from Unity 2023.1) is called in one place only, the branch for
    editors older than 2022.3 in SceneObjects; everything else goes through SceneObjects.FindAny."""
    calls = {}
    for path in PKG.rglob("*"):
        if path.suffix in (".cs", ".md") and "UnityStubs" not in path.parts:
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"\bFindObjects?OfType\s*(<\s*\w+\s*>)?\s*\(", line):
                    calls[f"{path.relative_to(PKG).as_posix()}:{n}"] = line
    assert list(calls) == ["Runtime/SceneObjects.cs:22"], calls
    source = (PKG / "Runtime" / "SceneObjects.cs").read_text()
    legacy = re.search(r"#if UNITY_2022_3_OR_NEWER\n(.*?)#else\n(.*?)#endif", source, re.S)
    assert legacy and "FindAnyObjectByType<T>()" in legacy.group(1) and "FindObjectOfType<T>()" in legacy.group(2)


def test_every_csharp_file_compiles(mono_build):
    """The fixture compiled each assembly with warnings as errors; make sure no file was left out."""
    covered = set()
    for folder in ("Runtime", "Editor", "Samples~", "Tests~/ProtocolHarness", "Tests~/UnityStubs"):
        covered |= set((PKG / folder).rglob("*.cs"))
    assert covered == set(PKG.rglob("*.cs"))
    assert all(p.is_file() for p in mono_build.values())


def _harness(build: dict[str, Path], *args: str, timeout: float = 120) -> list[str]:
    result = subprocess.run(["mono", str(build["harness"]), *args], capture_output=True, text=True, timeout=timeout)
    assert "CRASH" not in result.stdout, result.stdout
    assert result.returncode == 0, f"harness {args[0]} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
    return result.stdout.splitlines()


def _values(lines: list[str], key: str) -> list[list[str]]:
    return [line.split()[1:] for line in lines if line.split()[:1] == [key]]


def _floats(fields: list[str]) -> np.ndarray:
    return np.array([float(x) for x in fields])


def test_harness_selftest(mono_build):
    lines = _harness(mono_build, "selftest")
    failed = [line for line in lines if line.startswith("FAIL")]
    assert not failed, "\n".join(failed)
    assert lines[-1] == "selftest ok"
    assert sum(line.startswith("PASS") for line in lines) > 80


# ---------------------------------------------------------------- Mono: golden vectors

def test_vmc_vectors(mono_build):
    files = _vmc_files()
    lines = _harness(mono_build, "vmc", *map(str, files))
    assert [v[1] for v in _values(lines, "packet")] == ["ok"] * len(files)
    assert not _values(lines, "decode"), "decoder reported an error on the golden packets"

    # Apply is present exactly once, and it is the last message of the last packet.
    msgs = [line.split()[1] for line in lines if line.startswith("msg ")]
    assert msgs.count("/VMC/Ext/Blend/Apply") == 1
    assert msgs[-1] == "/VMC/Ext/Blend/Apply"
    last_packet = max(i for i, line in enumerate(lines) if line.startswith("packet "))
    assert any(line.startswith("msg /VMC/Ext/Blend/Apply") for line in lines[last_packet:])
    assert msgs[:3] == ["/VMC/Ext/OK", "/VMC/Ext/T", "/VMC/Ext/Root/Pos"]

    assert lines.count("frame.end") == 1, "exactly one complete frame expected"
    assert _values(lines, "frame.applied") == [["True"]]
    assert _values(lines, "frame.status") == [["1", "3", "0", "1"]]
    assert float(_values(lines, "frame.time")[0][0]) == 12.5
    root = _floats(_values(lines, "root")[0])
    np.testing.assert_allclose(root, [0, 0, 0, 0, 0, 0, 1], atol=1e-7)

    gf = _golden_person()
    bones = {v[0]: _floats(v[1:]) for v in _values(lines, "bone")}
    assert list(bones) == ["Neck", "Head", "LeftEye", "RightEye"] == list(gf.bone_names)
    np.testing.assert_allclose(bones["Head"][3:], HEAD, atol=1e-6)
    np.testing.assert_allclose(bones["LeftEye"][3:], LEFT_EYE, atol=1e-6)
    np.testing.assert_allclose(bones["RightEye"][3:], RIGHT_EYE, atol=1e-6)
    np.testing.assert_allclose(bones["Neck"][3:], [0, 0, 0, 1], atol=1e-7)
    for name, rot, pos in zip(gf.bone_names, gf.bone_rotations, gf.bone_positions):
        np.testing.assert_allclose(bones[name], np.concatenate([pos, rot]).astype(np.float32), atol=1e-7)

    blends = _values(lines, "blend")
    assert _values(lines, "blend.count") == [[str(len(ARKIT_NAMES))]]
    assert [b[0] for b in blends] == list(ARKIT_NAMES), "52 ARKit names in Apple's order"
    values = np.array([float(b[1]) for b in blends])
    np.testing.assert_allclose(values, np.round(np.linspace(0, 1, 52), 4), atol=1e-6)
    np.testing.assert_array_equal(values.astype(np.float32), np.asarray(gf.blend_values, np.float32))


def test_vrchat_vectors(mono_build):
    files = sorted(VECTORS.glob("vrchat_*.bin"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    lines = _harness(mono_build, "osc", *map(str, files))
    msgs = [line.split()[1:] for line in lines if line.startswith("msg ")]
    assert [m[0] for m in msgs] == ["/avatar/parameters/v2/JawOpen", "/avatar/parameters/v2/EyeLeftX",
                                    "/avatar/parameters/MouthSmile", "/tracking/eye/LeftRightPitchYaw",
                                    "/tracking/eye/EyesClosedAmount"]
    assert [m[1] for m in msgs] == [",f", ",f", ",f", ",ffff", ",f"]
    got = [[float(x) for x in m[2:]] for m in msgs]
    assert got == [[0.5], [-0.25], [1.0], [0.0, 10.0, 10.0, 0.0], [0.25]]


def test_websocket_vectors(mono_build):
    names = ("ws_hello.json", "ws_frame.json", "ws_reply.json")
    lines = _harness(mono_build, "ws", *(str(VECTORS / n) for n in names))
    assert _values(lines, "message") == [[names[0], "ok", "Hello"], [names[1], "ok", "Frame"], [names[2], "ok", "Reply"]]
    hello = json.loads((VECTORS / names[0]).read_text())
    message = json.loads((VECTORS / names[1]).read_text())
    reply = json.loads((VECTORS / names[2]).read_text())
    assert message["v"] == hello["v"] == reply["v"] == 3
    assert [p["id"] for p in message["people"]] == [0]
    frame = message["people"][0]

    assert _values(lines, "hello.blendshapes") == [list(ARKIT_NAMES)]
    assert _values(lines, "hello.blendshapes")[0] == hello["channels"]["blendshapes"]
    assert _values(lines, "hello.bones") == [["Neck", "Head", "LeftEye", "RightEye"]]
    assert _values(lines, "hello.commands") == [hello["commands"]]
    assert _values(lines, "hello.server") == [["avatar-bridge"]]
    assert _values(lines, "hello.mirror") == [["True"]]
    assert _values(lines, "hello.v") == [["3"]]
    assert _values(lines, "hello.max_people") == [["0"]], "this hello has no people object"

    assert _values(lines, "frame.seq") == [["42"]] and message["seq"] == 42
    assert _values(lines, "frame.applied") == [["True"]] and _values(lines, "frame.person") == [["0"]]
    assert (_values(lines, "frame.slot"), _values(lines, "frame.name"), _values(lines, "frame.similarity")) == (
        [["1"]], [["null"]], [["null"]]) and (frame["slot"], frame["name"], frame["similarity"]) == (1, None, None)
    assert float(_values(lines, "frame.t")[0][0]) == message["t"]
    assert float(_values(lines, "frame.source_t")[0][0]) == message["source_t"]
    assert _values(lines, "face.found") == [["True"]]
    np.testing.assert_allclose(_floats(_values(lines, "face.head_rot")[0]), HEAD, atol=1e-5)
    for key in ("head_rot", "head_pos", "eye_left", "eye_right", "eye_angles"):
        np.testing.assert_allclose(_floats(_values(lines, f"face.{key}")[0]), frame["face"][key], rtol=1e-6, atol=1e-7)
    blends = _values(lines, "blend")
    assert [b[0] for b in blends] == list(ARKIT_NAMES)
    values = np.array([float(b[1]) for b in blends])
    np.testing.assert_allclose(values, np.linspace(0, 1, 52), atol=6e-5)
    np.testing.assert_array_equal(values.astype(np.float32), np.asarray(frame["blendshapes"], np.float32))
    bones = {v[0]: _floats(v[1:]) for v in _values(lines, "bone")}
    for name, pos, rot in zip(hello["channels"]["bones"], frame["bones"]["pos"], frame["bones"]["rot"]):
        np.testing.assert_allclose(bones[name], np.asarray(pos + rot, np.float32), atol=1e-7)
    np.testing.assert_allclose(_floats(_values(lines, "root")[0]), frame["root"]["pos"] + frame["root"]["rot"], atol=1e-7)
    assert _values(lines, "event") == [["expression", "happy", "start", "0.9"]] and frame["events"] == [
        {"type": "expression", "name": "happy", "state": "start", "value": 0.9}]
    assert {v[0]: float(v[1]) for v in _values(lines, "timing")} == message["timings_ms"]
    assert {v[0]: v[1] for v in _values(lines, "parameter")} == {k: str(v) for k, v in frame["parameters"].items()}

    assert _values(lines, "reply.id") == [[reply["id"]]]
    assert _values(lines, "reply.command") == [["calibrate"]]
    assert _values(lines, "reply.ok") == [["True"]]
    assert _values(lines, "reply.message") == [reply["message"].split()]


def _person_lines(lines: list[str]) -> dict:
    """What the harness printed for the followed person of the last frame."""
    return {
        "applied": _values(lines, "frame.applied")[-1], "id": _values(lines, "frame.person")[-1],
        "slot": _values(lines, "frame.slot")[-1], "name": _values(lines, "frame.name")[-1],
        "similarity": _values(lines, "frame.similarity")[-1],
        "blends": np.array([float(b[1]) for b in _values(lines, "blend")]),
        "params": {v[0]: v[1] for v in _values(lines, "parameter")}, "events": _values(lines, "event"),
        "root": _values(lines, "root"), "bones": {v[0]: _floats(v[1:]) for v in _values(lines, "bone")},
        "head_rot": _values(lines, "face.head_rot"),
    }


@pytest.mark.parametrize("follow, expected", [
    ([], 0), (["--slot", "1"], 0), (["--slot", "2"], 1), (["--name", "B"], 1), (["--name", "A"], 0),
    (["--slot", "2", "--name", "A"], 0),  # a name wins over the slot, wherever that person stands
    (["--name", "C"], None), (["--slot", "3"], None), (["--slot", "1", "--name", "b"], None),  # never someone else
], ids=["default", "slot1", "slot2", "nameB", "nameA", "name-over-slot", "absent-name", "absent-slot", "name-case"])
def test_follow_by_slot_or_name(mono_build, follow, expected):
    """The two-person vector (the sidecar's own encoder: slot 1 is id 7 "A", slot 2 is id 3 "B"): the
    decoder keeps only the person it follows, with that person's id, slot, name, similarity, shapes,
    head, root, events and parameters; a slot or name nobody has applies nothing."""
    hello, frame = VECTORS / "ws_hello_people.json", VECTORS / "ws_frame_people.json"
    message = json.loads(frame.read_text())
    lines = _harness(mono_build, "ws", *follow, str(hello), str(frame))
    assert _values(lines, "message") == [[hello.name, "ok", "Hello"], [frame.name, "ok", "Frame"]]
    assert _values(lines, "hello.max_people") == [["2"]]
    assert _values(lines, "frame.seq") == [["43"]]
    got = _person_lines(lines)
    if expected is None:
        assert got["applied"] == ["False"] and got["name"] == ["null"] and got["slot"] == ["0"]
        assert got["blends"].size == 0 and not got["params"] and not got["events"] and not got["root"] and not got["bones"]
        return
    person = message["people"][expected]
    assert got["applied"] == ["True"]
    assert (got["id"], got["slot"], got["name"]) == ([str(person["id"])], [str(person["slot"])], [person["name"]])
    assert float(got["similarity"][0]) == pytest.approx(person["similarity"], abs=1e-7)
    np.testing.assert_array_equal(got["blends"].astype(np.float32), np.asarray(person["blendshapes"], np.float32))
    np.testing.assert_allclose(_floats(got["head_rot"][0]), person["face"]["head_rot"], atol=1e-7)
    np.testing.assert_allclose(_floats(got["root"][0]), person["root"]["pos"] + person["root"]["rot"], atol=1e-7)
    names = json.loads(hello.read_text())["channels"]["bones"]
    for name, pos, rot in zip(names, person["bones"]["pos"], person["bones"]["rot"], strict=True):
        np.testing.assert_allclose(got["bones"][name], np.asarray(pos + rot, np.float32), atol=1e-7)
    assert got["params"] == {k: str(v) for k, v in person["parameters"].items()}
    assert got["events"] == [[e["type"], e["name"], e.get("state", "-"), str(e["value"])] for e in person["events"]]
    other = message["people"][1 - expected]
    assert person["blendshapes"] != other["blendshapes"] and person["face"]["head_rot"] != other["face"]["head_rot"]


def test_schema_2_still_reads(mono_build):
    """A schema 2 sidecar's hello and frame (no slot, name, similarity or box): the first person is
    slot 1 with no name, and a name to follow finds nobody."""
    hello, frame = VECTORS / "ws_hello_v2.json", VECTORS / "ws_frame_v2.json"
    message = json.loads(frame.read_text())
    assert message["v"] == 2 and "slot" not in message["people"][0]
    lines = _harness(mono_build, "ws", str(hello), str(frame))
    assert _values(lines, "message") == [[hello.name, "ok", "Hello"], [frame.name, "ok", "Frame"]]
    assert _values(lines, "hello.v") == [["2"]]
    got = _person_lines(lines)
    assert (got["applied"], got["id"], got["slot"], got["name"], got["similarity"]) == (
        ["True"], ["0"], ["1"], ["null"], ["null"])
    np.testing.assert_array_equal(got["blends"].astype(np.float32), np.asarray(message["people"][0]["blendshapes"], np.float32))
    lines = _harness(mono_build, "ws", "--name", "A", str(hello), str(frame))
    assert _person_lines(lines)["applied"] == ["False"]


def test_preview_messages_are_skipped(mono_build, tmp_path):
    """After a subscribe the sidecar also sends previews; the decoder recognises them as such instead of
    reporting an unknown message type."""
    from bridge.protocols import jsonframe

    preview = jsonframe.preview_message(3, base64.b64encode(b"\xff\xd8 not a real jpeg").decode(), 64, 48, [0.5] * 956,
                                        pose=[0.25] * 66, pose_visibility=[1.0] * 33,
                                        hands=[{"side": "left", "landmarks": [0.1] * 42}])
    (tmp_path / "preview.json").write_text(preview)
    lines = _harness(mono_build, "ws", str(VECTORS / "ws_hello.json"), str(tmp_path / "preview.json"))
    assert _values(lines, "message") == [["ws_hello.json", "ok", "Hello"], ["preview.json", "ok", "Preview"]]


def _as_float32(value):
    """Numbers as float32, the type the C# builders take, so 1e-5 compares equal after the round trip."""
    if isinstance(value, dict):
        return {k: _as_float32(v) for k, v in value.items()}
    return np.float32(value) if isinstance(value, float) else value


def test_control_commands_match_the_sidecar_parser(mono_build):
    """Every command the package builds is accepted by bridge.protocols.jsonframe.parse_control with
    exactly the intended arguments and id, from the bytes a transport would send."""
    from bridge.protocols import jsonframe

    lines = _harness(mono_build, "commands")
    assert _values(lines, "command.names") == [list(jsonframe.COMMANDS)], "ControlCommands.Names != the sidecar's COMMANDS"
    sent = _values(lines, "command")
    assert {kind for kind, _ in SAMPLE_COMMANDS} == set(jsonframe.COMMANDS), "a sidecar command has no sample"
    assert len(sent) == len(SAMPLE_COMMANDS) + 1
    for (kind, args), (type_name, id_text, encoded) in zip(SAMPLE_COMMANDS, sent):
        raw = base64.b64decode(encoded)
        control = jsonframe.parse_control(raw)
        assert (control.command, control.id) == (kind, int(id_text)) and type_name == kind, raw
        assert _as_float32(control.args) == _as_float32(args), raw
    bogus_type, bogus_id, bogus = sent[-1]
    with pytest.raises(jsonframe.ControlError, match="unknown type 'bogus'") as info:
        jsonframe.parse_control(base64.b64decode(bogus))
    assert bogus_type == "bogus" and info.value.id == int(bogus_id)


def test_garbage_is_rejected_cleanly(mono_build, tmp_path):
    """Truncated, corrupted and random input gives an error result from every decoder, never a crash."""
    vmc0 = _vmc_files()[0].read_bytes()
    frame_json = (VECTORS / "ws_frame.json").read_bytes()
    rng = random.Random(5)
    cases = {
        "empty": b"",
        "vmc_truncated_mid_message": vmc0[:100],
        "vmc_truncated_unaligned": vmc0[:-3],
        "vmc_element_size_too_big": vmc0[:16] + struct.pack(">i", 4096) + vmc0[20:],
        "vmc_element_size_negative": vmc0[:16] + struct.pack(">i", -8) + vmc0[20:],
        "vmc_bad_bundle_tag": b"#bundlX\x00" + vmc0[8:],
        "vmc_bad_type_tag": vmc0.replace(b",iiii", b",iiqi", 1),
        "vmc_unterminated_address": b"/VMC" * 8,
        "random_bytes": bytes([0x55]) + bytes(rng.randrange(256) for _ in range(255)),
        "json_truncated": frame_json[: len(frame_json) // 2],
        "json_not_object": b"[1, 2, 3, 4]",
        "json_trailing_garbage": frame_json.strip() + b"}}}}",
        "json_bad_number": frame_json.replace(b'"seq":42', b'"seq":04', 1),
        "json_nested_deep": b"[" * 5000 + b"]" * 5000,
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    lines = _harness(mono_build, "garbage", *(str(tmp_path / n) for n in cases))
    results = {v[0]: dict(kv.split("=") for kv in v[1:]) for v in _values(lines, "garbage")}
    assert set(results) == set(cases)
    for name, r in results.items():
        assert r["osc"] != "ok", f"{name}: OSC decoder accepted garbage"
        assert r["ws"] != "ok", f"{name}: JSON decoder accepted garbage"
    assert results["vmc_truncated_mid_message"]["osc"] == "Truncated"
    assert results["vmc_truncated_unaligned"]["osc"] == "NotFourByteAligned"
    assert results["vmc_element_size_too_big"]["osc"] == "Truncated"
    assert results["vmc_element_size_negative"]["osc"] == "BadBundleElement"
    assert results["vmc_bad_bundle_tag"]["osc"] == "BadBundleHeader"
    assert results["vmc_bad_type_tag"]["osc"] == "UnsupportedTypeTag"
    assert results["vmc_unterminated_address"]["osc"] == "UnterminatedString"
    assert results["json_truncated"]["ws"] == "InvalidJson"
    assert results["json_not_object"]["ws"] == "NotAnObject"
    assert results["json_trailing_garbage"]["ws"] == "InvalidJson"
    assert results["json_bad_number"]["ws"] == "BadNumber"
    assert results["json_nested_deep"]["ws"] == "NotAnObject"
    assert results["empty"] == {"osc": "Empty", "ws": "InvalidJson"}


# ---------------------------------------------------------------- Mono: against the sidecar's transports

def _free_port(kind: int) -> int:
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_udp_end_to_end(mono_build):
    """The receiver's UDP thread gets the golden frame from the sidecar's own UdpSender, plus a bad packet."""
    from bridge.transports.udp import UdpSender

    port = _free_port(socket.SOCK_DGRAM)
    packets = [p.read_bytes() for p in _vmc_files()]
    proc = subprocess.Popen(["mono", str(mono_build["harness"]), "udp", str(port)], stdout=subprocess.PIPE, text=True)
    sender = UdpSender("127.0.0.1", port, "vmc")
    try:
        assert proc.stdout.readline().strip() == "state Listening"
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            sender.send(packets + [b"\x01\x02\x03"])
            time.sleep(0.05)
        out = proc.stdout.read()
        proc.wait(timeout=10)
    finally:
        sender.close()
        if proc.poll() is None:
            proc.kill()
    lines = out.splitlines()
    assert proc.returncode == 0, out
    assert "state Receiving" in lines
    assert [b[0] for b in _values(lines, "blend")] == list(ARKIT_NAMES)
    np.testing.assert_allclose(_floats(_values(lines, "bone")[1][1:])[3:], HEAD, atol=1e-6)
    assert _values(lines, "frame.applied") == [["True"]]
    assert ["NotFourByteAligned"] in _values(lines, "udp.error"), "the malformed datagram must be counted"


def test_websocket_end_to_end(mono_build):
    """The receiver connects to the sidecar's own WebSocket server, decodes hello and frames,
    gets the events, and its control messages are accepted (ping, set_shape with its arguments,
    subscribe answered by the server itself) or rejected (bogus) by the sidecar's parser, with
    replies routed back."""
    pytest.importorskip("websockets")
    from bridge.protocols import jsonframe
    from bridge.transports.websocket import WebSocketServer

    gf = _generator().two_people_frame()
    p = gf.people[0]
    commands = []

    def submit(control, fut: Future) -> None:
        commands.append((control.command, control.id, control.args))
        fut.set_result((True, "pong"))

    server = WebSocketServer("127.0.0.1", 0, jsonframe.hello(p.blend_names, p.bone_names, mirror=True), submit)
    server.start()
    stop = threading.Event()

    def publish() -> None:
        while not stop.is_set():
            server.publish_frame(jsonframe.frame_message(gf))
            time.sleep(0.03)

    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    try:
        lines = _harness(mono_build, "wsclient", f"ws://127.0.0.1:{server.port}", timeout=60)
    finally:
        stop.set()
        publisher.join(timeout=5)
        server.stop()
    assert _values(lines, "state") == [["Receiving"]]
    assert _values(lines, "hello.blendshapes") == [list(ARKIT_NAMES)]
    assert _values(lines, "frame.seq") == [["43"]]
    assert (_values(lines, "frame.person"), _values(lines, "frame.slot"), _values(lines, "frame.name")) == ([["7"]], [["1"]], [["A"]])
    assert [b[0] for b in _values(lines, "blend")] == list(ARKIT_NAMES)
    np.testing.assert_allclose(_floats(_values(lines, "face.head_rot")[0]), HEAD, atol=1e-5)
    assert ["expression:happy:start=0.9"] in _values(lines, "queued.event")
    assert _values(lines, "sent") == [["ping", "1"], ["bogus", "2"], ["set_shape", "3"], ["subscribe", "4"]]
    replies = _values(lines, "reply")
    assert replies[0] == ["1", "ping", "True", "pong"]
    assert replies[1][:3] == ["2", "null", "False"] and "unknown type" in " ".join(replies[1])
    assert replies[2] == ["3", "set_shape", "True", "pong"]
    assert replies[3] == ["4", "subscribe", "True", "preview", "off"]
    assert commands == [("ping", 1, {}), ("set_shape", 3, {"shape": "jawOpen", "key": "gain", "value": 1.5})]
    # Then, on the same connection, it follows slot 2 (person 3, "B"), then a name nobody has: frames
    # are counted, none published, no error.
    assert _values(lines, "switched") == [["True", "id", "3", "slot", "2", "name", "B", "same_hello", "True"]]
    assert _values(lines, "absent.counted") == [["True", "published", "False", "decoded", "True"]]
    assert _values(lines, "absent.errors") == [["0"]]
