"""The dashboard in a real browser, for tests and bench/fidelity.py: Debian's Chromium through
Selenium, the real sidecar serving it, and the page probe's records collected."""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2

from conftest import FIXTURES

GESTURES = FIXTURES / "gesture"  # HaGRID photos: hands close up, for the fingers
HOLD, HOLD_FPS, SETTLED = 10, 10.0, 5  # each photo held 10 frames at 10 fps; its last 5 are compared


def chrome_driver(user_data: Path, webgl: bool = True):
    """Debian's Chromium, headless, through Selenium; with `webgl`, SwiftShader's software WebGL."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        raise RuntimeError("Chromium not found: install Debian's chromium and chromium-driver (.ci/run does)")
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager try to download a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
              "--hide-scrollbars", "--window-size=1400,1000", f"--user-data-dir={user_data}",
              *(("--use-angle=swiftshader", "--enable-unsafe-swiftshader") if webgl else ("--disable-gpu",))):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def wide_chrome(tmp_path_factory):
    """A module's browser at the dashboard's desktop size (1400 x 1000); quits after the module."""
    driver = chrome_driver(tmp_path_factory.mktemp("chrome"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    yield driver
    driver.quit()


def wait_for_port(proc: subprocess.Popen, port: int, timeout: float) -> None:
    """Until the sidecar `proc` accepts TCP on `port`; fails with its stderr if it exits first."""
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert proc.poll() is None, proc.stderr.read()
            assert time.time() < deadline, "the sidecar did not open its WebSocket port"
            time.sleep(0.2)


def wait_for(fn, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def severe_logs(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def run_sidecar(clip: Path, config: Path, *extra: str):
    """The real sidecar on `clip`, looping at the clip's frame rate, face, body and hands on; yields its port."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge.cli", "run", "--source", str(clip), "--loop", "--pose", "--hands", "--mirror",
         "--no-vmc", "--ws", f"127.0.0.1:{port}", "-q", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, "XDG_CONFIG_HOME": str(config)})
    wait_for_port(proc, port, 90)
    yield port
    proc.terminate()
    proc.communicate(timeout=30)


def gesture_clip(out: Path) -> Path:
    """One portrait photo of each gesture class, each held HOLD frames, as an MJPG video."""
    size = (512, 683)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), HOLD_FPS, size)
    for cls in sorted(p for p in GESTURES.iterdir() if p.is_dir()):
        image = next(im for im in map(cv2.imread, map(str, sorted(cls.glob("*.jpg")))) if im.shape[:2] == size[::-1])
        for _ in range(HOLD):
            writer.write(image)
    writer.release()
    return out


def collect(browser, wanted, fps, nframes, keep, timeout=150):
    """Probe records of frames `keep(video frame index)` accepts, until `wanted` distinct video frames
    were applied, each record tagged with its video frame (the clip's fps; source_t runs on across loops)."""
    records, seen = [], set()
    deadline = time.time() + timeout
    while len(seen) < wanted:
        assert time.time() < deadline, f"only {len(seen)} of {wanted} wanted video frames applied in {timeout} s"
        time.sleep(1.0)
        for r in browser.execute_script("return avatarProbe.take()"):
            r["frame"] = round(r["source_t"] * fps) % nframes
            if keep(r["frame"]):
                records.append(r)
                seen.add(r["frame"])
    return records
