"""Labelled data sets on disk -> arrays and file lists, for `avatar-bridge eval` and the model-card scripts.

Three layouts: faces in an `.npz` (the FER2013 fixture format), skeleton files in a folder with a
TOML naming their actions (and their frame rate): MSR Action3D, KARD or Florence 3D files (`skeleton_files`,
`load_skeleton`), and gesture photos in one sub-folder per class. SBU Kinect Interaction's
two-person files load with `load_sbu`. Every problem with the data is a one-line BridgeError saying what to fix.
"""
from __future__ import annotations

import re
import tomllib
import zipfile
from pathlib import Path

import numpy as np

from .errors import BridgeError

# what people call HaGRID's gestures (sub-folder names accepted by `gesture_photos`)
GESTURE_ALIASES = {"thumbs_up": "like", "thumb_up": "like", "thumbs_down": "dislike", "thumb_down": "dislike",
                   "open_palm": "palm", "victory": "peace", "v": "peace", "pointing": "one", "point": "one",
                   "horns": "rock", "thumb_index": "l_sign", "l": "l_sign", "loser": "l_sign",
                   "no_gesture": "none"}
MSR_NAME = re.compile(r"a(\d+)_s(\d+)_e(\d+)_skeleton3D\.txt$")
MSR_FPS = 15.0  # MSR Action3D's capture rate, assumed when the folder's TOML gives no `fps`
IMAGE_TYPES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
NPZ_LAYOUT = ("`images` (N, 48, 48) uint8 grayscale faces (any H, W; RGB or 0..1 floats are converted) "
              "and `labels` (N,) class names or indices, saved with numpy.savez")


def load_faces_npz(path: Path, classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """-> (N, H, W) uint8 grayscale faces and labels as indices into `classes`."""
    if not path.is_file():
        raise BridgeError(f"{path} not found: give an .npz file holding {NPZ_LAYOUT}")
    if not zipfile.is_zipfile(path):
        raise BridgeError(f"{path} is not an .npz archive: expected {NPZ_LAYOUT}")
    try:
        d = np.load(path, allow_pickle=False)
        missing = [k for k in ("images", "labels") if k not in d.files]
        if missing:
            raise BridgeError(f"{path} lacks {' and '.join(f'`{k}`' for k in missing)}: expected {NPZ_LAYOUT}")
        images, labels = d["images"], d["labels"]
        names = [str(c).lower() for c in d["classes"]] if "classes" in d.files else None
    except (OSError, ValueError, zipfile.BadZipFile):
        raise BridgeError(f"{path} is a damaged or non-numpy .npz archive: expected {NPZ_LAYOUT}") from None
    if images.ndim == 4 and images.shape[-1] in (1, 3):
        images = images.mean(-1) if images.shape[-1] == 3 else images[..., 0]
    if images.ndim != 3 or len(images) == 0 or len(images) != len(labels):
        raise BridgeError(f"{path}: `images` must be (N, H, W) grayscale faces with one label each "
                          f"(got images {images.shape}, labels {labels.shape})")
    if images.dtype != np.uint8:
        images = np.clip(images * 255 if images.max() <= 1.0 else images, 0, 255).astype(np.uint8)
    if labels.dtype.kind in "US":
        labels = np.char.lower(labels.astype(str))
        unknown = sorted(set(labels) - set(classes))
        if unknown:
            raise BridgeError(f"{path}: unknown expression labels {unknown[:5]}; use {', '.join(classes)}")
        return images, np.array([classes.index(v) for v in labels])
    labels = labels.astype(np.int64)
    names = names or list(classes)
    if labels.min() < 0 or labels.max() >= len(names):
        raise BridgeError(f"{path}: labels run from {labels.min()} to {labels.max()} but there are {len(names)} classes")
    unknown = sorted(set(names) - set(classes))
    if unknown:
        raise BridgeError(f"{path}: `classes` holds {unknown[:5]}, not expression classes ({', '.join(classes)})")
    return images, np.array([classes.index(n) for n in names])[labels]


def read_action_toml(folder: Path, toml: Path | None = None) -> tuple[dict[int, str], float | None]:
    """The folder's one TOML (or `toml`, kept elsewhere): `[classes]` action number -> class name
    (`1 = "wave"` or `a01 = ...`) and an optional top-level `fps` (the skeleton files' frame rate; None when absent)."""
    if not folder.is_dir():
        raise BridgeError(f"{folder} is not a folder: give the folder holding the skeleton files")
    if toml is not None and not toml.is_file():
        raise BridgeError(f"{toml} not found: give a .toml file mapping action numbers to classes ([classes] 1 = \"wave\")")
    tomls = [toml] if toml is not None else sorted(folder.glob("*.toml"))
    if len(tomls) != 1:
        raise BridgeError(f"{folder} needs exactly one .toml file mapping action numbers to classes "
                          f"(found {len(tomls)}); e.g. classes.toml with [classes] 1 = \"wave\"")
    try:
        doc = tomllib.loads(tomls[0].read_text())
        cmap = {int(str(k).lstrip("aA")): str(v) for k, v in doc["classes"].items()}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BridgeError(f"{tomls[0]} is not valid TOML ({e})") from None
    except (KeyError, AttributeError):
        raise BridgeError(f"{tomls[0]} needs a [classes] table, e.g. [classes] 1 = \"wave\"") from None
    except ValueError:
        raise BridgeError(f"{tomls[0]}: [classes] keys must be action numbers as in the file names (1 or a01)") from None
    fps = doc.get("fps")
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps < float("inf")):
        raise BridgeError(f"{tomls[0]}: fps = {fps!r} must be the files' frame rate in Hz, a finite number above 0 "
                          "(a top-level key before [classes], e.g. fps = 30)")
    return cmap, None if fps is None else float(fps)


def skeleton_files(folder: Path, cmap: dict[int, str], subjects: set[int] | None = None) -> list[tuple[Path, str]]:
    """(file, class) of every skeleton file in the folder (read_action_toml checked it) whose action
    the TOML names, optionally only those subjects: MSR `aAA_sSS_eEE_skeleton3D.txt`, KARD
    `aAA_sSS_eEE_realworld.txt` or Florence 3D `aCC_sA_idV.txt`."""
    files = []
    for p in sorted(folder.iterdir()):
        m = MSR_NAME.match(p.name) or KARD_NAME.match(p.name) or FLORENCE_NAME.match(p.name)
        if m and int(m[1]) in cmap and (subjects is None or int(m[2]) in subjects):
            files.append((p, cmap[int(m[1])]))
    if not files:
        raise BridgeError(f"no skeleton files in {folder} match the TOML's actions"
                          + (f" and subjects {sorted(subjects)}" if subjects else ""))
    return files


msr_files = skeleton_files  # the name older callers use


def load_skeleton(path: Path) -> np.ndarray:
    """Any file skeleton_files lists -> (T, 20, 3) metres in Kinect camera space (action.JOINTS).
    Raises ValueError on a malformed file."""
    from .classify.action import load_msr_skeleton
    if KARD_NAME.match(path.name):
        return load_kard(path)
    if FLORENCE_NAME.match(path.name):
        return load_florence(path)
    return load_msr_skeleton(path)


def gesture_photos(folder: Path, gestures: tuple[str, ...]) -> list[tuple[Path, str]]:
    """(photo, class) for every photo in the class sub-folders (gesture names, their aliases, or none)."""
    if not folder.is_dir():
        raise BridgeError(f"{folder} is not a folder: give a folder with one sub-folder of photos per gesture")
    photos = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        cls = GESTURE_ALIASES.get(sub.name.lower(), sub.name.lower())
        if cls not in gestures + ("none",):
            raise BridgeError(f"sub-folder {sub.name!r} is not a gesture: name sub-folders after "
                              f"{', '.join(gestures)} (or none)")
        photos += [(f, cls) for f in sorted(sub.iterdir()) if f.suffix.lower() in IMAGE_TYPES]
    if not photos:
        raise BridgeError(f"no photos in the sub-folders of {folder} ({', '.join(IMAGE_TYPES)})")
    return photos


# ------------------------------------------------------------------- 15-joint Kinect sets -> JOINTS
# Each set's 15 joints as (x, y, z) columns of the file, mapped onto action.JOINTS (20): a set without
# wrists or ankles gives its hand / foot joint for both. The orders are the sets' own (KARD, Florence)
# or inferred from plotting code (SBU), checked on the data in tests/test_datasets.py (head highest,
# feet lowest, the subject's right on the Kinect +x side after conversion).
KARD_JOINTS = ("head", "neck", "right_shoulder", "right_elbow", "right_hand", "left_shoulder", "left_elbow",
               "left_hand", "torso", "right_hip", "right_knee", "right_foot", "left_hip", "left_knee", "left_foot")
FLORENCE_JOINTS = ("head", "neck", "spine", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder",
                   "right_elbow", "right_wrist", "left_hip", "left_knee", "left_ankle", "right_hip", "right_knee",
                   "right_ankle")
SBU_JOINTS = ("head", "neck", "torso", "left_shoulder", "left_elbow", "left_hand", "right_shoulder", "right_elbow",
              "right_hand", "left_hip", "left_knee", "left_foot", "right_hip", "right_knee", "right_foot")
_SAME = {"hand": ("wrist", "hand"), "wrist": ("wrist", "hand"), "foot": ("ankle", "foot"), "ankle": ("ankle", "foot")}
KARD_NAME = re.compile(r"a(\d+)_s(\d+)_e(\d+)_realworld\.txt$")
FLORENCE_NAME = re.compile(r"a(\d+)_s(\d+)_id(\d+)\.txt$")
SBU_FPS = 15.0  # SBU Kinect Interaction's capture rate (its paper)


def to_joints20(x15: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """(T, 15, 3) in a set's joint order -> (T, 20, 3) action.JOINTS (neck, spine, hip_center derived)."""
    from .classify.action import J, add_derived
    out = np.zeros((len(x15), 20, 3), np.float32)
    for i, n in enumerate(names):
        side, _, part = n.partition("_")
        if part in _SAME:
            for p in _SAME[part]:
                out[:, J[f"{side}_{p}"]] = x15[:, i]
        elif n in J:
            out[:, J[n]] = x15[:, i]
    return add_derived(out)


def _load_15(path: Path, names: tuple[str, ...], flip_x: bool) -> np.ndarray:
    try:
        a = np.loadtxt(path, dtype=np.float32)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a text file of `x y z` lines ({e})") from None
    if a.ndim != 2 or a.shape[1] != 3 or len(a) % 15 or len(a) == 0:
        raise ValueError(f"{path}: expected lines of `x y z` (millimetres), 15 per frame")
    a = a.reshape(-1, 15, 3) / 1000.0
    if flip_x:
        a[..., 0] *= -1
    return to_joints20(a, names)


def load_kard(path: Path) -> np.ndarray:
    """A KARD `aAA_sSS_eEE_realworld.txt` -> (T, 20, 3) metres in Kinect camera space. KARD's x runs
    the other way (OpenNI: the subject's right shoulder has the smaller x), so x is negated."""
    return _load_15(path, KARD_JOINTS, flip_x=True)


def load_florence(path: Path) -> np.ndarray:
    """A Florence 3D `aCC_sA_idV.txt` -> (T, 20, 3) metres in Kinect camera space (its x already is)."""
    return _load_15(path, FLORENCE_JOINTS, flip_x=False)


def load_sbu(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """An SBU Kinect Interaction `skeleton_pos.txt` -> the two people (T, 20, 3) each, metres in
    Kinect camera space. The file holds the set's normalised projective coordinates; they are undone
    with the set's own formulas (x_px = 1280 - 2560 x, y_px = 960 - 1920 y, z_mm = 1280 z, on a
    2560 x 1920 image) and back-projected with the Kinect v1 focal length (525 px at 640 wide)."""
    try:
        a = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a CSV of frame, 2 x 15 x (x, y, z) ({e})") from None
    if a.ndim != 2 or a.shape[1] != 91 or len(a) == 0:
        raise ValueError(f"{path}: expected lines of a frame number then 90 values (2 people x 15 joints x 3)")
    p = a[:, 1:].reshape(-1, 2, 15, 3)
    z = p[..., 2] * 1.28
    f = 525.0 * 4
    xyz = np.stack([(1280 - 2560 * p[..., 0]) * z / f, (960 - 1920 * p[..., 1]) * z / f, z], -1)
    return to_joints20(xyz[:, 0], SBU_JOINTS), to_joints20(xyz[:, 1], SBU_JOINTS)
