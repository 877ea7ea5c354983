"""Soak: run the whole sidecar for a long time and report whether it leaks, stalls or loses frames.

The pipeline runs on a looping fixture video as fast as possible with VMC, VRChat OSC and the
WebSocket server on, and three WebSocket clients: a normal one, a deliberately slow one (sleeps
between reads) and one that disconnects and reconnects every few seconds. Reports frames read
and processed, frames sent per transport, frames each client skipped (and why), RSS at start
(after warm-up) and end, per-stage latency percentiles and the longest gap between two frames.
Usage: python bench/soak.py --minutes 30 [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VIDEO = ROOT.parent / "shared" / "fixtures" / "face" / "expressions_pexels.mp4"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Histogram:
    """Fixed-size latency histogram (0.01 ms bins up to 2 s): the soak's own bookkeeping must not
    grow, or it would show up as the sidecar's memory growth."""

    def __init__(self, bin_ms: float = 0.01, max_ms: float = 2000.0):
        self.bin_ms = bin_ms
        self.counts = np.zeros(int(max_ms / bin_ms) + 1, np.int64)
        self.max = 0.0

    def add(self, ms: float) -> None:
        self.counts[min(int(ms / self.bin_ms), len(self.counts) - 1)] += 1
        self.max = max(self.max, ms)

    def percentile(self, q: float) -> float:
        if q >= 100:
            return self.max
        c = np.cumsum(self.counts)
        return float(np.searchsorted(c, q / 100 * c[-1]) * self.bin_ms)


class Drain:
    """A UDP receiver standing in for the engine: counts datagrams."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stop.is_set():
            try:
                self.sock.recv(65536)
                self.count += 1
            except TimeoutError:
                pass


def client(port: int, kind: str, stop: threading.Event, stats: dict):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect
    stats.update(frames=0, reconnects=0, seq_gaps=0)
    last_seq = None
    while not stop.is_set():
        try:
            with connect(f"ws://127.0.0.1:{port}", open_timeout=5) as ws:
                t_open = time.monotonic()
                while not stop.is_set():
                    if kind == "reconnecting" and time.monotonic() - t_open > 5:
                        stats["reconnects"] += 1
                        break
                    try:
                        msg = json.loads(ws.recv(timeout=1))
                    except TimeoutError:
                        continue
                    if msg["type"] != "frame":
                        continue
                    stats["frames"] += 1
                    if last_seq is not None and msg["seq"] != last_seq + 1:
                        stats["seq_gaps"] += msg["seq"] - last_seq - 1
                    last_seq = msg["seq"]
                    if kind == "slow":
                        time.sleep(0.1)
        except (OSError, ConnectionClosed):
            time.sleep(0.2)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--warmup-s", type=float, default=30.0)
    ap.add_argument("--report-every-s", type=float, default=60.0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from bridge.config import from_tables
    from bridge.pipeline import Pipeline
    from bridge.sources import open_source

    drain = Drain()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    ws_port = s.getsockname()[1]
    s.close()
    cfg = from_tables({"source": {"loop": True, "fast": True}, "vmc": {"port": drain.port},
                       "vrchat": {"enabled": True, "port": drain.port}, "websocket": {"port": ws_port},
                       "calibration": {"profile": "/nonexistent/soak-profile.json"}})
    source = open_source(str(VIDEO), loop=True, fast=True)
    p = Pipeline(cfg, source)
    stop = threading.Event()
    clients = {k: {} for k in ("normal", "slow", "reconnecting")}
    t_start = time.monotonic()
    deadline = t_start + args.minutes * 60
    gaps = Histogram()
    stage: dict[str, Histogram] = {}
    state = {"last": None, "rss_warm": None, "next_report": t_start + args.report_every_s}
    rss_start = rss_mb()

    def on_frame(frame):
        now = time.monotonic()
        if state["last"] is not None:
            gaps.add((now - state["last"]) * 1000)
        state["last"] = now
        for k, v in frame.timings_ms.items():
            if k not in stage:
                stage[k] = Histogram()
            stage[k].add(v)
        if state["rss_warm"] is None and now - t_start > args.warmup_s:
            state["rss_warm"] = rss_mb()
        if now >= state["next_report"]:
            state["next_report"] += args.report_every_s
            print(f"[{(now - t_start) / 60:5.1f} min] frames {p.stats.frames}, {p.stats.fps:.1f} fps, RSS {rss_mb():.1f} MB,"
                  f" longest gap {gaps.max:.0f} ms", file=sys.stderr, flush=True)
        if now >= deadline:
            p.stop()

    p.listeners.append(on_frame)
    p.start_outputs()
    threads = [threading.Thread(target=client, args=(ws_port, k, stop, clients[k]), daemon=True) for k in clients]
    for t in threads:
        t.start()
    vmc = p.outputs.active["vmc"].sender
    vrc = p.outputs.active["vrchat"].sender
    ws = p.outputs.active["websocket"].server
    p.run()
    stop.set()
    time.sleep(1.0)
    drain.stop.set()
    elapsed = time.monotonic() - t_start
    rss_end = rss_mb()
    warm = state["rss_warm"] or rss_start
    pct = {k: {q: h.percentile(q) for q in (50, 95, 99, 100)} for k, h in stage.items()}
    result = {
        "minutes": elapsed / 60, "frames_processed": p.stats.frames, "fps": p.stats.frames / elapsed,
        "frames_read": source_frames(source),
        "vmc_datagrams_sent": vmc.packets, "vmc_send_errors": vmc.errors,
        "vrchat_datagrams_sent": vrc.packets, "udp_datagrams_received_by_drain": drain.count,
        "ws_frames_skipped_for_slow_clients": ws.frames_dropped, "ws_rejected_controls": ws.rejected_controls,
        "ws_clients": clients,
        "rss_mb": {"start": rss_start, "after_warmup": warm, "end": rss_end, "growth_after_warmup_pct": 100 * (rss_end - warm) / warm},
        "longest_gap_between_frames_ms": gaps.max,
        "gaps_over_100ms": int(gaps.counts[int(100 / gaps.bin_ms) + 1:].sum()),
        "stage_ms_percentiles": pct,
    }
    print(json.dumps(result, indent=2))
    print(f"frames lost by the pipeline: {result['frames_read'] - result['frames_processed']} "
          f"(read {result['frames_read']}, processed {result['frames_processed']}); "
          f"RSS growth after warm-up {result['rss_mb']['growth_after_warmup_pct']:.2f}% (target < 5%); "
          f"longest stall {result['longest_gap_between_frames_ms']:.0f} ms (target <= 100)", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def source_frames(source) -> int:
    return source.frames_read


if __name__ == "__main__":
    sys.exit(main())
