"""The committed golden vectors are exactly what the encoders produce (Unity/Godot test against them)."""
import sys
from pathlib import Path

VECTORS = Path(__file__).parent / "vectors"
sys.path.insert(0, str(VECTORS))

import generate  # noqa: E402


def test_committed_vectors_match_encoders():
    expected = generate.write_all()
    for name, data in expected.items():
        assert (VECTORS / name).read_bytes() == data, f"{name} differs: run python tests/vectors/generate.py"
    committed = {p.name for p in VECTORS.glob("*.bin")} | {p.name for p in VECTORS.glob("*.json")}
    assert committed == set(expected)


def test_vmc_packets_fit_one_ethernet_frame():
    for p in VECTORS.glob("vmc_frame_*.bin"):
        assert len(p.read_bytes()) <= 1472
