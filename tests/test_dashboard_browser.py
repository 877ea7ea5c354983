"""The dashboard in a real browser (Debian's Chromium, driven by Selenium), against a real sidecar.

Face only (`run` on the demo clip): values change as the video plays, the Tune panel stays empty
until a shape is picked, a mapping edit made in the page changes what an independent WebSocket
client receives, the skeleton says "body off" instead of drawing a T-pose, and the header says what
is tracked. With `demo --pose --hands`: `preview` messages carry pose and hand landmarks (checked
against the JSON Schema by an independent client) and the camera view draws them; at 1280x900 and
1920x1080 no label is cut; the two screenshots are saved as test artifacts (docs/ keeps a copy).
Without a sidecar, the page served by the sidecar's own WebSocket server and fed frames of two people
(encoded by `jsonframe.frame_message`, a hello without routes): it shows person 0, lists both in the
people panel, shows the person picked there and says when that person leaves the frame.
Several people tracked live, with boxes and names: test_dashboard_people.py.
"""
import dataclasses
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import jsonschema
import pytest
from websockets.sync.client import connect

from bridge.protocols import jsonframe
from bridge.protocols.jsonframe import schema
from conftest import ROOT

ARTIFACTS = Path(os.environ.get("AVATAR_BRIDGE_ARTIFACTS", ROOT / "test-artifacts"))
DEMO_CLIP = ROOT / "bridge" / "assets" / "demo_face.mp4"
SIZES = ((1280, 900), (1920, 1080))

# Every element that shows text or a value, whose content overflows its own box: a cut label.
CUT_LABELS = """
const cut = [];
for (const e of document.querySelectorAll("body *")) {
  if (!e.checkVisibility() || e.tagName === "SCRIPT" || e.tagName === "CANVAS") continue;
  const text = [...e.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  if ((text || ["INPUT", "SELECT", "BUTTON"].includes(e.tagName)) && e.scrollWidth > e.clientWidth)
    cut.push(`${e.tagName}#${e.id}.${e.className}: ${e.textContent || e.value || e.placeholder} (${e.scrollWidth} > ${e.clientWidth})`);
}
return cut;
"""
# Pixels of the camera canvas in the colour the page draws slot 1's pose lines / hand lines with.
DRAWN_PIXELS = """
const c = document.getElementById("cam"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
const count = (hex) => {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 30) n++;
  return n;
};
return [count(PALETTE[0].pose), count(PALETTE[0].hand)];
"""


def _sidecar(tmp_path, *args):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge.cli", *args, "--loop", "--no-vmc", "--ws", f"127.0.0.1:{port}", "-q"],
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
def face_only(tmp_path):
    yield from _sidecar(tmp_path, "run", "--source", str(DEMO_CLIP))


@pytest.fixture
def full_body(tmp_path):
    yield from _sidecar(tmp_path, "demo", "--pose", "--hands")


@pytest.fixture(scope="module")
def chrome(tmp_path_factory):
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail("Chromium not found: install Debian's chromium and chromium-driver (.ci/run does)")
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager try to download a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
              "--hide-scrollbars", "--window-size=1400,1000", f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chrome):
    """The shared browser; the page is left before its sidecar stops, so it does not log reconnect errors."""
    yield chrome
    chrome.get("about:blank")
    chrome.get_log("browser")


def _wait(fn, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _open(browser, port, size=(1400, 1000)):
    """Load the page with exactly this viewport (CSS pixels) and wait for frames."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False})
    browser.get(f"http://127.0.0.1:{port}/")
    assert browser.execute_script("return [innerWidth, innerHeight]") == list(size)
    _wait(lambda: browser.find_element("id", "conn").text == "connected", what="the page to connect")
    _wait(lambda: int(browser.find_element("id", "fps").text) > 3, what="frames")


def _shown(browser, element_id):
    return browser.find_element("id", element_id).is_displayed()


def _no_console_errors(browser):
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_dashboard_face_only_live_and_tunable(face_only, browser):
    port = face_only
    _open(browser, port)

    # the header says what is tracked; the latency says what it measures, with its unit
    _wait(lambda: browser.find_element("id", "face").text == "face on", what="the face to be tracked")
    assert browser.find_element("id", "body").text == "body off"
    assert "--pose" in browser.find_element("id", "body").get_attribute("title")
    assert browser.find_element("id", "hands").text == "hands off"
    lat = browser.find_element("id", "latency")
    assert lat.text.startswith("capture→page ") and lat.text.endswith(" ms"), lat.text
    assert 0 < float(browser.find_element("id", "lat").text) < 5000
    assert "capture" in lat.get_attribute("title") and "received" in lat.get_attribute("title")

    # no body tracked: no skeleton drawn (it would be a T-pose), "body off" instead
    assert not _shown(browser, "skel") and _shown(browser, "skel-off")
    assert "body off" in browser.find_element("id", "skel-off").text

    # no tuning fields until a shape is picked
    assert not any(e.is_displayed() for e in browser.find_elements("css selector", "#tune-fields input, #tune-fields button"))
    assert _shown(browser, "tune-hint")

    # values on the page change as the video plays
    def smile_text():
        return next(e.find_element("class name", "val").text for e in browser.find_elements("css selector", "#bars .bar")
                    if e.get_attribute("title") == "mouthSmileLeft")
    seen = set()
    _wait(lambda: seen.add(smile_text()) or len(seen) >= 3, what="mouthSmileLeft to change")
    _wait(lambda: browser.execute_script("return camSeq") >= 0, what="a camera preview")
    # the control for the full-body run's drawing check: with no pose and no hands, none of their colour
    assert browser.execute_script(DRAWN_PIXELS) == [0, 0]

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
                    got.append((time.time(), m["people"][0]["blendshapes"][idx]))

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    _wait(lambda: any(v > 0.3 for _, v in got), what="a broad smile before the edit")
    next(e for e in browser.find_elements("css selector", "#bars .bar") if e.get_attribute("title") == "mouthSmileLeft").click()
    assert _shown(browser, "t-max") and not _shown(browser, "tune-hint")
    assert browser.find_element("id", "selname").text == "mouthSmileLeft"
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
    _no_console_errors(browser)


def test_dashboard_full_body_preview_and_labels(full_body, browser):
    port = full_body

    # an independent client: previews carry pose and hand landmarks, valid against the schema
    validator = jsonschema.Draft202012Validator(schema())
    previews = []
    with connect(f"ws://127.0.0.1:{port}") as ws:
        ws.send(json.dumps({"type": "subscribe", "preview": True}))
        deadline = time.time() + 60
        while time.time() < deadline and not (any(p["pose"] for p in previews) and any(p["hands"] for p in previews)):
            m = json.loads(ws.recv(timeout=10))
            if m["type"] == "preview":
                validator.validate(m)
                previews.append(m)
    with_pose = [p for p in previews if p["pose"]]
    with_hands = [p for p in previews if p["hands"]]
    assert with_pose and with_hands, f"{len(previews)} previews, {len(with_pose)} with a body, {len(with_hands)} with hands"
    p = next((p for p in with_pose if p["landmarks"]), None)
    assert p is not None, "no preview with both a face and a body"
    assert len(p["pose"]) == 66 and len(p["pose_visibility"]) == 33
    nose, face = p["pose"][0:2], p["landmarks"]
    assert min(face[0::2]) < nose[0] < max(face[0::2]) and min(face[1::2]) < nose[1] < max(face[1::2]), \
        "the pose's nose is not inside the face landmarks: not the same image coordinates"
    assert all(len(h["landmarks"]) == 42 and h["side"] in ("left", "right") for h in with_hands[0]["hands"])

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        _open(browser, port, size)
        # the camera view draws the body and the hands; the header and skeleton say they are tracked
        _wait(lambda: browser.execute_script(DRAWN_PIXELS)[0] > 20, what="pose landmarks drawn on the camera view")
        _wait(lambda: browser.execute_script(DRAWN_PIXELS)[1] > 20 and browser.find_element("id", "hands").text == "hands on",
              timeout=60, what="hand landmarks drawn on the camera view and 'hands on'")
        browser.save_screenshot(str(ARTIFACTS / f"dashboard-{size[0]}x{size[1]}.png"))
        assert browser.find_element("id", "body").text == "body on"
        assert _shown(browser, "skel") and not _shown(browser, "skel-off")
        assert "gesture: dislike" in browser.find_element("id", "classes").text  # every list is populated
        cut = browser.execute_script(CUT_LABELS)
        assert not cut, f"labels cut at {size[0]}x{size[1]}: {cut}"
        # the Tune panel's fields fit too, once shown
        browser.find_element("css selector", "#bars .bar[title=mouthLowerDownRight]").click()
        assert _shown(browser, "t-rename")
        assert not browser.execute_script(CUT_LABELS), f"Tune fields cut at {size[0]}x{size[1]}"
    _no_console_errors(browser)


def _golden_frame():
    spec = importlib.util.spec_from_file_location("vector_generate", ROOT / "tests" / "vectors" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.golden_frame()


def _bar_value(browser, name):
    return next(e.find_element("class name", "val").text for e in browser.find_elements("css selector", "#bars .bar")
                if e.get_attribute("title") == name)


def _panel(browser):
    """The people panel's rows: (id, text), read at once (the panel is rebuilt when it changes)."""
    return [(i, " ".join(t.split())) for i, t in browser.execute_script(
        "return [...document.querySelectorAll('#people .person')].map((e) => [Number(e.dataset.id), e.innerText])")]


def test_dashboard_reads_the_people_list(browser):
    """Frames from the sidecar's encoder and WebSocket server (no pipeline), a hello without routes
    (as a one-person sidecar of schema 2 sent): the page shows the first person, the panel lists both
    people, the one picked there is shown (values and events), and a picked person who leaves the
    frame is said to be away."""
    from bridge.transports.websocket import WebSocketServer

    gf = _golden_frame()
    p0 = gf.people[0]
    smile = p0.blend_names.index("mouthSmileLeft")
    values = p0.blend_values.copy()
    values[smile] = 0.75
    p4 = dataclasses.replace(p0, id=4, blend_values=values,
                             events=[{"type": "action", "name": "wave"}], classes={"expression": {"surprised": 0.6}})
    p0 = dataclasses.replace(p0, events=[])
    frames = {"both": dataclasses.replace(gf, people=[p0, p4]), "one": dataclasses.replace(gf, people=[p0])}
    state = {"now": "one"}

    def submit(control, fut):
        fut.set_result((True, "ok"))

    page = (ROOT / "bridge" / "dashboard" / "index.html").read_bytes()
    server = WebSocketServer("127.0.0.1", 0, jsonframe.hello(p0.blend_names, p0.bone_names, mirror=True), submit,
                             pages={"/": ("text/html; charset=utf-8", page)})
    server.start()
    stop = threading.Event()

    def publish():
        seq = 0
        while not stop.is_set():
            f = frames[state["now"]]
            f.seq = seq = seq + 1
            f.capture_time = time.time()
            message = jsonframe.frame_message(f)
            assert json.loads(message)["v"] == jsonframe.SCHEMA_VERSION
            server.publish_frame(message, has_events=any(p.events for p in f.people))
            time.sleep(0.03)

    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    try:
        _open(browser, server.port)
        # one person: the panel lists them, driving every output (no routes in the hello); their values
        _wait(lambda: browser.find_element("id", "face").text == "face on", what="person 0's face")
        _wait(lambda: _panel(browser) == [(0, "slot 1 id 0 found drives: every output")], what="person 0 listed")
        expected0 = f"{float(p0.blend_values[smile]):.2f}"
        _wait(lambda: _bar_value(browser, "mouthSmileLeft") == expected0, what="person 0's mouthSmileLeft")

        # two people: the panel lists both, the page still shows the first until another is picked
        state["now"] = "both"
        _wait(lambda: [i for i, _ in _panel(browser)] == [0, 4], what="both people listed")
        assert browser.find_element("css selector", "#people .person.sel").get_attribute("data-id") == "0"
        assert _bar_value(browser, "mouthSmileLeft") == expected0
        browser.find_element("css selector", "#people .person[data-id='4']").click()
        _wait(lambda: _bar_value(browser, "mouthSmileLeft") == "0.75", what="person 4's mouthSmileLeft")
        assert browser.find_element("css selector", "#people .person.sel").get_attribute("data-id") == "4"
        assert browser.find_element("id", "avatar-who").text == "(slot 1, id 4)"
        _wait(lambda: "expression: surprised" in browser.find_element("id", "classes").text, what="person 4's classes")
        _wait(lambda: "person 4: action wave" in browser.find_element("id", "log").text, what="person 4's event logged")

        # person 4 leaves: the page says so, keeps them listed and keeps the last values
        state["now"] = "one"
        _wait(lambda: browser.find_element("id", "face").text == "no person", what="'no person'")
        assert "person 4 is not in this frame" in browser.find_element("id", "face").get_attribute("title")
        assert [t.split(" drives")[0] for _, t in _panel(browser)] == ["slot 1 id 0 found", "slot 1 id 4 not in view"]
        assert _bar_value(browser, "mouthSmileLeft") == "0.75"
        browser.find_element("css selector", "#people .person[data-id='0']").click()
        _wait(lambda: _bar_value(browser, "mouthSmileLeft") == expected0, what="back to person 0")
        _wait(lambda: [i for i, _ in _panel(browser)] == [0], what="only person 0 listed once they are picked")
        _no_console_errors(browser)
    finally:
        stop.set()
        publisher.join(timeout=5)
        browser.get("about:blank")
        _wait(lambda: server.client_count == 0, timeout=10, what="the page to disconnect")
        # Chromium keeps a speculative connection open without a request; the server drops it at its
        # 10 s handshake timeout. Stopping before that would leave its handler pending in this process.
        _wait(lambda: not server._server.handler_tasks, timeout=15, what="idle connections to close")
        server.stop()
