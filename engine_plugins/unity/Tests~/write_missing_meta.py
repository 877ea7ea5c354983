"""Writes the Unity .meta files this package is missing, for contributors without the Unity editor.

Unity ignores assets without a .meta in an immutable (git URL) package, so every file and folder
needs one. GUIDs are the MD5 of "com.avatarbridge.receiver/<path>", so they are stable and
unique; files Unity has already given a GUID keep it (existing .meta files are never touched).
Folders ending in "~" are not imported and need no .meta; their contents need none either,
except Samples~, whose files are copied into Assets/ when a sample is imported.

    python engine_plugins/unity/Tests~/write_missing_meta.py
"""
from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
NAME = "com.avatarbridge.receiver"

TAIL = "  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n"
IMPORTERS = {
    ".cs": "MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n"
           "  executionOrder: 0\n  icon: {instanceID: 0}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n",
    ".asmdef": "AssemblyDefinitionImporter:\n" + TAIL,
    ".md": "TextScriptImporter:\n" + TAIL,
    ".json": "TextScriptImporter:\n" + TAIL,
    ".txt": "TextScriptImporter:\n" + TAIL,
}


def guid_for(rel: str) -> str:
    return hashlib.md5(f"{NAME}/{rel}".encode()).hexdigest()


def needs_meta(path: Path) -> bool:
    """Whether Unity imports `path` (relative rules as described in the module docstring)."""
    parts = path.relative_to(PACKAGE).parts
    if any(p.startswith(".") for p in parts) or path.suffix == ".meta":
        return False
    for i, part in enumerate(parts):
        if part.endswith("~"):
            return part == "Samples~" and i < len(parts) - 1
    return True


def meta_text(path: Path) -> str:
    rel = path.relative_to(PACKAGE).as_posix()
    head = f"fileFormatVersion: 2\nguid: {guid_for(rel)}\n"
    if path.is_dir():
        return head + "folderAsset: yes\nDefaultImporter:\n" + TAIL
    if rel == "package.json":
        return head + "PackageManifestImporter:\n" + TAIL
    return head + IMPORTERS.get(path.suffix, "DefaultImporter:\n" + TAIL)


def main() -> None:
    written = 0
    for path in sorted(PACKAGE.rglob("*")):
        meta = path.with_name(path.name + ".meta")
        if needs_meta(path) and not meta.exists():
            meta.write_text(meta_text(path))
            written += 1
            print(f"wrote {meta.relative_to(PACKAGE)}")
    print(f"{written} .meta file(s) written")


if __name__ == "__main__":
    main()
