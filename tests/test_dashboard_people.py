"""The dashboard with two people, in a real browser (Debian's Chromium, software WebGL), against a real
sidecar: `run --people 2 --identify on` on real two-person footage (multi_person_media.crossing: two
real clips that cross, B leaves and comes back), with "alice" enrolled from A's clip by `enroll` and a
VMC port of her own in the config.

Checked in the page, against an independent WebSocket client's copy of the same messages (each valid
against the JSON Schema) and the footage's ground truth: the camera view draws a box per person at the
preview's box, tagged with their id, slot and name; the tag "alice" is on A and "unknown" on B; each
person's face landmarks are drawn in their own slot's colour inside their face and the other's colour
is not; the people panel lists both, found, with the outputs each drives (alice her own VMC port, the
other their slot's) and no label is cut; clicking a box, then a panel row, switches the avatar to that person (the avatar
probe's records carry the person applied).

Without a browser: the preview encoder's messages for the people that the real multi-person trackers
and tracking/people.py find in the fixtures' photo of several faces, and for nobody.
"""
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import jsonschema
import numpy as np
import pytest
from websockets.sync.client import connect

from browser_env import severe_logs, wait_for, wait_for_port, wide_chrome
from bridge.frame import FaceState, Person
from bridge.preview import PreviewEncoder
from bridge.protocols.jsonframe import schema
from bridge.tracking.combined import Observations
from bridge.tracking.multi import MultiTrackers, MultiTrackerSettings
from bridge.tracking.people import PeopleSettings, PeopleTracker
from conftest import FACE, FIXTURES, ROOT, free_port
from multi_person_media import FACE_A, crossing
from test_dashboard_browser import CUT_LABELS

ARTIFACTS = Path(os.environ.get("AVATAR_BRIDGE_ARTIFACTS", ROOT / "test-artifacts"))

# What the page shows at once (one script: the preview on screen, its boxes and pixels cannot change
# in between): the shown preview's seq; the boxes (position in fractions of the camera view, tag);
# per person of that preview, the pixels of every slot's face colour inside that person's face.
SNAPSHOT = """
if (!camShown || !camShown.people) return null;
const c = document.getElementById("cam"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
const layer = document.getElementById("cam-boxes").getBoundingClientRect();
const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const faceColours = PALETTE.map((p) => rgb(p.face));
const faces = camShown.people.filter((v) => v.landmarks.length).map((v) => {
  const xs = v.landmarks.filter((_, i) => i % 2 === 0), ys = v.landmarks.filter((_, i) => i % 2 === 1);
  const [x0, x1, y0, y1] = [Math.min(...xs) * c.width, Math.max(...xs) * c.width, Math.min(...ys) * c.height, Math.max(...ys) * c.height];
  const counts = faceColours.map(() => 0);
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(c.height, Math.ceil(y1)); y++)
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(c.width, Math.ceil(x1)); x++) {
      const i = 4 * (y * c.width + x);
      faceColours.forEach(([r, g, b], k) => { if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 30) counts[k]++; });
    }
  return {id: v.id, counts};
});
const boxes = [...document.querySelectorAll("#cam-boxes .pbox")].map((e) => {
  const r = e.getBoundingClientRect();
  return {id: Number(e.dataset.id), slot: Number(e.dataset.slot), tag: e.querySelector(".tag").textContent,
          colour: getComputedStyle(e).borderTopColor,
          box: [(r.left - layer.left) / layer.width, (r.top - layer.top) / layer.height,
                (r.right - layer.left) / layer.width, (r.bottom - layer.top) / layer.height]};
});
const rows = [...document.querySelectorAll("#people .person")].map((e) => ({
  id: Number(e.dataset.id), slot: Number(e.dataset.slot), sel: e.classList.contains("sel"),
  name: e.querySelector(".pname").textContent, state: e.querySelector(".pstate").textContent,
  routes: e.querySelector(".routes").textContent}));
return {seq: camShown.seq, boxes, faces, rows, palette: PALETTE};
"""


@pytest.fixture(scope="module")
def chrome(tmp_path_factory):
    yield from wide_chrome(tmp_path_factory)


@pytest.fixture
def two_people(tmp_path):
    """The real sidecar on the crossing footage, two people, alice enrolled with a VMC port of her own."""
    clip = crossing(FIXTURES, tmp_path)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    enrol = subprocess.run([sys.executable, "-m", "bridge.cli", "enroll", "alice", "--source", str(FIXTURES / FACE_A), "-q"],
                           env=env, capture_output=True, text=True, timeout=300)
    assert enrol.returncode == 0, enrol.stderr
    vmc, alice = free_port(), free_port()
    config = tmp_path / "config.toml"
    config.write_text(f"[vmc]\nnames = {{ alice = {alice} }}\n")
    port = free_port(socket.SOCK_STREAM)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge.cli", "run", "--source", str(clip.path), "--loop", "--people", "2",
         "--identify", "on", "--pose", "--hands", "--config", str(config), "--vmc", f"127.0.0.1:{vmc}",
         "--ws", f"127.0.0.1:{port}", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    wait_for_port(proc, port, 120)
    yield port, clip, vmc, alice
    proc.terminate()
    proc.communicate(timeout=30)


class Listener:
    """An independent client: every hello, frame and preview the sidecar sends, checked against the schema."""

    def __init__(self, port):
        self.validator = jsonschema.Draft202012Validator(schema())
        self.hello, self.frames, self.previews, self.errors = None, {}, {}, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(port,), daemon=True)
        self._thread.start()

    def _run(self, port):
        try:
            with connect(f"ws://127.0.0.1:{port}", max_size=None) as ws:
                ws.send(json.dumps({"type": "subscribe", "preview": True}))
                while not self._stop.is_set():
                    m = json.loads(ws.recv(timeout=10))
                    self.validator.validate(m)
                    if m["type"] == "hello":
                        self.hello = m
                    elif m["type"] == "frame":
                        self.frames[m["seq"]] = m
                    elif m["type"] == "preview":
                        self.previews[m["seq"]] = m
        except Exception as e:  # reported by the test, not lost in the thread
            self.errors.append(repr(e))

    def close(self):
        self._stop.set()
        self._thread.join(timeout=15)


def _click(browser, selector, done, tries=5):
    """A real mouse click (press and release) at the middle of the element, on whatever the page has
    on top there, until `done()`: the boxes move with the people, so each try looks where it is now."""
    hit = []
    for _ in range(tries):
        x, y = wait_for(lambda: browser.execute_script(
            "const e = document.querySelector(arguments[0]); if (!e) return null;"
            "const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];", selector),
            60, f"{selector} on the page")
        hit.append(browser.execute_script("const e = document.elementFromPoint(arguments[0], arguments[1]);"
                                          "return e && e.outerHTML.slice(0, 120)", x, y))
        for kind in ("mousePressed", "mouseReleased"):
            browser.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
        try:
            return wait_for(done, 5, "the click's effect")
        except AssertionError:
            continue
    raise AssertionError(f"{tries} clicks on {selector} had no effect; under the pointer: {hit}")


def _selected(browser):
    return browser.execute_script("return [...document.querySelectorAll('#people .person.sel')].map((e) => Number(e.dataset.id))")


def _face_x(view):
    return (min(view["landmarks"][0::2]) + max(view["landmarks"][0::2])) / 2


def _wanted(snap, listener, clip):
    """The snapshot's preview and video frame when it shows both people apart, each named and with a
    face; else None."""
    if snap is None or len(snap["boxes"]) != 2:
        return None
    preview, frame = listener.previews.get(snap["seq"]), listener.frames.get(snap["seq"])
    if preview is None or frame is None:
        return None
    k = round(frame["source_t"] * clip.fps) % clip.frames
    people = preview["people"]
    if not (clip.apart(k) and len(people) == 2 and all(v["landmarks"] and v["box"] for v in people)
            and sorted(v["name"] for v in people) == ["alice", "unknown"]):
        return None
    return preview, k


def test_two_people_boxes_names_panel_and_pick(two_people, chrome):
    port, clip, vmc, alice_port = two_people
    listener = Listener(port)
    browser = chrome
    try:
        browser.get(f"http://127.0.0.1:{port}/?probe=1")
        wait_for(lambda: browser.find_element("id", "conn").text == "connected", 30, "the page to connect")

        def shown():
            snap = browser.execute_script(SNAPSHOT)
            wanted = _wanted(snap, listener, clip)
            return wanted and (snap, *wanted)

        snap, preview, k = wait_for(shown, 240, "a preview of both people apart, alice named, on the page")
        assert not listener.errors, listener.errors

        # the hello routes slots 1 and 2 to the --vmc port and the next, alice to her own port
        routes = listener.hello["people"]
        assert routes["max"] == 2
        assert {"slot": 1, "outputs": [f"VMC udp://127.0.0.1:{vmc}"]} in routes["routes"]
        assert {"slot": 2, "outputs": [f"VMC udp://127.0.0.1:{vmc + 1}"]} in routes["routes"]
        assert {"name": "alice", "outputs": [f"VMC udp://127.0.0.1:{alice_port}"]} in routes["routes"]

        # one box per person of the preview on screen, where the preview says, tagged with id, slot and name
        by_id = {v["id"]: v for v in preview["people"]}
        assert sorted(b["id"] for b in snap["boxes"]) == sorted(by_id)
        for b in snap["boxes"]:
            v = by_id[b["id"]]
            assert b["slot"] == v["slot"]
            assert max(abs(x - y) for x, y in zip(b["box"], v["box"])) < 0.01, (b["box"], v["box"])
            head, _, similarity = b["tag"].rpartition(" (")
            assert head == f"id {v['id']} · slot {v['slot']} · {v['name']}", b["tag"]
            assert abs(float(similarity.rstrip(")")) - v["similarity"]) <= 0.005 + 1e-9, (b["tag"], v["similarity"])
        assert len({b["colour"] for b in snap["boxes"]}) == 2, "both boxes in one colour"
        # ground truth: the person named alice is A (her clip was enrolled), the unknown one is B
        who = {v["name"]: clip.who_at(k, _face_x(v)) for v in preview["people"]}
        assert who == {"alice": "A", "unknown": "B"}, f"video frame {k}: {who}"

        # each face drawn in its own slot's face colour, and none of the other's inside it
        for f in snap["faces"]:
            own = by_id[f["id"]]["slot"] - 1
            other = 1 - own
            assert f["counts"][own] > 50 and f["counts"][other] == 0, (f, snap["palette"])

        # the panel: both people found, with the outputs each drives
        rows = {r["id"]: r for r in snap["rows"]}
        assert sorted(rows) == sorted(by_id)
        for pid, v in by_id.items():
            r = rows[pid]
            assert r["slot"] == v["slot"] and r["state"] == "found"
            assert r["name"].startswith(v["name"] + " (")
            want = alice_port if v["name"] == "alice" else vmc + v["slot"] - 1
            assert r["routes"] == f"drives: VMC udp://127.0.0.1:{want}", r
        first = min(by_id.values(), key=lambda v: v["slot"])
        assert [r["id"] for r in snap["rows"] if r["sel"]] == [first["id"]], "the first person is shown before any pick"
        assert not browser.execute_script(CUT_LABELS), "labels cut"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "dashboard-people.png"))

        # a click on the other person's box tag, then on the first's panel row: the avatar follows
        other = next(v for v in by_id.values() if v["id"] != first["id"])
        wait_for(lambda: browser.execute_script("return typeof avatarProbe !== 'undefined'"), 60, "the 3D avatar")
        for target, where in ((other, f"#cam-boxes .pbox[data-id='{other['id']}'] .tag"),
                              (first, f"#people .person[data-id='{first['id']}']")):
            _click(browser, where, lambda: _selected(browser) == [target["id"]])
            assert f"id {target['id']}" in browser.find_element("id", "avatar-who").text
            picked_at = browser.execute_script("return latest.seq")
            applied = []
            wait_for(lambda: applied.extend(r for r in browser.execute_script("return avatarProbe.take()")
                                            if r["seq"] > picked_at) or len(applied) >= 3, 90, "frames applied to the avatar")
            assert {r["id"] for r in applied} == {target["id"]}, f"the avatar shows {[r['id'] for r in applied]}"
        assert not severe_logs(browser), severe_logs(browser)
    finally:
        listener.close()
        browser.get("about:blank")


def _published(encoder, got, seq, rgb, views):
    n = len(got)
    encoder.offer(seq, rgb, views)
    wait_for(lambda: len(got) > n, 10, f"preview {seq}")
    return json.loads(got[-1])


def test_preview_carries_every_person():
    rgb = cv2.cvtColor(cv2.imread(str(FACE / "multi_face.jpg")), cv2.COLOR_BGR2RGB)
    trackers = MultiTrackers(MultiTrackerSettings(people=4, pose=False, hands=False), still_images=True)
    try:
        obs = trackers.process(rgb, 0)
    finally:
        trackers.close()
    tracks = PeopleTracker(PeopleSettings(people=4)).update(obs.poses, obs.faces, obs.hands, 0.0, rgb)
    assert len(tracks) >= 2, f"{len(tracks)} people found in the photo of several faces"
    views = []
    for tr in tracks:
        person = Person(tr.id, FaceState.neutral(), FaceState.neutral(), (), np.zeros(0, np.float32), slot=tr.slot,
                        box=tr.box, name="unknown" if tr.slot == 2 else None, similarity=0.4321 if tr.slot == 2 else float("nan"))
        views.append((person, Observations(obs.faces[tr.face_index])))
    got = []
    encoder = PreviewEncoder(got.append, max_hz=1000)
    validator = jsonschema.Draft202012Validator(schema())
    try:
        m = _published(encoder, got, 7, rgb, views)
        validator.validate(m)
        assert [v["slot"] for v in m["people"]] == [tr.slot for tr in tracks]
        for v, tr in zip(m["people"], tracks):
            face = obs.faces[tr.face_index].landmarks
            assert v["id"] == tr.id
            np.testing.assert_allclose(v["box"], tr.box, atol=1e-4)
            np.testing.assert_allclose(np.reshape(v["landmarks"], (-1, 2)), face[:, :2], atol=6e-4)
            assert (v["name"], v["similarity"]) == (("unknown", 0.432) if tr.slot == 2 else (None, None))
            assert v["pose"] == [] and v["pose_visibility"] == [] and v["hands"] == []
        assert m["landmarks"] == m["people"][0]["landmarks"], "the top level is not the first person's"

        nobody = _published(encoder, got, 8, rgb, [])
        validator.validate(nobody)
        assert nobody["people"] == [] and nobody["landmarks"] == [] and nobody["pose"] == []
        assert (nobody["w"], nobody["h"]) == (m["w"], m["h"]) == (320, round(rgb.shape[0] * 320 / rgb.shape[1]))
    finally:
        encoder.close()
