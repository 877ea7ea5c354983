"""The user's enrolled faces: `people.json` next to the calibration profile, on the user's machine only.

{"version": 1, "model": <card name>, "people": {name: {"enrolled": ISO time, "embeddings": [[128 floats], ...]}}}

Only descriptors are kept (no pictures). Reading and writing are the only I/O; `add`, `rename` and
`delete` are pure (a new dict each time).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..calibration import user_config_dir
from ..errors import ConfigError
from .embedder import CARD, DIM
from .recognise import UNKNOWN

STORE_VERSION = 1
MODEL = CARD.removesuffix(".card.json")
MAX_EMBEDDINGS = 60  # per name: enough views, a small file


@dataclass(frozen=True, slots=True)
class Enrolled:
    embeddings: np.ndarray  # (M, 128) float32
    enrolled: str  # when first enrolled (ISO 8601, UTC)


def default_store_path() -> Path:
    return user_config_dir() / "people.json"


def check_name(name: str) -> str:
    if not name or not name.isprintable() or name.strip() != name or len(name) > 64:
        raise ConfigError(f"name {name!r} is not usable: give 1-64 printable characters without leading or "
                          "trailing spaces")
    if name.lower() == UNKNOWN:
        raise ConfigError(f"{name!r} is what unrecognised people are called: choose another name")
    return name


def read_store(path: Path) -> dict[str, Enrolled]:
    """name -> Enrolled; {} when the file does not exist yet."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != STORE_VERSION or data.get("model") != MODEL:
            raise ValueError(f"version {data.get('version')}, model {data.get('model')}")
        people = {}
        for name, p in data["people"].items():
            e = np.asarray(p["embeddings"], np.float32)
            if e.ndim != 2 or e.shape[1] != DIM or not len(e):
                raise ValueError(f"{name}: embeddings of shape {e.shape}")
            people[name] = Enrolled(e, str(p.get("enrolled", "")))
        return people
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfigError(f"people file {path} is unreadable ({e}): delete it and enrol again "
                          "(`avatar-bridge enroll NAME`)") from None


def write_store(path: Path, people: dict[str, Enrolled]) -> None:
    """Atomically (a temporary file renamed over the old one), readable by the user only."""
    data = {"version": STORE_VERSION, "model": MODEL,
            "people": {n: {"enrolled": p.enrolled, "embeddings": np.round(p.embeddings, 6).tolist()}
                       for n, p in sorted(people.items())}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def add(people: dict[str, Enrolled], name: str, embeddings: np.ndarray) -> dict[str, Enrolled]:
    """A name's new descriptors join its old ones (the newest MAX_EMBEDDINGS kept)."""
    check_name(name)
    old = people.get(name)
    e = np.asarray(embeddings, np.float32).reshape(-1, DIM)
    if old is not None:
        e = np.concatenate([old.embeddings, e])
    when = old.enrolled if old else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {**people, name: Enrolled(e[-MAX_EMBEDDINGS:], when)}


def rename(people: dict[str, Enrolled], old: str, new: str) -> dict[str, Enrolled]:
    _known(people, old)
    check_name(new)
    if new in people and new != old:
        raise ConfigError(f"{new!r} is already enrolled: delete it first or choose another name")
    return {(new if n == old else n): p for n, p in people.items()}


def delete(people: dict[str, Enrolled], name: str) -> dict[str, Enrolled]:
    _known(people, name)
    return {n: p for n, p in people.items() if n != name}


def templates_of(people: dict[str, Enrolled]) -> dict[str, np.ndarray]:
    """name -> (M, D) descriptors, what recognise.Templates.from_people takes."""
    return {n: p.embeddings for n, p in people.items()}


def _known(people: dict[str, Enrolled], name: str) -> None:
    if name not in people:
        have = ", ".join(sorted(people)) or "nobody yet"
        raise ConfigError(f"{name!r} is not enrolled (enrolled: {have}): see `avatar-bridge people list`")
