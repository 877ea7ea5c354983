"""Faults, hostile clients and bad input: the sidecar keeps running and says what is wrong once."""
import json
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bridge.config import from_tables
from bridge.errors import ConfigError
from bridge.protocols import osc
from bridge.protocols.jsonframe import COMMANDS, Control, ControlError, parse_control
from bridge.transports.udp import UdpSender
from bridge.transports.websocket import WebSocketServer
from conftest import FACE, free_port

HELLO = '{"type":"hello"}'


def _server(token=""):
    def submit(control: Control, fut: Future):
        fut.set_result((True, control.command))
    s = WebSocketServer("127.0.0.1", 0, HELLO, submit, token)
    s.start()
    return s


def test_token_required_when_set():
    s = _server(token="s3cret-token-0123456789")
    try:
        with pytest.raises(InvalidStatus) as e:
            with connect(f"ws://127.0.0.1:{s.port}/", open_timeout=5):
                pass
        assert e.value.response.status_code == 401
        with pytest.raises(InvalidStatus):
            with connect(f"ws://127.0.0.1:{s.port}/?token=wrong", open_timeout=5):
                pass
        with connect(f"ws://127.0.0.1:{s.port}/?token=s3cret-token-0123456789", open_timeout=5) as ws:
            assert ws.recv(timeout=5) == HELLO
        with connect(f"ws://127.0.0.1:{s.port}/", additional_headers={"Authorization": "Bearer s3cret-token-0123456789"},
                     open_timeout=5) as ws:
            assert ws.recv(timeout=5) == HELLO
    finally:
        s.stop()


def test_remote_bind_needs_flag_and_token():
    with pytest.raises(ConfigError, match="allow_remote"):
        from_tables({"websocket": {"host": "0.0.0.0"}})
    with pytest.raises(ConfigError, match="token"):
        from_tables({"websocket": {"host": "0.0.0.0", "allow_remote": True}})
    assert from_tables({"websocket": {"host": "0.0.0.0", "allow_remote": True, "token": "x" * 16}})


def test_slow_client_never_delays_pipeline_or_others():
    s = _server()
    payload = json.dumps({"type": "frame", "pad": "x" * 60000})
    got = []
    try:
        slow = socket.create_connection(("127.0.0.1", s.port))  # completes the handshake, then never reads
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        fast = connect(f"ws://127.0.0.1:{s.port}", legacy=True)  # closed explicitly below, not in a with-block
        assert fast.recv(timeout=5) == HELLO
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                try:
                    got.append(fast.recv(timeout=0.5))
                except TimeoutError:
                    pass

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        worst = 0.0
        n = 600
        for i in range(n):  # 600 frames of 60 KB at ~300 Hz: far more than the slow socket can buffer
            t0 = time.perf_counter()
            s.publish_frame(payload)
            worst = max(worst, time.perf_counter() - t0)
            time.sleep(1 / 300)
        time.sleep(0.5)
        stop.set()
        t.join()
        fast.close()
        slow.close()
    finally:
        s.stop()
    assert worst < 0.02  # publishing never waits on a client
    assert len(got) > 0.8 * n  # the healthy client keeps receiving
    assert s.frames_dropped > 0  # the stuck client's frames were skipped, and counted


def test_a_slow_client_skips_plain_frames_but_never_trigger_events():
    """Frames with events go through the ordered queue: a client that reads slowly gets every one, in order."""
    s = _server()
    got = []
    try:
        with connect(f"ws://127.0.0.1:{s.port}", open_timeout=5, max_queue=4) as ws:
            assert ws.recv(timeout=5) == HELLO
            for i in range(300):
                has_events = i % 30 == 7
                s.publish_frame(json.dumps({"type": "frame", "v": 2, "seq": i, "people": [
                    {"id": 0, "events": [{"n": i}] if has_events else []}], "pad": "x" * 60000}), has_events)
                time.sleep(0.001)
            while True:
                try:
                    got.append(json.loads(ws.recv(timeout=1.0)))
                except TimeoutError:
                    break
                time.sleep(0.01)  # a slow reader: 10 ms per message against 1 ms per frame
    finally:
        s.stop()
    seqs = [m["seq"] for m in got]
    assert seqs == sorted(seqs)
    assert [m["seq"] for m in got if m["people"][0]["events"]] == [i for i in range(300) if i % 30 == 7]
    assert len(got) < 300 and s.frames_dropped > 0  # plain frames were skipped meanwhile


def test_udp_to_nobody_warns_once(caplog):
    port = free_port()  # nothing listens here: Linux reports ECONNREFUSED on later sends
    sender = UdpSender("127.0.0.1", port, "VMC")
    with caplog.at_level(logging.WARNING, logger="avatar_bridge.udp"):
        for _ in range(200):
            sender.send([b"x" * 100])
    sender.close()
    assert sender.packets + sender.errors == 200
    assert len([r for r in caplog.records if "VMC" in r.message]) <= 1


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_signals_shut_down_cleanly(sig, code):
    proc = subprocess.Popen([sys.executable, "-m", "bridge.cli", "run", "--source", str(FACE / "single_face.mp4"),
                             "--loop", "--vmc", f"127.0.0.1:{free_port()}", "--ws", f"127.0.0.1:{free_port(socket.SOCK_STREAM)}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    ws_line = ""
    while time.time() < deadline and "source:" not in ws_line:
        ws_line = proc.stderr.readline()
    time.sleep(1.5)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Traceback" not in err


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                              lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                              max_leaves=12).map(json.dumps)))
def test_control_parser_only_accepts_or_explains(raw):
    try:
        c = parse_control(raw)
        assert c.command in COMMANDS and set(c.args) <= set(COMMANDS[c.command])
    except ControlError as e:
        assert str(e) and "\n" not in str(e)


_leaf = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=12)
_tables = st.dictionaries(
    st.sampled_from(["source", "face", "filter", "tracking_loss", "calibration", "mapping", "vmc", "vrchat", "websocket", "x"]),
    st.dictionaries(st.sampled_from(["enabled", "port", "host", "preset", "mirror", "gain", "outputs", "shapes", "drop",
                                     "fps", "neck_share", "names", "token", "y"]),
                    st.recursive(_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=10), c, max_size=3),
                                 max_leaves=6), max_size=4),
    max_size=4)


@settings(max_examples=400, deadline=None)
@given(_tables)
def test_config_loader_only_accepts_or_explains(tables):
    try:
        from_tables(tables, "fuzz.toml")
    except ConfigError as e:
        assert str(e).startswith("fuzz.toml") and "\n" not in str(e)


_reaction_spec = st.dictionaries(st.sampled_from(["blend", "weight", "mode", "vrchat", "vrchat_float", "pulse_s", "z"]),
                                 _leaf, max_size=4)
_reactions = st.one_of(_leaf, st.dictionaries(
    st.sampled_from(["expression", "action", "gesture", "mood", "x"]),
    st.one_of(_leaf, st.dictionaries(st.sampled_from(["happy", "wave", "like", "dab"]) | st.text(max_size=6),
                                     st.one_of(_leaf, _reaction_spec), max_size=3)), max_size=3))


@settings(max_examples=400, deadline=None)
@given(_reactions)
def test_reactions_only_accept_or_explain(reactions):
    try:
        cfg = from_tables({"reactions": reactions}, "fuzz.toml")
    except ConfigError as e:
        assert str(e).startswith("fuzz.toml") and "\n" not in str(e)
    else:
        assert all(r.blend or r.vrchat or r.vrchat_float for r in cfg.reactions)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), min_size=1, max_size=40).map(lambda s: "/" + s),
       st.lists(st.one_of(st.integers(-2**31, 2**31 - 1), st.floats(width=32, allow_nan=False), st.text(
           st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=30)), max_size=8))
def test_osc_encoder_round_trips_through_python_osc(address, args):
    from pythonosc.osc_message import OscMessage
    strings = [a for a in args if isinstance(a, str)]
    numbers = [a for a in args if not isinstance(a, str)]
    tags = "s" * len(strings) + "".join("i" if isinstance(a, int) else "f" for a in numbers)
    m = OscMessage(osc.message(address, tags, *strings, *numbers))
    assert m.address == address
    assert m.params[:len(strings)] == strings
    for got, want in zip(m.params[len(strings):], numbers):
        assert got == pytest.approx(want, rel=1e-6, abs=1e-30) if isinstance(want, float) else got == want
