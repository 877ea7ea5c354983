"""A small progress bar for long commands (batch processing, exports, training).

On a terminal it redraws one line in place (`\\r`) at most `refresh_s` apart; when stderr is a
file or a pipe (CI logs) it prints a plain line every `log_every_s` seconds instead, so logs stay
readable. Always ends with one final line. No dependency.

    with Progress(total=len(frames), desc="export clip.csv", unit="frames") as bar:
        for f in frames:
            ...
            bar.update()
"""
from __future__ import annotations

import sys
import time


def _fmt_time(s: float) -> str:
    s = int(max(s, 0))
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class Progress:
    def __init__(self, total: int | None = None, desc: str = "", unit: str = "it", stream=None,
                 enabled: bool = True, width: int = 28, refresh_s: float = 0.1, log_every_s: float = 5.0):
        self.total = total if total and total > 0 else None
        self.desc = desc
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = refresh_s if self.tty else log_every_s
        self.n = 0
        self.started = time.monotonic()
        self._last = float("-inf")  # the first update shows at once
        self._closed = False

    def line(self) -> str:
        el = time.monotonic() - self.started
        rate = self.n / el if el > 0 else 0.0
        head = f"{self.desc}: " if self.desc else ""
        if self.total:
            frac = min(self.n / self.total, 1.0)
            fill = int(frac * self.width)
            bar = "#" * fill + "-" * (self.width - fill)
            eta = (self.total - self.n) / rate if rate > 0 else 0.0
            return (f"{head}[{bar}] {frac * 100:5.1f}% {self.n}/{self.total} {self.unit} "
                    f"{rate:.1f} {self.unit}/s {_fmt_time(el)}<{_fmt_time(eta)}")
        return f"{head}{self.n} {self.unit} {rate:.1f} {self.unit}/s {_fmt_time(el)}"

    def update(self, n: int = 1) -> None:
        self.n += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._emit()

    def set_description(self, desc: str) -> None:
        self.desc = desc

    def _emit(self, final: bool = False) -> None:
        text = self.line()
        if self.tty:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.enabled:
            self._emit(final=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(iterable, total: int | None = None, **kw):
    """Wrap an iterable: `for x in progress(items, desc="..."):`."""
    if total is None:
        try:
            total = len(iterable)
        except TypeError:
            total = None
    with Progress(total, **kw) as bar:
        for x in iterable:
            yield x
            bar.update()
