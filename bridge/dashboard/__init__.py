"""The dashboard page and what it loads, served over plain GETs on the WebSocket port."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def pages(avatar: Path | None = None) -> dict[str, tuple[str, bytes]]:
    """HTTP path -> (content type, body) for every file the dashboard page needs; `/avatar.vrm` is
    `avatar` (the user's --avatar) or the packaged test avatar."""
    root = resources.files("bridge.dashboard")
    vrm = Path(avatar).read_bytes() if avatar is not None else \
        resources.files("bridge.assets").joinpath("test_avatar.vrm").read_bytes()
    return {"/": ("text/html; charset=utf-8", root.joinpath("index.html").read_bytes()),
            "/avatar.vrm": ("model/gltf-binary", vrm)}
