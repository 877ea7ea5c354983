"""`avatar-bridge enroll` and `people` as a user runs them, on real clips and photos: the templates
they store recognise the person, and every bad input gives one clear line."""
import cv2
import numpy as np

from bridge.identity import store
from bridge.identity.embedder import embed
from bridge.identity.recognise import UNKNOWN, Recogniser, RecogniserSettings, Templates
from bridge.tracking.face import FaceTracker
from conftest import FACE, cli
from test_user_errors import _one_line_error


def _ok(proc):
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def test_enroll_list_rename_delete(tmp_path):
    people = tmp_path / "people.json"
    s = ["--store", str(people)]
    out = _ok(cli("enroll", "Ann", "--source", str(FACE / "expressions_pexels.mp4"), "--seconds", "3", *s))
    assert "enrol Ann" in out.stderr and "enrolled 'Ann' from 15 of 15 frames" in out.stderr
    _ok(cli("enroll", "Grace", "--source", str(FACE / "grace_hopper.jpg"), *s, "-q"))
    listed = _ok(cli("people", *s)).stdout.splitlines()
    assert [l.split("\t")[:2] for l in listed] == [["Ann", "15 templates"], ["Grace", "1 templates"]]
    _ok(cli("people", "rename", "Grace", "Hopper", *s))
    _ok(cli("people", "delete", "Ann", *s))
    assert [l.split("\t")[0] for l in _ok(cli("people", "list", *s)).stdout.splitlines()] == ["Hopper"]
    _one_line_error(cli("people", "delete", "Ann", *s), "'Ann' is not enrolled", "Hopper")
    _one_line_error(cli("people", "rename", "Hopper", *s), "takes 2 name(s)")


def test_enrolled_templates_recognise_later_frames_and_not_others(tmp_path):
    people = tmp_path / "people.json"
    _ok(cli("enroll", "Ann", "--source", str(FACE / "expressions_pexels.mp4"), "--seconds", "3",
            "--store", str(people), "-q"))
    templates = Templates.from_people(store.templates_of(store.read_store(people)))
    rec = Recogniser(templates, RecogniserSettings(interval_s=0.0))
    cap = cv2.VideoCapture(str(FACE / "expressions_pexels.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 240)  # 10 s in: not seen by the enrolment
    with FaceTracker() as t:
        for i in range(8):
            for _ in range(12):
                ok, bgr = cap.read()
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            obs = t.process(rgb, i * 500)
            if obs is not None:
                label = rec.update(1, embed(rgb, obs.landmarks))
    cap.release()
    assert label.name == "Ann"
    with FaceTracker(still_images=True) as t:
        for i, name in enumerate(("astronaut.png", "single_face.jpg", "grace_hopper.jpg")):
            rgb = cv2.cvtColor(cv2.imread(str(FACE / name)), cv2.COLOR_BGR2RGB)
            for k in range(4):
                label = rec.update(10 + i, embed(rgb, t.process(rgb, k).landmarks))
            assert label.name == UNKNOWN and np.isfinite(label.similarity), name


def test_enroll_no_face(tmp_path):
    _one_line_error(cli("enroll", "Ann", "--source", str(FACE / "no_face.mp4"), "--store", str(tmp_path / "p.json")),
                    "no face found in video", "no_face.mp4")
    assert not (tmp_path / "p.json").exists()


def test_enroll_two_faces(tmp_path):
    _one_line_error(cli("enroll", "Ann", "--source", str(FACE / "multi_face.jpg"), "--store", str(tmp_path / "p.json")),
                    "5 faces", "one person at a time")


def test_enroll_missing_camera(tmp_path):
    _one_line_error(cli("enroll", "Ann", "--source", "9", "--store", str(tmp_path / "p.json")), "cannot open camera 9")


def test_enroll_unreadable_files(tmp_path):
    s = ["--store", str(tmp_path / "p.json")]
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    _one_line_error(cli("enroll", "Ann", "--source", str(bad), *s), "cannot read video")
    img = tmp_path / "broken.jpg"
    img.write_bytes(b"not a picture")
    _one_line_error(cli("enroll", "Ann", "--source", str(img), *s), "cannot read image")
    _one_line_error(cli("enroll", "Ann", "--source", str(tmp_path / "none.mp4"), *s), "not found")
    people = tmp_path / "people.json"
    people.write_text("{not json")
    _one_line_error(cli("enroll", "Ann", "--source", str(FACE / "grace_hopper.jpg"), "--store", str(people)),
                    "unreadable", "enrol again")
    _one_line_error(cli("enroll", "unknown", "--source", str(FACE / "grace_hopper.jpg"), "--store", str(people)),
                    "choose another name")
