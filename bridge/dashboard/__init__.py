"""The dashboard page and what it loads, served over plain GETs on the WebSocket port.

`static/` holds the 3D avatar bundle (three.js + three-vrm + web/src/avatar.js) and its licences,
made at build time from web/ (setup.py); an install without Node.js has none, and the page then
keeps its 2D view and says how to get the 3D one.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

BUNDLE = "static/avatar.js"
LICENSES = "static/THIRD_PARTY_LICENSES.txt"
# index.html names the bundle here; it stays "none" without one, so the page requests no missing file.
BUNDLE_MARK = b'<meta name="avatar-bundle" content="none">'


def pages(avatar: Path | None = None) -> dict[str, tuple[str, bytes]]:
    """HTTP path -> (content type, body) for every file the dashboard page needs; `/avatar.vrm` is
    `avatar` (the user's --avatar) or the packaged test avatar."""
    root = resources.files("bridge.dashboard")
    vrm = Path(avatar).read_bytes() if avatar is not None else \
        resources.files("bridge.assets").joinpath("test_avatar.vrm").read_bytes()
    html = root.joinpath("index.html").read_bytes()
    out = {"/avatar.vrm": ("model/gltf-binary", vrm)}
    bundle = root.joinpath(BUNDLE)
    if bundle.is_file():
        html = html.replace(BUNDLE_MARK, f'<meta name="avatar-bundle" content="/{BUNDLE}">'.encode())
        out[f"/{BUNDLE}"] = ("text/javascript; charset=utf-8", bundle.read_bytes())
        out[f"/{LICENSES}"] = ("text/plain; charset=utf-8", root.joinpath(LICENSES).read_bytes())
    out["/"] = ("text/html; charset=utf-8", html)
    return out
