"""The control commands (WebSocket `{"type": ...}` messages), answered in one place for run and replay.

`Controller.submit` is called from the WebSocket thread; commands are queued and run between
frames by `run_pending` on the thread that owns the frame loop, so a command never races a
frame. A run offers every command; a replay has no config editor and no calibration, so those
commands answer that they are not available, in the same reply format.
"""
from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from concurrent.futures import Future
from importlib import resources
from pathlib import Path

import numpy as np

from .arkit import ARKIT_NAMES
from .calibration import default_config_path
from .config import Config, deep_merge, load
from .errors import BridgeError
from .live_config import LiveEdits, save_to_toml
from .mapping import Mapper
from .outputs import avatar_mapper
from .protocols.jsonframe import Control

log = logging.getLogger("avatar_bridge.control")
EDITS = ("set_preset", "set_shape", "set_output", "rename")


class ConfigEditor:
    """Live mapping edits, config reloads and saving, layered as flags < file < live edits.

    `apply(cfg)` installs a new validated config; `mapper()` gives the mapping in use."""

    def __init__(self, path: Path | None, overrides: dict, apply: Callable[[Config], None],
                 mapper: Callable[[], Mapper]):
        self.path = path
        self.overrides = overrides
        self.apply = apply
        self.mapper = mapper
        self.live = LiveEdits()

    def layered(self, live: dict | None = None) -> dict:
        """The tables laid over the config file: the flags, then the live edits."""
        return deep_merge(self.overrides, self.live.tables if live is None else live)

    def edit(self, command: str, args: dict) -> tuple[bool, str]:
        try:
            tables = self.live.proposal(command, args, self.mapper(), self._mix_of)
            cfg = load(self.path, self.layered(tables))
            avatar_mapper(cfg)  # validates the whole mapping before anything changes
        except BridgeError as e:
            return False, str(e)
        self.live.commit(tables)
        self.apply(cfg)
        return True, f"{command} applied (not saved: send save_config to keep it)"

    def _mix_of(self, output: str) -> dict[str, float]:
        mapper = self.mapper()
        row = mapper.weights[mapper.names.index(output)]
        return {ARKIT_NAMES[i]: float(row[i]) for i in np.flatnonzero(row)}

    def save(self) -> tuple[bool, str]:
        path = self.path or default_config_path()
        try:
            save_to_toml(path, self.live.tables,
                         resources.files("bridge.assets").joinpath("avatar-bridge.toml").read_text())
        except (OSError, ValueError) as e:
            return False, f"could not write {path} ({e}); check the folder's permissions"
        hint = "" if self.path else f"; start with --config {path} to use it"
        return True, f"saved to {path}{hint}"

    def reload(self) -> tuple[bool, str]:
        if self.path is None:
            return False, "no config file in use (start with --config FILE)"
        try:
            self.apply(load(self.path, self.layered()))
        except BridgeError as e:
            return False, f"{e}; keeping the last good config"
        return True, f"reloaded {self.path}"


class Controller:
    """Queues control commands and answers each one's future with (ok, message).

    `calibrate(fut)` starts a calibration that answers `fut` when it ends; `unavailable` says
    why a command without a handler cannot run here."""

    def __init__(self, editor: ConfigEditor | None = None, calibrate: Callable[[Future], None] | None = None,
                 unavailable: str = ""):
        self.editor = editor
        self.calibrate = calibrate
        self.unavailable = unavailable
        self.paused = False
        self._pending: queue.SimpleQueue[tuple[Control, Future]] = queue.SimpleQueue()

    def submit(self, control: Control, fut: Future) -> None:
        """Thread-safe."""
        self._pending.put((control, fut))

    def run_pending(self) -> None:
        while not self._pending.empty():
            control, fut = self._pending.get_nowait()
            answer = self._run(control, fut)
            if answer is not None:
                fut.set_result(answer)

    def _run(self, control: Control, fut: Future) -> tuple[bool, str] | None:
        c, e = control.command, self.editor
        if c == "ping":
            return True, "pong"
        if c == "pause":
            self.paused = True
            return True, "paused: nothing is tracked or sent until resume"
        if c == "resume":
            self.paused = False
            return True, "resumed"
        if c == "calibrate" and self.calibrate is not None:
            self.calibrate(fut)
            return None
        if e is not None and c in EDITS:
            return e.edit(c, control.args)
        if e is not None and c == "save_config":
            return e.save()
        if e is not None and c == "reload_config":
            return e.reload()
        return False, f"{c} is not available {self.unavailable}"
