"""A live one-line status on stderr that stays out of the way of log lines."""
from __future__ import annotations

import logging
import sys
import time


class StatusLine:
    def __init__(self, stream=sys.stderr, interval_s: float = 0.5, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self.interval_s = interval_s
        self._last = 0.0
        self._shown = False

    def update(self, text: str) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < self.interval_s:
            return
        self._last = now
        self.stream.write("\r\033[K" + text)
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False


class _ClearingHandler(logging.StreamHandler):
    def __init__(self, status: StatusLine):
        super().__init__(status.stream)
        self.status = status

    def emit(self, record: logging.LogRecord) -> None:
        self.status.clear()
        super().emit(record)


def setup_logging(status: StatusLine, verbose: bool) -> None:
    root = logging.getLogger("avatar_bridge")
    root.handlers[:] = [_ClearingHandler(status)]
    root.handlers[0].setFormatter(logging.Formatter("%(levelname).1s %(name)s: %(message)s"))
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
