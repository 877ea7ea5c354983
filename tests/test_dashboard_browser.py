"""The dashboard in a real browser (Debian's Chromium, driven by Selenium): it loads without console
errors, shows values that change as the fixture video plays, and a mapping edit made in the page
changes what an independent WebSocket client receives. Saves a screenshot as a test artifact."""
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from conftest import ROOT

ARTIFACTS = Path(os.environ.get("AVATAR_BRIDGE_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.fixture
def sidecar(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge.cli", "run", "--source", str(ROOT / "bridge" / "assets" / "demo_face.mp4"),
         "--loop", "--no-vmc", "--ws", f"127.0.0.1:{port}", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)})
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.communicate(timeout=30)


@pytest.fixture
def browser(tmp_path):
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail("Chromium not found: install Debian's chromium and chromium-driver (.ci/run does)")
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager try to download a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
              "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chrome'}"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    yield driver
    driver.quit()


def _wait(fn, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_dashboard_live_and_tunable(sidecar, browser):
    port = sidecar
    browser.get(f"http://127.0.0.1:{port}/")
    _wait(lambda: browser.find_element("id", "conn").text == "connected", what="the page to connect")
    _wait(lambda: int(browser.find_element("id", "fps").text) > 5, what="frames")

    # values on the page change as the video plays
    def smile_text():
        return next(e.find_element("class name", "val").text for e in browser.find_elements("css selector", "#bars .bar")
                    if e.get_attribute("title") == "mouthSmileLeft")
    seen = set()
    _wait(lambda: seen.add(smile_text()) or len(seen) >= 3, what="mouthSmileLeft to change")
    _wait(lambda: browser.execute_script("return camSeq") >= 0, what="a camera preview")

    # an independent client watches mouthSmileLeft while the page clamps it to at most 0.1
    got = []
    stop = threading.Event()

    def watch():
        with connect(f"ws://127.0.0.1:{port}") as ws:
            idx = None
            while not stop.is_set():
                m = json.loads(ws.recv(timeout=5))
                if m["type"] == "hello":
                    idx = m["channels"]["blendshapes"].index("mouthSmileLeft")
                elif m["type"] == "frame" and idx is not None:
                    got.append((time.time(), m["blendshapes"][idx]))

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    _wait(lambda: any(v > 0.3 for _, v in got), what="a broad smile before the edit")
    next(e for e in browser.find_elements("css selector", "#bars .bar") if e.get_attribute("title") == "mouthSmileLeft").click()
    box = browser.find_element("id", "t-max")
    box.clear()
    box.send_keys("0.1\n")
    browser.execute_script("document.getElementById('t-max').dispatchEvent(new Event('change'))")
    _wait(lambda: "set_shape applied" in browser.find_element("id", "msg").text, what="the sidecar to accept the edit")
    t_edit = time.time()
    time.sleep(2.0)
    stop.set()
    t.join(timeout=10)
    after = [v for ts, v in got if ts > t_edit + 0.2]
    assert after and max(after) <= 0.1 + 1e-6

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
