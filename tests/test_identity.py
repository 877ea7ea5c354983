"""Face identity on real faces: alignment from MediaPipe's landmarks, dlib's descriptor, templates,
the recogniser's hysteresis and the people store (bridge/identity/)."""
import json

import cv2
import numpy as np
import pytest

from bridge.errors import ConfigError, ModelError
from bridge.identity import store
from bridge.identity.align import CHIP_SIZE, FIVE_POINT_IDX, TEMPLATE, face_chip
from bridge.identity.embedder import CARD, DIM, FaceEmbedder, embed
from bridge.identity.recognise import UNKNOWN, Identity, Recogniser, RecogniserSettings, Templates, one_each
from bridge.tracking.face import FaceTracker
from conftest import FACE, ROOT


def _rgb(path):
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def _clip_faces(tracker, path, every=4):
    """(source seconds, descriptor) of every `every`-th frame of a real clip with a face."""
    tracker.forget()
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    out, i = [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        obs = tracker.process(rgb, int(i * 1000 / fps))
        if obs is not None and i % every == 0:
            out.append((i / fps, embed(rgb, obs.landmarks)))
        i += 1
    cap.release()
    return out


@pytest.fixture(scope="module")
def woman(tracker):
    """The Pexels clip: her first 3 s enrol her, the rest are later frames of the same person."""
    return _clip_faces(tracker, FACE / "expressions_pexels.mp4", every=6)


@pytest.fixture(scope="module")
def man(tracker):
    return _clip_faces(tracker, FACE / "single_face.mp4", every=3)


def _enrolled(faces, name="Ann"):
    enrol = np.stack([e for t, e in faces if t < 3.0])
    return Templates.from_people({name: enrol}), [(t, e) for t, e in faces if t >= 4.0]


def test_chip_puts_the_five_points_where_dlib_expects_them():
    """Landmarks found again on the aligned chip sit on dlib's 5-point template."""
    rgb = _rgb(FACE / "grace_hopper.jpg")
    with FaceTracker(still_images=True) as t:
        chip = face_chip(rgb, t.process(rgb, 0).landmarks)
        assert chip.shape == (CHIP_SIZE, CHIP_SIZE, 3) and chip.dtype == np.uint8
        big = cv2.resize(chip, (4 * CHIP_SIZE, 4 * CHIP_SIZE), interpolation=cv2.INTER_CUBIC)
        again = t.process(big, 1)
    assert again is not None
    pts = again.landmarks[list(FIVE_POINT_IDX), :2] * CHIP_SIZE
    err = np.linalg.norm(pts - TEMPLATE, axis=1)
    assert err.max() < 0.04 * CHIP_SIZE, err


def test_embedding_is_deterministic_and_128_d():
    rgb = _rgb(FACE / "astronaut.png")
    with FaceTracker(still_images=True) as t:
        lm = t.process(rgb, 0).landmarks
    a, b = embed(rgb, lm), FaceEmbedder().embed(rgb, lm)
    assert a.shape == (DIM,) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_same_person_far_apart_is_closer_than_another_person(woman, man):
    later = np.stack([e for t, e in woman if t > 15])
    first = np.stack([e for t, e in woman if t < 3])
    other = np.stack([e for _, e in man])
    same = np.linalg.norm(later[:, None] - first[None], axis=2)
    diff = np.linalg.norm(other[:, None] - first[None], axis=2)
    assert np.median(same) < 0.5 < np.median(diff), (np.median(same), np.median(diff))


def test_recognises_the_enrolled_person_on_later_frames(woman):
    templates, later = _enrolled(woman)
    rec = Recogniser(templates)
    labels, last = [], float("-inf")
    for t, e in later:
        if t - last >= rec.settings.interval_s:  # the worker's pace once a name has settled
            last = t
            labels.append(rec.update(1, e))
    assert len(labels) >= 12  # about 15 s at one look a second
    settled = labels[rec.settings.k:]
    named = sum(lab.name == "Ann" for lab in settled)
    assert named >= 0.9 * len(settled), [lab.name for lab in labels]
    assert labels[-1].name == "Ann" and labels[-1].similarity > 1 - rec.settings.reject


def test_unknown_for_a_person_not_enrolled(woman, man):
    templates, _ = _enrolled(woman)
    rec = Recogniser(templates, RecogniserSettings(interval_s=0.0))
    labels = [rec.update(7, e) for _, e in man]
    assert {lab.name for lab in labels} == {UNKNOWN}
    assert max(lab.similarity for lab in labels) < 1 - rec.settings.accept


def test_hysteresis_one_bad_decision_does_not_flip_the_label(woman, man):
    templates = Templates.from_people({"Ann": np.stack([e for t, e in woman if t < 3.0]),
                                       "Bob": np.stack([e for t, e in man if t < 1.2])})
    rec = Recogniser(templates, RecogniserSettings(interval_s=0.0, k=3))
    ann = [e for t, e in woman if t >= 4.0]
    bob = [e for t, e in man if t >= 1.2]
    assert rec.update(1, ann[0]).name == UNKNOWN  # one look is not enough
    names = [rec.update(1, e).name for e in ann[1:6]]
    assert names[:1] == [UNKNOWN] and names[-1] == "Ann"
    assert rec.update(1, bob[0]).name == "Ann"  # a single different face: still Ann
    assert rec.update(1, ann[6]).name == "Ann"
    names = [rec.update(1, e).name for e in bob[:3]]
    assert names == ["Ann", "Ann", "Bob"]  # three in a row move it
    rec.forget(1)
    assert rec.identity(1).name == UNKNOWN


def test_a_name_is_kept_by_its_closest_holder_only(woman, man):
    """Two people both recognised as Ann (her face at two moments: a look-alike, a photo): the more
    alike keeps the name, the other reads unknown; different names and unknowns are left alone."""
    templates = Templates.from_people({"Ann": np.stack([e for t, e in woman if t < 3.0]),
                                       "Bob": np.stack([e for t, e in man if t < 1.2])})
    rec = Recogniser(templates, RecogniserSettings(interval_s=0.0))
    ann = [e for t, e in woman if t >= 4.0]
    for a, b in zip(ann[:3], ann[3:6]):
        rec.update(1, a)
        rec.update(2, b)
    for e in [e for t, e in man if t >= 1.2][:3]:
        rec.update(3, e)
    labels = [rec.identity(i) for i in (1, 2, 3, 4)]
    assert [lab.name for lab in labels] == ["Ann", "Ann", "Bob", UNKNOWN]
    closer = 0 if labels[0].similarity > labels[1].similarity else 1
    kept = one_each(labels)
    assert kept[closer] == labels[closer] and kept[1 - closer] == Identity(UNKNOWN, labels[1 - closer].similarity)
    assert kept[2:] == labels[2:]
    assert one_each(labels[::-1]) == kept[::-1]  # whoever comes first


def test_store_round_trip(tmp_path, woman, man):
    path = tmp_path / "people.json"
    assert store.read_store(path) == {}
    people = store.add({}, "Ann", np.stack([e for _, e in woman[:5]]))
    people = store.add(people, "Bob", np.stack([e for _, e in man[:4]]))
    people = store.add(people, "Ann", np.stack([e for _, e in woman[5:7]]))
    store.write_store(path, people)
    back = store.read_store(path)
    assert sorted(back) == ["Ann", "Bob"] and len(back["Ann"].embeddings) == 7
    np.testing.assert_allclose(back["Bob"].embeddings, people["Bob"].embeddings, atol=1e-6)
    assert (path.stat().st_mode & 0o077) == 0  # the user's own
    back = store.delete(store.rename(back, "Bob", "Robert"), "Ann")
    assert sorted(back) == ["Robert"]
    with pytest.raises(ConfigError, match="already enrolled"):
        store.rename(people, "Ann", "Bob")
    with pytest.raises(ConfigError, match="'Zed' is not enrolled .*Ann, Bob"):
        store.delete(people, "Zed")
    with pytest.raises(ConfigError, match="unrecognised people"):
        store.add(people, "Unknown", people["Ann"].embeddings)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable"):
        store.read_store(path)


def test_model_file_is_checked_against_its_card(tmp_path, monkeypatch):
    card = json.loads((ROOT / "models" / CARD).read_text())
    card["sha256"] = "0" * 64
    (tmp_path / CARD).write_text(json.dumps(card))
    monkeypatch.setenv("AVATAR_BRIDGE_MODELS", str(tmp_path))
    with pytest.raises(ModelError, match="is corrupt"):
        FaceEmbedder()


def test_default_thresholds_are_the_cards():
    """The recogniser's defaults are the thresholds models/evaluate_identity.py chose on validation faces."""
    card = json.loads((ROOT / "models" / CARD).read_text())
    s = RecogniserSettings()
    assert (s.accept, s.reject) == (card["thresholds"]["accept"], card["thresholds"]["reject"])
    assert s.accept < s.reject
