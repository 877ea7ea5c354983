"""The pipeline with several people (bridge/pipeline.py) on the real two-person footage of
tests/multi_person_media.py: everyone's chain shares one set of classifier models, a live reload
swaps them and moves the routes the hello announces, and a spare chain that fails to build ahead
is one line in the log."""
from __future__ import annotations

import json
import logging
import socket
import threading
from concurrent.futures import Future

import pytest
from websockets.sync.client import connect

from bridge import pipeline as pipeline_module
from bridge.config import from_tables, load
from bridge.pipeline import Pipeline
from bridge.protocols.jsonframe import parse_control
from bridge.sources import open_source
from conftest import FIXTURES, free_port
from multi_person_media import crossing

NO_PROFILE = {"profile": "/nonexistent/avatar-bridge-test-profile.json"}
BEFORE = '[vmc]\nport = 39600\n[vrchat]\nenabled = true\nport = 39610\noscquery = false\n'
AFTER = ('[vmc]\nports = [39620, 39621]\nnames = { alice = 39630 }\n[vrchat]\nenabled = true\nport = 39610\n'
         'oscquery = false\nperson = 2\n[classify]\nexpression_model = "expression_fusion_fast"\n')
RELOAD_AT = 10  # the frame whose listener edits the file and asks for a reload


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return crossing(FIXTURES, tmp_path_factory.mktemp("pipeline"))


def _hellos(port: int, hellos: list, connected: threading.Event) -> None:
    with connect(f"ws://127.0.0.1:{port}", open_timeout=5) as ws:
        try:
            for raw in ws:
                msg = json.loads(raw)
                if msg["type"] == "hello":
                    hellos.append(msg)
                    connected.set()
        except Exception:  # noqa: BLE001 - the server closing at the end of the clip
            return


@pytest.fixture(scope="module")
def reloaded(clip, tmp_path_factory):
    """The crossing clip with two people; at RELOAD_AT the config file moves the VMC ports, routes a
    name, gives VRChat slot 2 and swaps the expression model, and a reload_config command applies it.
    Returns per frame the pipeline's models and each chain's classifiers and tongue estimator with
    the frame's people, the hellos a client got and the reload's reply."""
    config = tmp_path_factory.mktemp("reload") / "config.toml"
    config.write_text(BEFORE)
    ws = free_port(socket.SOCK_STREAM)
    overrides = {"tracking": {"people": 2}, "websocket": {"port": ws}, "calibration": NO_PROFILE}
    pipe = Pipeline(load(config, overrides), open_source(str(clip.path), fast=True), config, overrides)
    seen, reply = [], Future()

    def listen(frame) -> None:
        seen.append((frame.seq, pipe.models.stage, [(c.classifiers, c.tongue) for c in pipe.chains.values()],
                     frame.people))
        if frame.seq == RELOAD_AT:
            config.write_text(AFTER)
            pipe.control.submit(parse_control('{"type": "reload_config"}'), reply)

    pipe.listeners.append(listen)
    pipe.start_outputs()
    hellos, connected = [], threading.Event()
    client = threading.Thread(target=_hellos, args=(ws, hellos, connected), daemon=True)
    client.start()
    assert connected.wait(10)
    pipe.run()
    client.join(timeout=10)
    return seen, hellos, reply.result(timeout=1)


def test_everyone_shares_the_models_and_a_reload_swaps_them_for_everyone(reloaded):
    seen, _, reply = reloaded
    assert reply[0], reply
    before = [s for s in seen if s[0] <= RELOAD_AT and len(s[2]) == 2]
    after = [s for s in seen if s[0] > RELOAD_AT + 1 and len(s[2]) == 2]
    assert len(before) >= RELOAD_AT and len(after) >= 50
    for frames, name in ((before, "expression_fusion"), (after, "expression_fusion_fast")):
        for _, stage, chains, _ in frames:
            assert stage.expression.model.name == name
            for clf, tongue in chains:  # one session each, the pipeline's, not a copy per person
                assert clf.expr is stage.expression and clf.rec.model is stage.action
                assert clf.activity.model is stage.activity and tongue is None
            assert chains[0][0] is not chains[1][0]  # while each keeps their own windows and triggers
    assert before[-1][1] is not after[0][1]
    for _, _, _, people in after[-10:]:  # and the new model classifies both
        assert len(people) == 2 and all(p.classes.get("expression") for p in people)


def test_the_hellos_routes_follow_the_reload(reloaded):
    _, hellos, _ = reloaded
    assert [h["people"]["routes"] for h in hellos] == [
        [{"slot": 1, "outputs": ["VMC udp://127.0.0.1:39600", "VRChat OSC udp://127.0.0.1:39610"]},
         {"slot": 2, "outputs": ["VMC udp://127.0.0.1:39601"]}],
        [{"slot": 1, "outputs": ["VMC udp://127.0.0.1:39620"]},
         {"slot": 2, "outputs": ["VMC udp://127.0.0.1:39621", "VRChat OSC udp://127.0.0.1:39610"]},
         {"name": "alice", "outputs": ["VMC udp://127.0.0.1:39630"]}]]


def test_a_spare_that_fails_to_build_ahead_is_one_line_and_the_run_goes_on(clip, monkeypatch, caplog, capfd):
    """A fault (injected: nothing the chain is built from can fail for real once the models are
    loaded) on the thread that builds the next newcomer's chain ahead: one error line, no thread
    traceback, and the newcomer still gets a chain, built when they arrive."""
    class FailsAhead(pipeline_module.PersonChain):
        def __init__(self, *args):
            if threading.current_thread().name == "person-chain":
                raise MemoryError("no room for another chain\nsecond line")
            super().__init__(*args)

    monkeypatch.setattr(pipeline_module, "PersonChain", FailsAhead)
    cfg = from_tables({"tracking": {"people": 2}, "vmc": {"enabled": False}, "websocket": {"enabled": False},
                       "calibration": NO_PROFILE})
    pipe = Pipeline(cfg, open_source(str(clip.path), fast=True), max_frames=20)
    slots = []
    pipe.listeners.append(lambda f: slots.append(sorted(p.slot for p in f.people)))
    with caplog.at_level(logging.ERROR, "avatar_bridge"):
        pipe.run()
    failed = [r.getMessage() for r in caplog.records  # ours: another test's leftovers may log too (asyncio)
              if r.levelno >= logging.ERROR and r.name.startswith("avatar_bridge")]
    assert failed and all(m == "preparing the next person's stages failed (MemoryError: no room for another "
                                "chain); they are built when they arrive" for m in failed), failed
    assert "Traceback" not in capfd.readouterr().err
    assert slots[-1] == [1, 2]
