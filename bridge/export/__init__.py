"""Recording exporters: Live Link Face CSV (`livelink`) and BVH (`bvh`).

`export(recording, out, fmt)` picks the exporter by format name ("csv" or "bvh").
"""
from __future__ import annotations

from pathlib import Path

from ..errors import BridgeError

FORMATS = ("csv", "bvh")


def export(recording: str | Path, out: str | Path, fmt: str, progress: bool = False, **kw) -> int:
    """Write `out` from `recording` in format `fmt`; returns the number of frames written."""
    if fmt == "csv":
        from .livelink import export_livelink
        return export_livelink(recording, out, progress=progress, **kw)
    if fmt == "bvh":
        from .bvh import export_bvh
        return export_bvh(recording, out, progress=progress, **kw)
    raise BridgeError(f"unknown export format {fmt!r}; allowed: {', '.join(FORMATS)}")
