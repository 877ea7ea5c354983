"""The control commands, answered by one Controller for run and replay (real config files, real TOML)."""
from __future__ import annotations

from concurrent.futures import Future

import tomllib

from bridge.config import load
from bridge.control import ConfigEditor, Controller
from bridge.outputs import avatar_mapper
from bridge.protocols.jsonframe import parse_control


def ask(controller: Controller, raw: str) -> tuple[bool, str] | None:
    fut: Future = Future()
    controller.submit(parse_control(raw), fut)
    controller.run_pending()
    return fut.result(timeout=1) if fut.done() else None


def editor_for(path, applied: list):
    state = {"cfg": load(path, {})}

    def apply(cfg):
        state["cfg"] = cfg
        applied.append(cfg)

    return ConfigEditor(path, {}, apply, lambda: avatar_mapper(state["cfg"])), state


def test_replay_answers_what_it_can_and_says_what_it_cannot():
    c = Controller(unavailable="while replaying a recording")
    assert ask(c, '{"type": "ping"}') == (True, "pong")
    assert ask(c, '{"type": "pause"}')[0] and c.paused
    assert ask(c, '{"type": "resume"}') == (True, "resumed") and not c.paused
    for cmd in ('{"type": "calibrate"}', '{"type": "save_config"}', '{"type": "reload_config"}',
                '{"type": "set_preset", "preset": "vrm0"}'):
        ok, msg = ask(c, cmd)
        assert not ok and msg.endswith("is not available while replaying a recording"), msg


def test_live_edits_apply_validate_and_save_keeping_comments(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("# my settings\n[mapping]\npreset = \"arkit\"  # perfect sync\n", encoding="utf-8")
    applied = []
    editor, state = editor_for(path, applied)
    c = Controller(editor, calibrate=lambda fut: fut.set_result((True, "calibrating")))
    assert ask(c, '{"type": "set_preset", "preset": "vrm0"}')[0]
    assert state["cfg"].mapping.preset == "vrm0" and "Joy" in avatar_mapper(state["cfg"]).names
    ok, msg = ask(c, '{"type": "set_preset", "preset": "nosuch"}')
    assert not ok and "nosuch" in msg and state["cfg"].mapping.preset == "vrm0"  # nothing changed
    ok, msg = ask(c, '{"type": "set_shape", "shape": "Joy", "key": "gain", "value": 1.5}')
    assert ok, msg
    assert ask(c, '{"type": "save_config"}')[0]
    text = path.read_text(encoding="utf-8")
    assert "# my settings" in text and "# perfect sync" in text
    saved = tomllib.loads(text)["mapping"]
    assert saved["preset"] == "vrm0" and saved["shapes"]["Joy"]["gain"] == 1.5
    assert ask(c, '{"type": "calibrate"}') == (True, "calibrating")


def test_reload_keeps_the_last_good_config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[mapping]\npreset = \"vrm1\"\n", encoding="utf-8")
    applied = []
    editor, _ = editor_for(path, applied)
    c = Controller(editor)
    assert ask(c, '{"type": "reload_config"}')[0] and applied[-1].mapping.preset == "vrm1"
    path.write_text("[mapping]\npreset = 3\n", encoding="utf-8")
    ok, msg = ask(c, '{"type": "reload_config"}')
    assert not ok and "keeping the last good config" in msg and len(applied) == 1
    no_file = Controller(ConfigEditor(None, {}, applied.append, lambda: None))
    assert ask(no_file, '{"type": "reload_config"}') == (False, "no config file in use (start with --config FILE)")
