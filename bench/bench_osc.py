"""Our OSC/VMC encoder against python-osc's builders, on the same frames, in one run.

Encodes a realistic VMC frame (root, 55 bones, 52 ARKit shapes, Apply; split into MTU-sized
bundles) with `bridge.protocols.vmc.encode_vmc` and with python-osc's `OscMessageBuilder` /
`OscBundleBuilder` producing the same messages, checks both give the same OSC messages, and
prints the median microseconds per frame of each and their ratio.
Usage: python bench/bench_osc.py [--frames N] [--rounds N]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.arkit import ARKIT_NAMES
from bridge.frame import FaceState, Person
from bridge.protocols import osc, vmc
from bridge.retarget.humanoid import BONES


def person(rng: np.random.Generator) -> Person:
    names = tuple(BONES)
    q = rng.normal(size=(len(names), 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    face = FaceState.neutral()
    face.found = True
    return Person(0, face, face, tuple(ARKIT_NAMES), rng.random(len(ARKIT_NAMES)).astype(np.float32), names, q,
                  rng.normal(size=(len(names), 3)), rng.normal(size=3), np.array([0.0, 0.0, 0.0, 1.0]))


def _msg(address: str, args: list):
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a, "s" if isinstance(a, str) else "i" if isinstance(a, int) else "f")
    return b.build()


def encode_python_osc(p: Person, uptime: float) -> list[bytes]:
    """The same VMC messages and bundle split, built with python-osc."""
    f = [float(x) for x in np.concatenate([p.root_position, p.root_rotation])]
    msgs = [_msg("/VMC/Ext/OK", [1, vmc.CALIBRATED, 0, int(p.face.found)]), _msg("/VMC/Ext/T", [float(uptime)]),
            _msg("/VMC/Ext/Root/Pos", ["root", *f])]
    for n, pos, rot in zip(p.bone_names, p.bone_positions.tolist(), p.bone_rotations.tolist()):
        msgs.append(_msg("/VMC/Ext/Bone/Pos", [n, *pos, *rot]))
    for n, v in zip(p.blend_names, p.blend_values.tolist()):
        msgs.append(_msg("/VMC/Ext/Blend/Val", [n, v]))
    msgs.append(_msg("/VMC/Ext/Blend/Apply", []))
    packets, group, size = [], [], len(osc.BUNDLE_HEADER)
    for i, m in enumerate(msgs):
        need = 4 + m.size + (16 if i == 0 else 0)
        if size + need > osc.UDP_SAFE_PAYLOAD and group:
            packets.append(group)
            group, size = [], len(osc.BUNDLE_HEADER)
        group.append(m)
        size += need
    packets.append(group)
    out = []
    for g in packets:
        b = OscBundleBuilder(IMMEDIATELY)
        for m in g:
            b.add_content(m)
        out.append(b.build().dgram)
    return out


def decoded(packets: list[bytes]) -> list[tuple]:
    return [(m.address, tuple(round(a, 5) if isinstance(a, float) else a for a in m.params))
            for p in packets for m in OscBundle(p)]


def time_us(fn, people, rounds: int) -> float:
    per_round = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for i, p in enumerate(people):
            fn(p, i / 30)
        per_round.append((time.perf_counter() - t0) / len(people) * 1e6)
    return statistics.median(per_round)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    people = [person(rng) for _ in range(args.frames)]
    assert decoded(vmc.encode_vmc(people[0], 0.5)) == decoded(encode_python_osc(people[0], 0.5))
    ours = time_us(vmc.encode_vmc, people, args.rounds)
    theirs = time_us(encode_python_osc, people, args.rounds)
    n = len(decoded(vmc.encode_vmc(people[0], 0.0)))
    print(f"VMC frame: {n} OSC messages, {len(vmc.encode_vmc(people[0], 0.0))} bundles")
    print(f"ours (bridge.protocols.vmc): {ours:8.1f} us/frame (median of {args.rounds} rounds x {args.frames} frames)")
    print(f"python-osc builders:         {theirs:8.1f} us/frame")
    print(f"python-osc / ours:           {theirs / ours:8.1f}x")


if __name__ == "__main__":
    main()
