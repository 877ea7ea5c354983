"""A recording as one HTML page people can open without the sidecar: per person, the expression
probabilities over time, the timeline of the other classes (gesture, action, activity: whatever
the classifiers wrote), the trigger events and the tracking coverage.

The plots are matplotlib PNGs embedded in the page (base64), so the page is one file to mail or
archive. matplotlib is the optional extra `[report]`; without it `require_matplotlib` says so in
one line. Figures are made with `matplotlib.figure.Figure` (no pyplot state, no GUI backend).
"""
from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import BridgeError
from .recording import RecordingReader

TIMELINE_SCORE = 0.5  # a class counts as shown in the timeline at or above this score
HIDDEN_FROM_TIMELINE = ("expression", "mood")  # plotted as probabilities instead


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise BridgeError("reports need matplotlib: pip install \"avatar-bridge[report]\" (or pip install matplotlib)") \
            from None


@dataclass
class PersonSeries:
    """One person's values over the recording, one entry per frame the person appears in."""

    times: list[float] = field(default_factory=list)
    found: list[bool] = field(default_factory=list)
    classes: dict[str, dict[str, list[float]]] = field(default_factory=lambda: defaultdict(dict))
    events: list[tuple[float, dict]] = field(default_factory=list)


def series(path: str | Path) -> tuple[RecordingReader, list[float], dict[int, PersonSeries]]:
    """The recording read into per-person series (a class missing in a frame counts as 0 there)."""
    reader = RecordingReader(path)
    times: list[float] = []
    people: dict[int, PersonSeries] = {}
    for f in reader:
        times.append(f.source_time)
        for p in f.people:
            s = people.setdefault(p.id, PersonSeries())
            n = len(s.times)
            s.times.append(f.source_time)
            s.found.append(bool(p.face.found))
            for kind, scores in p.classes.items():
                per = s.classes[kind]
                for name, v in scores.items():
                    per.setdefault(name, [0.0] * n).append(float(v))
            for per in s.classes.values():
                for vals in per.values():
                    vals.extend([0.0] * (n + 1 - len(vals)))
            s.events += [(f.source_time, e) for e in p.events]
    if not times:
        raise BridgeError(f"{path}: the recording has no readable frames" +
                          (f" ({reader.damage})" if reader.damage else ""))
    return reader, times, people


def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode()


def _figure(height: float = 2.6):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(10, height), layout="constrained")
    return fig, fig.add_subplot()


def expression_plot(s: PersonSeries) -> str | None:
    probs = s.classes.get("expression")
    if not probs:
        return None
    fig, ax = _figure(3.2)
    t = np.asarray(s.times)
    for name, v in probs.items():
        ax.plot(t, v, label=name, linewidth=1.2)
    ax.set(xlabel="time (s)", ylabel="probability", ylim=(0, 1), title="expression probabilities")
    ax.legend(loc="upper right", ncols=min(7, len(probs)), fontsize="small")
    return _png(fig)


def segments(times: list[float], on: np.ndarray, step: float) -> list[tuple[float, float]]:
    """(start, length) runs of frames where `on` holds, each frame lasting `step` seconds."""
    out, start = [], None
    for i, v in enumerate(on):
        if v and start is None:
            start = times[i]
        if start is not None and (not v or i == len(on) - 1):
            end = times[i] + step if v else times[i]
            out.append((start, end - start))
            start = None
    return out


def timeline_plot(s: PersonSeries, step: float) -> str | None:
    """One row per class of the timeline kinds (gesture, action, activity, ...), bars where it scores
    at least TIMELINE_SCORE; trigger starts marked on their row."""
    rows = [(kind, name, np.asarray(v) >= TIMELINE_SCORE) for kind, per in s.classes.items()
            if kind not in HIDDEN_FROM_TIMELINE for name, v in per.items()]
    rows = [r for r in rows if r[2].any()]
    if not rows:
        return None
    fig, ax = _figure(0.6 + 0.28 * len(rows))
    labels = []
    for i, (kind, name, on) in enumerate(rows):
        ax.broken_barh(segments(s.times, on, step), (i - 0.4, 0.8), color=f"C{i % 10}")
        starts = [t for t, e in s.events if e.get("type") == kind and e.get("name") == name and e.get("state") == "start"]
        ax.plot(starts, [i] * len(starts), "k|", markersize=12)
        labels.append(f"{kind}: {name}")
    ax.set_yticks(range(len(rows)), labels)
    ax.set(xlabel="time (s)", title=f"timeline (score >= {TIMELINE_SCORE:g}; | = trigger start)",
           xlim=(s.times[0], s.times[-1] + step))
    return _png(fig)


def coverage_plot(s: PersonSeries, step: float) -> str:
    fig, ax = _figure(1.4)
    found = np.asarray(s.found)
    ax.broken_barh(segments(s.times, found, step), (0, 1), color="tab:green")
    ax.broken_barh(segments(s.times, ~found, step), (0, 1), color="lightgray")
    ax.set_yticks([])
    ax.set(xlabel="time (s)", title=f"face tracked in {found.mean():.0%} of frames (green)",
           xlim=(s.times[0], s.times[-1] + step))
    return _png(fig)


def _img(b64: str | None, alt: str) -> str:
    return "" if b64 is None else f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


def _no_timeline(s: PersonSeries) -> str:
    kinds = [k for k in s.classes if k not in HIDDEN_FROM_TIMELINE]
    return (f"<p>Timeline: no {html.escape(', '.join(kinds))} class reached {TIMELINE_SCORE:g}.</p>" if kinds
            else "<p>Timeline: no gesture, action or activity classes in this recording.</p>")


def _score(v) -> str:
    return "" if v is None else f"{float(v):.2f}"


def _events_table(events: list[tuple[float, dict]]) -> str:
    if not events:
        return "<p>No trigger events.</p>"
    rows = "".join(f"<tr><td>{t:.2f}</td><td>{html.escape(str(e.get('type', '')))}</td>"
                   f"<td>{html.escape(str(e.get('name', '')))}</td><td>{html.escape(str(e.get('state', '')))}</td>"
                   f"<td>{_score(e.get('value'))}</td></tr>" for t, e in events)
    return ("<table><thead><tr><th>time (s)</th><th>kind</th><th>class</th><th>state</th><th>score</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1040px;color:#222}}
img{{max-width:100%;display:block;margin:0.5em 0}}table{{border-collapse:collapse;font-size:0.9em}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}h2{{margin-top:1.5em}}</style></head>
<body><h1>{title}</h1><p>{summary}</p>{people}</body></html>
"""


def write_report(recording: str | Path, out: str | Path) -> Path:
    """Write the HTML report of `recording` to `out`; returns `out`."""
    require_matplotlib()
    recording, out = Path(recording), Path(out)
    reader, times, people = series(recording)
    step = 1.0 / reader.fps
    duration = times[-1] - times[0] + step
    source = reader.meta.get("video") or reader.meta.get("source") or recording.name
    parts = []
    for pid, s in sorted(people.items()):
        parts.append(f"<h2>Person {pid}</h2><p>{len(s.times)} frames, face tracked in {np.mean(s.found):.0%}; "
                     f"classes: {html.escape(', '.join(s.classes) or 'none')}</p>"
                     + _img(expression_plot(s), f"person {pid} expression probabilities")
                     + (_img(timeline_plot(s, step), f"person {pid} timeline") or _no_timeline(s))
                     + _img(coverage_plot(s, step), f"person {pid} tracking coverage")
                     + "<h3>Trigger events</h3>" + _events_table(s.events))
    summary = (f"{html.escape(str(source))}: {len(times)} frames, {duration:.1f} s at {reader.fps:.2f} fps, "
               f"{len(people)} person(s)" + (f"; {html.escape(reader.damage)}" if reader.damage else ""))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(PAGE.format(title=html.escape(f"Report: {recording.name}"), summary=summary,
                                   people="".join(parts)), encoding="utf-8")
    except OSError as e:
        raise BridgeError(f"cannot write report {out} ({e.strerror}): choose a writable path") from None
    return out
