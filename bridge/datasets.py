"""Labelled data sets on disk -> arrays and file lists, for `avatar-bridge eval` and the model-card scripts.

Three layouts: faces in an `.npz` (the FER2013 fixture format), MSR Action3D skeleton files in a
folder with a TOML naming their actions (and their frame rate), and gesture photos in one
sub-folder per class. Every problem with the data is a one-line BridgeError saying what to fix.
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
                   "horns": "rock", "no_gesture": "none"}
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


def read_action_toml(folder: Path) -> tuple[dict[int, str], float | None]:
    """The folder's one TOML: `[classes]` action number -> class name (`1 = "wave"` or `a01 = ...`)
    and an optional top-level `fps` (the skeleton files' frame rate; None when absent)."""
    if not folder.is_dir():
        raise BridgeError(f"{folder} is not a folder: give the folder holding the *_skeleton3D.txt files")
    tomls = sorted(folder.glob("*.toml"))
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


def msr_files(folder: Path, cmap: dict[int, str], subjects: set[int] | None = None) -> list[tuple[Path, str]]:
    """(file, class) of every `aAA_sSS_eEE_skeleton3D.txt` in the folder (read_action_toml checked it)
    whose action the TOML names, optionally only those subjects."""
    files = []
    for p in sorted(folder.iterdir()):
        m = MSR_NAME.match(p.name)
        if m and int(m[1]) in cmap and (subjects is None or int(m[2]) in subjects):
            files.append((p, cmap[int(m[1])]))
    if not files:
        raise BridgeError(f"no skeleton files in {folder} match the TOML's actions"
                          + (f" and subjects {sorted(subjects)}" if subjects else ""))
    return files


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
