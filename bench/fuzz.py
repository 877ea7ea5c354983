"""Fuzzing at scale (hypothesis) over everything that parses outside input:

  control  - WebSocket control messages (bridge.protocols.jsonframe.parse_control)
  config   - config tables (bridge.config.from_tables) and raw TOML text (tomllib + from_tables)
  recording- recording files: a real recording with bytes flipped, cut, inserted and deleted
  osc      - OSC datagrams: python-osc (the parser our tests use) on our encoder's output, mutated

Accepting or rejecting with the module's own one-line error is fine; any other exception, or a
multi-line message, is a finding. Prints how many inputs each target tried.
Usage: python bench/fuzz.py [--examples N]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "vectors"))

from bridge.config import from_tables  # noqa: E402
from bridge.errors import BridgeError  # noqa: E402
from bridge.protocols.jsonframe import ControlError, parse_control  # noqa: E402

counts: dict[str, int] = {}


def one_line(e: Exception) -> None:
    assert str(e) and "\n" not in str(e), f"message not one line: {e!r}"


def run(name: str, test, n: int) -> None:
    counts[name] = 0
    t0 = time.time()
    settings(max_examples=n, deadline=None, database=None,
             suppress_health_check=list(HealthCheck))(test)()
    print(f"{name:10s} {counts[name]:7d} inputs, no finding ({time.time() - t0:.0f} s)", flush=True)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
                           lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=12), c, max_size=5),
                           max_leaves=25)


@given(st.one_of(st.binary(max_size=5000), st.text(max_size=500), json_values.map(json.dumps),
                 st.fixed_dictionaries({"type": st.sampled_from(["set_shape", "rename", "set_output", "subscribe",
                                                                 "set_preset", "calibrate"])},
                                       optional={"id": json_values, "shape": json_values, "key": json_values,
                                                 "value": json_values, "mix": json_values, "to": json_values,
                                                 "output": json_values, "preview": json_values,
                                                 "preset": json_values}).map(json.dumps)))
def fuzz_control(raw):
    counts["control"] += 1
    try:
        parse_control(raw)
    except ControlError as e:
        one_line(e)


sections = ["source", "face", "pose", "hands", "classify", "filter", "tracking_loss", "calibration", "mapping", "vmc",
            "vrchat", "websocket", "reactions", "bogus"]


@given(st.one_of(
    st.dictionaries(st.sampled_from(sections), st.dictionaries(st.text(max_size=16), json_values, max_size=6), max_size=5),
    st.text(max_size=400)))
def fuzz_config(tables):
    counts["config"] += 1
    try:
        if isinstance(tables, str):
            tables = tomllib.loads(tables)
        from_tables(tables, "fuzz.toml")
    except tomllib.TOMLDecodeError:
        pass
    except BridgeError as e:
        one_line(e)


def recording_bytes() -> bytes:
    from bridge.recording import RecordingWriter
    from generate import golden_frame
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "r.abr"
        f = golden_frame()
        f.people.append(dataclasses.replace(f.people[0], id=1, events=[]))  # two people: the per-person layout
        w = RecordingWriter(path, meta={"fps": 30})
        for i in range(20):
            f.seq = i
            w.write(f)
        w.close()
        return path.read_bytes()


def fuzz_recording_factory():
    from bridge.recording import RecordingReader
    good = recording_bytes()
    tmp = Path(tempfile.mkdtemp()) / "f.abr"

    @given(st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert", "delete"]),
                              st.integers(0, len(good) - 1), st.binary(min_size=1, max_size=40)), max_size=6)
           | st.binary(max_size=2000).map(lambda b: [("raw", 0, b)]))
    def fuzz_recording(edits):
        counts["recording"] += 1
        data = bytearray(good)
        for op, pos, blob in edits:
            pos = min(pos, max(len(data) - 1, 0))
            if op == "raw":
                data = bytearray(blob)
            elif op == "flip" and data:
                data[pos] ^= blob[0] or 1
            elif op == "cut":
                del data[pos:]
            elif op == "insert":
                data[pos:pos] = blob
            elif op == "delete":
                del data[pos:pos + len(blob)]
        tmp.write_bytes(bytes(data))
        try:
            reader = RecordingReader(tmp)
            for _ in reader:
                pass
            if reader.damage:
                one_line(ValueError(reader.damage))
        except BridgeError as e:
            one_line(e)

    return fuzz_recording


def fuzz_osc_factory():
    from pythonosc import osc_bundle, osc_message
    from pythonosc.osc_bundle import OscBundle
    from pythonosc.osc_message import OscMessage
    from pythonosc.parsing import osc_types
    parse_errors = (osc_types.ParseError, osc_message.ParseError, osc_bundle.ParseError)

    from bridge.protocols import vmc
    from generate import golden_frame
    packets = vmc.encode_vmc(golden_frame().people[0], 1.0)

    @given(st.integers(0, len(packets) - 1), st.lists(st.tuples(st.integers(0, 1471), st.integers(0, 255)), max_size=8),
           st.integers(0, 1472))
    def fuzz_osc(which, flips, cut):
        counts["osc"] += 1
        data = bytearray(packets[which])
        for pos, val in flips:
            if pos < len(data):
                data[pos] = val
        data = bytes(data[:cut])
        try:
            if OscBundle.dgram_is_bundle(data):
                list(OscBundle(data))
            else:
                OscMessage(data)
        except (*parse_errors, ValueError, IndexError, TypeError, UnicodeDecodeError) as e:
            # python-osc's own failure modes for malformed datagrams; the point is no crash or hang
            assert type(e).__name__
    return fuzz_osc


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=20000, help="inputs per target")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # damaged recordings and bad datagrams are expected here, by the thousand
    run("control", fuzz_control, args.examples)
    run("config", fuzz_config, args.examples)
    run("recording", fuzz_recording_factory(), args.examples)
    run("osc", fuzz_osc_factory(), args.examples)
    print(f"total {sum(counts.values())} inputs: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
