"""`avatar-bridge run --people 2` on real two-person footage, as a user runs it: two avatars on two VMC
ports (read back by liblo's oscdump), every person in the WebSocket frames with a stable id, and the
enrolled person's name.

The footage is tests/multi_person_media.py's crossing clip: two real people (A from
face/expressions_pexels.mp4, B from face/single_face.mp4) who stand apart, cross (A in front), stand
on the other side, and B leaves for 1.5 s and comes back. VRChat OSC is sent too, for slot 2 only. A is enrolled from the first 3 s of her own
source clip (frames the crossing clip also starts with, at another scale and crop); B is not.
"""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from websockets.sync.client import connect

from conftest import FIXTURES, Oscdump, cli, free_port
from multi_person_media import FACE_A, crossing, twins

SHAPE = "jawOpen"


def _ws_frames(port: int, out: list, hello: list, stop: threading.Event) -> None:
    """Every message of one client, connecting as soon as the server is up."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not stop.is_set():
        try:
            with connect(f"ws://127.0.0.1:{port}", open_timeout=2) as ws:
                for raw in ws:
                    msg = json.loads(raw)
                    (hello if msg["type"] == "hello" else out).append(msg)
            return
        except OSError:
            time.sleep(0.05)
        except Exception:  # noqa: BLE001 - the server closing at the end of the clip
            return


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory):
    """The crossing clip and a people file with A enrolled as Ann."""
    folder = tmp_path_factory.mktemp("multi_run")
    clip = crossing(FIXTURES, folder)
    store = folder / "people.json"
    enrol = cli("enroll", "Ann", "--source", str(FIXTURES / FACE_A), "--seconds", "3", "--store", str(store), "-q")
    assert enrol.returncode == 0, enrol.stderr
    return folder, clip, store


@pytest.fixture(scope="module")
def run(enrolled):
    folder, clip, store = enrolled
    config = folder / "config.toml"
    config.write_text(f'[tracking]\npeople_file = "{store}"\nidentify = "on"\n[vrchat]\nperson = 2\n')
    vmc, ws, vrchat = free_port(), free_port(), free_port()
    while len({vmc, vmc + 1, ws, vrchat}) < 4:
        ws, vrchat = free_port(), free_port()
    dumps = [Oscdump(vmc), Oscdump(vmc + 1), Oscdump(vrchat)]
    frames, hello, stop = [], [], threading.Event()
    client = threading.Thread(target=_ws_frames, args=(ws, frames, hello, stop), daemon=True)
    client.start()
    proc = cli("run", "--source", str(clip.path), "--people", "2", "--vmc", f"127.0.0.1:{vmc}",
               "--ws", f"127.0.0.1:{ws}", "--vrchat", f"127.0.0.1:{vrchat}", "--config", str(config), "-q",
               timeout=180)
    stop.set()
    client.join(timeout=10)
    lines = [d.stop() for d in dumps]
    assert proc.returncode == 0, proc.stderr
    return clip, frames, hello, lines, vmc


def _shape_values(lines: list[str]) -> np.ndarray:
    """The values of SHAPE in every bundle oscdump printed, in order."""
    return np.array([float(ln.split()[-1]) for ln in lines if f'"{SHAPE}"' in ln and "/VMC/Ext/Blend/Val" in ln])


def _by_slot(frames: list[dict], slot: int) -> list[dict | None]:
    return [next((p for p in f["people"] if p["slot"] == slot), None) for f in frames]


def test_hello_tells_where_each_slot_goes(run):
    _, _, hello, _, vmc = run
    assert hello and hello[0]["v"] == 3
    routes = hello[0]["people"]
    assert routes["max"] == 2
    vrchat = next(o for o in routes["routes"][1]["outputs"] if o.startswith("VRChat OSC"))
    assert routes["routes"] == [{"slot": 1, "outputs": [f"VMC udp://127.0.0.1:{vmc}"]},
                                {"slot": 2, "outputs": [f"VMC udp://127.0.0.1:{vmc + 1}", vrchat]}]


def test_two_avatars_are_driven_on_two_ports_each_by_their_own_person(run):
    clip, frames, _, lines, _ = run
    assert len(frames) >= 0.8 * len(clip.centre_x)
    k = _shape_index(run)
    for slot, got in ((1, lines[0]), (2, lines[1])):
        sent = _shape_values(got)
        assert len(sent) >= 0.9 * len(clip.centre_x), f"slot {slot}: {len(sent)} bundles"
        people = [p for p in _by_slot(frames, slot) if p is not None]
        assert len(people) >= 0.8 * len(frames)
        # every value the WebSocket frames carry for this slot was sent on this slot's port
        ws_values = np.array([p["blendshapes"][k] for p in people])
        nearest = np.abs(ws_values[:, None] - sent[None, :]).min(axis=1)
        assert np.median(nearest) < 1e-4 and np.mean(nearest < 1e-4) > 0.95, (slot, np.sort(nearest)[-5:])
    a, b = _shape_values(lines[0]), _shape_values(lines[1])
    n = min(len(a), len(b))
    assert np.mean(np.abs(a[:n] - b[:n]) > 1e-3) > 0.5  # two people's faces, not one copied


def _shape_index(run) -> int:
    return run[2][0]["channels"]["blendshapes"].index(SHAPE)


def test_ids_stay_with_their_person_through_the_crossing_and_the_return(run):
    clip, frames, _, _, _ = run
    owner: dict[int, str] = {}  # slot -> the source it follows
    wrong, checked = 0, 0
    ids: dict[int, set[int]] = {1: set(), 2: set()}
    for f in frames:
        k = f["seq"]
        if k >= len(clip.centre_x) or not clip.apart(k):
            continue
        for p in f["people"]:
            ids[p["slot"]].add(p["id"])
            if p["box"] is None:
                continue
            who = clip.who_at(k, (p["box"][0] + p["box"][2]) / 2)
            if who is None:
                continue
            owner.setdefault(p["slot"], who)
            checked += 1
            wrong += owner[p["slot"]] != who
    assert sorted(owner.values()) == ["A", "B"], owner
    assert checked > 100 and wrong == 0, (wrong, checked)
    assert all(len(v) == 1 for v in ids.values()), ids  # one id per slot for the whole clip, B's return included


def test_one_persons_absence_does_not_disturb_the_other(run):
    clip, frames, _, _, _ = run
    slot_b = next(p["slot"] for f in frames for p in f["people"]
                  if p["box"] and f["seq"] < len(clip.centre_x) and clip.apart(f["seq"])
                  and clip.who_at(f["seq"], (p["box"][0] + p["box"][2]) / 2) == "B")
    slot_a = 3 - slot_b
    away = [f for f in frames if f["seq"] < len(clip.centre_x) and np.isnan(clip.centre_x[f["seq"], 1])]
    assert len(away) >= 10
    b, a = _by_slot(away, slot_b), _by_slot(away, slot_a)
    assert all(p is not None and p["face"]["found"] for p in a)  # A tracked all along
    assert any(p is None or not p["face"]["found"] for p in b)  # B lost while away
    k = _shape_index(run)
    assert np.ptp([p["blendshapes"][k] for p in a]) > 0.01 or \
        np.ptp([p["face"]["head_rot"][1] for p in a]) > 0.005  # and A's avatar keeps moving


def test_the_enrolled_person_is_named_and_the_other_is_unknown(run):
    clip, frames, _, _, _ = run
    names = {1: [], 2: []}
    for f in frames:
        for p in f["people"]:
            names[p["slot"]].append((f["seq"], p["name"], p["similarity"]))
    final = {s: v[-1][1] for s, v in names.items()}
    assert sorted(final.values()) == ["Ann", "unknown"], final
    ann = next(s for s, n in final.items() if n == "Ann")
    settled = [seq for seq, name, _ in names[ann] if name == "Ann"]
    assert settled and settled[0] <= 3 * clip.fps  # named within 3 s of appearing
    after = [name for seq, name, _ in names[ann] if seq >= settled[0]]
    assert set(after) == {"Ann"}  # and the label never flickers back
    other = 3 - ann
    assert {name for _, name, _ in names[other]} == {"unknown"}
    sims = [s for _, _, s in names[other] if s is not None]
    assert sims and max(sims) < 0.5  # nearest enrolled face far from B's


def test_vrchat_gets_the_chosen_slot_only(run):
    _, frames, _, lines, _ = run
    k = _shape_index(run)
    sent = np.array([float(ln.split()[-1]) for ln in lines[2] if ln.split()[1].endswith("/v2/JawOpen")])
    assert len(sent) >= 10  # only changes are sent
    for slot, follows in ((2, True), (1, False)):
        values = np.array([p["blendshapes"][k] for p in _by_slot(frames, slot) if p is not None])
        near = np.abs(sent[:, None] - values[None, :]).min(axis=1) < 2e-3
        assert (near.mean() > 0.9) == follows, (slot, near.mean())


def test_calibration_gives_each_person_their_own_profile(enrolled, tmp_path):
    from bridge.calibration import load_profile
    from bridge.config import from_tables
    from bridge.pipeline import Pipeline
    from bridge.sources import open_source
    _, clip, store = enrolled
    profile = tmp_path / "calibration.json"
    cfg = from_tables({"tracking": {"people": 2, "people_file": str(store), "identify": "on"},
                       "calibration": {"profile": str(profile)}, "vmc": {"enabled": False},
                       "websocket": {"enabled": False}})
    pipe = Pipeline(cfg, open_source(str(clip.path), fast=True))
    names: dict[int, str | None] = {}

    def listen(frame) -> None:
        names.update({p.slot: p.name for p in frame.people})
        if frame.source_time >= 3.0 and pipe.calibration_phase is None and not pipe.chains[1].solver.profile.neutral.any():
            pipe.start_calibration(1.0)  # both apart and in view, Ann named by now

    pipe.listeners.append(listen)
    pipe.run()
    ann = next(s for s, n in names.items() if n == "Ann")
    other = 3 - ann
    saved = tmp_path / "calibration.Ann.json"
    assert saved.exists(), list(tmp_path.iterdir())  # a named person's own file
    own = load_profile(saved)
    chains = pipe.chains
    assert np.allclose(chains[ann].solver.profile.neutral, own.neutral, atol=1e-4)  # the file rounds
    assert chains[other].solver.profile.neutral.any()  # the other got a profile of their own, in memory
    assert not np.allclose(chains[other].solver.profile.neutral, own.neutral)
    assert not profile.exists()  # nor is anyone's saved over the user's own


def test_one_name_goes_to_one_person_when_two_look_like_them(enrolled):
    """Ann on both sides of the picture (her clip at two moments: a look-alike, a photo of her): the
    recogniser takes both for Ann, but each frame names only the closer match (the person record,
    which routes to Ann's port, and the chain, which holds her calibration profile)."""
    from bridge.config import from_tables
    from bridge.pipeline import Pipeline
    from bridge.sources import open_source
    folder, _, store = enrolled
    clip = twins(FIXTURES, folder)
    cfg = from_tables({"tracking": {"people": 2, "people_file": str(store), "identify": "on"},
                       "vmc": {"enabled": False}, "websocket": {"enabled": False}})
    pipe = Pipeline(cfg, open_source(str(clip.path)))  # paced: the descriptors keep up as they would live
    named, both_ann = [], 0

    def listen(frame) -> None:
        nonlocal both_ann
        named.append(([p.name for p in frame.people].count("Ann"),
                      sum(c.name == "Ann" for c in pipe.chains.values())))
        both_ann += [pipe.identity.label(p.id).name for p in frame.people] == ["Ann", "Ann"]

    pipe.listeners.append(listen)
    pipe.run()
    assert both_ann >= 5, both_ann  # the recogniser does take both for her
    assert max(n for n, _ in named) == 1 and max(c for _, c in named) == 1, named  # but one is named
