"""The dashboard page and what it loads, served over plain GETs on the WebSocket port."""
from __future__ import annotations

from importlib import resources


def pages() -> dict[str, tuple[str, bytes]]:
    """HTTP path -> (content type, body) for every file the dashboard page needs."""
    root = resources.files("bridge.dashboard")
    return {"/": ("text/html; charset=utf-8", root.joinpath("index.html").read_bytes())}
