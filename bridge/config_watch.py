"""Reloads the config file while running: polls it, hands a valid new version over, reports an invalid one once."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from .config import Config, load
from .errors import BridgeError

log = logging.getLogger("avatar_bridge.config")


class ConfigWatcher:
    def __init__(self, path: Path, overrides: Callable[[], dict], on_config: Callable[[Config], None],
                 interval_s: float = 0.5):
        """`overrides()` gives the tables layered over the file (flags, then live edits)."""
        self.path = path
        self.overrides = overrides
        self.on_config = on_config
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._mtime = self._stat()
        self._last_error = ""
        self._thread = threading.Thread(target=self._run, name="config-watcher", daemon=True)

    def _stat(self) -> float | None:
        try:
            st = self.path.stat()
            return st.st_mtime_ns + st.st_size
        except OSError:
            return None

    def start(self) -> None:
        self._thread.start()

    def check(self) -> None:
        m = self._stat()
        if m == self._mtime:
            return
        self._mtime = m
        try:
            cfg = load(self.path, self.overrides())
        except BridgeError as e:
            if str(e) != self._last_error:
                self._last_error = str(e)
                log.warning("%s; keeping the last good config", e)
            return
        self._last_error = ""
        log.info("reloaded %s", self.path)
        self.on_config(cfg)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()

    def stop(self) -> None:
        self._stop.set()
