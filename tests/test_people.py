"""Who is who (bridge/tracking/people.py) on real footage through the real MediaPipe models.

The crossing clip (tests/multi_person_media.py) is two real people, A and B, assembled from two
single-person fixture clips: the ground truth is which tile each source is in at each frame. The
group photo's head positions were labelled by hand; the HaGRID pairs are two photos side by side,
so a hand belongs to the person on its own half.
"""
from __future__ import annotations

import numpy as np
import pytest

from bridge.landmarks import L_WR, NOSE, R_WR, WRIST
from bridge.tracking.face import FaceObservation
from bridge.tracking.hands import HandObservation
from bridge.tracking.multi import MultiTrackers, MultiTrackerSettings
from bridge.tracking.people import (PeopleSettings, PeopleTracker, bhattacharyya, distinct_poses, group,
                                    hue_histogram)
from bridge.tracking.pose import PoseObservation
from conftest import FIXTURES
from multi_person_media import crossing, hagrid_pair, read_rgb


@pytest.fixture(scope="module")
def crossing_run(tmp_path_factory):
    """The crossing clip, its frames and every frame's detections (two people tracked)."""
    clip = crossing(FIXTURES, tmp_path_factory.mktemp("people"))
    frames = read_rgb(clip.path)
    with MultiTrackers(MultiTrackerSettings(people=2)) as trackers:
        obs = [trackers.process(f, int(round(k * 1000 / clip.fps))) for k, f in enumerate(frames)]
    return clip, frames, obs


def head_x(person, obs) -> float:
    """Where a person's head is (normalized x): the face's centre, else the pose's nose."""
    if person.face_index is not None:
        x = obs.faces[person.face_index].landmarks[:, 0]
        return float((x.min() + x.max()) / 2)
    return float(obs.poses[person.pose_index].landmarks[NOSE, 0])


def track(clip, frames, obs, order=None):
    """Each frame's people; `order(k, n)` may shuffle every list of detections before tracking."""
    tracker = PeopleTracker(PeopleSettings(people=2))
    out = []
    for k, (o, rgb) in enumerate(zip(obs, frames)):
        lists = [o.poses, o.faces, o.hands]
        perms = [order(k, len(x)) if order else np.arange(len(x)) for x in lists]
        shuffled = [[x[i] for i in p] for x, p in zip(lists, perms)]
        people = tracker.update(*shuffled, k / clip.fps, rgb)
        for p in people:  # back to the original indices
            p.pose_index = None if p.pose_index is None else int(perms[0][p.pose_index])
            p.face_index = None if p.face_index is None else int(perms[1][p.face_index])
            p.hand_indices = tuple(int(perms[2][i]) for i in p.hand_indices)
        out.append(people)
    return out


def ids_by_source(clip, obs, people_per_frame) -> dict[str, list[tuple[int, int]]]:
    """(frame, id) of whoever is in each source's tile, on the frames where the tiles are apart."""
    seen: dict[str, list[tuple[int, int]]] = {n: [] for n in clip.names}
    for k, people in enumerate(people_per_frame):
        if not clip.apart(k):
            continue
        for p in people:
            who = clip.who_at(k, head_x(p, obs[k]))
            if who is not None:
                seen[who].append((k, p.id))
    return seen


def test_ids_stay_with_their_person_across_the_crossing(crossing_run):
    clip, frames, obs = crossing_run
    people = track(clip, frames, obs)
    seen = ids_by_source(clip, obs, people)
    id_a = next(i for k, i in seen["A"] if k == 0)
    id_b = next(i for k, i in seen["B"] if k == 0)
    assert id_a != id_b
    assert {i for _, i in seen["A"]} == {id_a}, "someone else's id in A's tile"
    assert {i for _, i in seen["B"]} == {id_b}, "someone else's id in B's tile"
    # the sides swapped: A ends on the right, B on the left, with the ids they started with
    end = len(frames) - 1
    assert clip.centre_x[end, 0] > 0.5 > clip.centre_x[end, 1]
    assert (end, id_a) in seen["A"] and (end, id_b) in seen["B"]
    # each was found on most frames where they were in view and apart
    for name, col in (("A", 0), ("B", 1)):
        in_view = [k for k in range(len(frames)) if clip.apart(k) and not np.isnan(clip.centre_x[k, col])]
        assert len({k for k, _ in seen[name]}) >= 0.9 * len(in_view)
    # nobody else got an id, and the slots are the first two
    assert {p.id for ps in people for p in ps} == {id_a, id_b}
    assert {p.slot for ps in people for p in ps} == {1, 2}


def test_a_person_who_leaves_comes_back_with_their_id(crossing_run):
    clip, frames, obs = crossing_run
    people = track(clip, frames, obs)
    seen = ids_by_source(clip, obs, people)
    away = np.flatnonzero(np.isnan(clip.centre_x[:, 1]))
    assert len(away) / clip.fps >= 1.0  # B is away for over a second
    before = {i for k, i in seen["B"] if k < away[0]}
    after = {i for k, i in seen["B"] if k > away[-1]}
    assert len(before) == 1 and after == before
    slot = {p.slot for ps in people for p in ps if p.id in before}
    assert len(slot) == 1  # and drives the same avatar


def test_detection_order_does_not_change_ids(crossing_run):
    clip, frames, obs = crossing_run
    plain = track(clip, frames, obs)
    rng = np.random.default_rng(19)
    shuffled = track(clip, frames, obs, order=lambda k, n: rng.permutation(n))
    reversed_ = track(clip, frames, obs, order=lambda k, n: np.arange(n)[::-1])
    assert sum(len(o.faces) > 1 for o in obs) > 20  # there was an order to change

    def key(people):
        return sorted((p.id, p.slot, p.face_index, p.pose_index, p.hand_indices) for p in people)
    for k in range(len(frames)):
        assert key(shuffled[k]) == key(plain[k]) == key(reversed_[k]), f"frame {k}"


def test_faces_and_hands_go_to_their_own_body_in_the_crossing(crossing_run):
    clip, frames, obs = crossing_run
    joined = hands = 0
    for k, people in enumerate(track(clip, frames, obs)):
        if not clip.apart(k):
            continue
        for p in people:
            who = clip.who_at(k, head_x(p, obs[k]))
            if p.face_index is not None and p.pose_index is not None:
                joined += 1
                assert clip.who_at(k, obs[k].poses[p.pose_index].landmarks[NOSE, 0]) == who
            for h in p.hand_indices:
                hands += 1
                assert clip.who_at(k, obs[k].hands[h].landmarks[WRIST, 0]) == who
    assert joined > 50 and hands > 5  # most face/body pairs; A's hand covers her mouth for a while


# head centres in face/multi_face.jpg (normalized x, y), labelled by hand: five people
GROUP_HEADS = np.array([(0.27, 0.16), (0.37, 0.42), (0.48, 0.39), (0.58, 0.55), (0.74, 0.54)])


def test_group_photo_each_face_and_hand_to_its_person():
    import cv2
    rgb = cv2.cvtColor(cv2.imread(str(FIXTURES / "face" / "multi_face.jpg")), cv2.COLOR_BGR2RGB)
    with MultiTrackers(MultiTrackerSettings(people=4), still_images=True) as trackers:
        o = trackers.process(rgb, 0)
    people = PeopleTracker(PeopleSettings(people=4)).update(o.poses, o.faces, o.hands, 0.0, rgb)
    assert len(o.faces) >= 2 and len(o.poses) >= 2
    labels = []
    for p in people:
        heads = []
        if p.face_index is not None:
            lm = o.faces[p.face_index].landmarks[:, :2]
            heads.append((lm.min(axis=0) + lm.max(axis=0)) / 2)
        if p.pose_index is not None:
            heads.append(o.poses[p.pose_index].landmarks[NOSE, :2])
        near = [int(np.argmin(np.linalg.norm(GROUP_HEADS - h, axis=1))) for h in heads]
        assert all(np.linalg.norm(GROUP_HEADS[n] - h) < 0.07 for n, h in zip(near, heads))
        assert len(set(near)) == 1, "a face joined to someone else's body"
        labels.append(near[0])
        for h in p.hand_indices:  # a hand goes to the wrist of its own side of its own body
            wrist = o.poses[p.pose_index].landmarks[L_WR if o.hands[h].side == "left" else R_WR, :2]
            others = [q for q in people if q is not p and q.pose_index is not None]
            d = np.linalg.norm(o.hands[h].landmarks[WRIST, :2] - wrist)
            assert all(d < np.linalg.norm(o.hands[h].landmarks[WRIST, :2] - o.poses[q.pose_index].landmarks[w, :2])
                       for q in others for w in (L_WR, R_WR))
    assert len(labels) == len(set(labels)), "one person reported twice"
    assert sum(p.face_index is not None and p.pose_index is not None for p in people) >= 1
    assert len(o.hands) == 0 or any(p.hand_indices for p in people)


HAGRID_CLASSES = ("palm", "like", "peace", "one", "fist", "ok")


def hagrid_pairs(per_class: int = 2):
    """Pairs of HaGRID photos (the first photos of each class, in name order: no choosing by result)."""
    for cls in HAGRID_CLASSES:
        photos = sorted((FIXTURES / "gesture" / cls).iterdir())
        for i in range(per_class):
            yield photos[2 * i], photos[2 * i + 1]


def test_hands_go_to_their_own_person_in_side_by_side_photos():
    found = assigned = 0
    with MultiTrackers(MultiTrackerSettings(people=2), still_images=True) as trackers:
        for left, right in hagrid_pairs():
            rgb, split = hagrid_pair(left, right)
            o = trackers.process(rgb, 0)
            people = PeopleTracker(PeopleSettings(people=2)).update(o.poses, o.faces, o.hands, 0.0, rgb)
            found += len(o.hands)
            for p in people:
                assert p.pose_index is not None or not p.hand_indices
                body_left = o.poses[p.pose_index].landmarks[NOSE, 0] < split if p.pose_index is not None else None
                if p.face_index is not None and p.pose_index is not None:
                    face_left = o.faces[p.face_index].landmarks[:, 0].mean() < split
                    assert face_left == body_left, f"{left.name} + {right.name}: a face on another body"
                for h in p.hand_indices:
                    assigned += 1
                    assert (o.hands[h].landmarks[WRIST, 0] < split) == body_left, \
                        f"{left.name} + {right.name}: a hand given to the person in the other photo"
    assert found >= 8 and assigned >= 0.6 * found, (found, assigned)


# ---- the association alone, on hand-made arrays ----

def pose_at(x: float, y: float = 0.3, s: float = 0.1) -> PoseObservation:
    """A standing skeleton with its nose at (x, y), shoulders 2s wide, arms hanging (normalized)."""
    lm = np.zeros((33, 3))
    lm[:, :2] = (x, y + 4 * s)  # legs and feet at the hips
    lm[:11, :2] = (x, y)
    lm[[1, 2, 3], 0] = x + 0.15 * s  # eyes and ears on either side of the nose
    lm[[4, 5, 6], 0] = x - 0.15 * s
    lm[7, 0], lm[8, 0] = x + 0.3 * s, x - 0.3 * s
    for side, sign in (("l", 1), ("r", -1)):
        sh, el, wr, hip = (11, 13, 15, 23) if side == "l" else (12, 14, 16, 24)
        lm[sh, :2] = (x + sign * s, y + s)
        lm[el, :2] = (x + sign * 1.1 * s, y + 2.2 * s)
        lm[wr, :2] = (x + sign * 1.2 * s, y + 3.4 * s)
        lm[hip, :2] = (x + sign * 0.6 * s, y + 4 * s)
    return PoseObservation(lm, lm.copy(), np.ones(33), np.ones(33))


def face_at(x: float, y: float = 0.3, w: float = 0.08) -> FaceObservation:
    lm = np.zeros((478, 3), np.float32)
    lm[:, 0] = np.linspace(x - w / 2, x + w / 2, 478)
    lm[:, 1] = np.linspace(y - w * 0.6, y + w * 0.6, 478)[::-1]
    lm[1, :2] = (x, y)  # nose tip
    return FaceObservation(lm, np.zeros(52, np.float32), np.eye(4))


def hand_at(side: str, x: float, y: float) -> HandObservation:
    lm = np.zeros((21, 3))
    lm[:, :2] = (x, y)
    return HandObservation(side, 0.9, lm, lm.copy(), side.title())


def test_faces_join_bodies_hands_their_own_wrist_and_lone_hands_are_dropped():
    poses = [pose_at(0.8), pose_at(0.2)]
    faces = [face_at(0.2), face_at(0.8), face_at(0.5, 0.8)]  # the last has no body
    hands = [hand_at("left", 0.8 + 0.13, 0.64),  # the right person's left wrist (x + 1.2 s)
             hand_at("right", 0.2 - 0.11, 0.64),  # the left person's right wrist
             hand_at("right", 0.2 + 0.12, 0.64),  # labelled right, on a left wrist: not given to it
             hand_at("left", 0.5, 0.95)]  # no wrist near: dropped
    dets = group(poses, faces, hands)
    by_pose = {d.pose_index: d for d in dets}
    assert by_pose[0].face_index == 1 and by_pose[1].face_index == 0
    assert by_pose[0].hand_indices == (0,) and by_pose[1].hand_indices == (1,)
    face_only = [d for d in dets if d.pose_index is None]
    assert len(face_only) == 1 and face_only[0].face_index == 2 and face_only[0].hand_indices == ()
    assert sorted(i for d in dets for i in d.hand_indices) == [0, 1]


def test_a_second_skeleton_on_one_person_is_not_a_second_person():
    twin = pose_at(0.3)
    twin.landmarks[:, 0] += 0.01
    twin.visibility[:] = 0.5
    assert distinct_poses([pose_at(0.3), twin, pose_at(0.7)]) == [0, 2]
    assert len(group([pose_at(0.3), twin], [face_at(0.3)], [])) == 1


def test_slots_ids_and_keep_time():
    t = PeopleTracker(PeopleSettings(people=2, keep_s=1.0))
    first = t.update([pose_at(0.3), pose_at(0.7)], [], [], 0.0)
    assert [q.slot for q in first] == [1, 2] and first[0].id != first[1].id
    a, b = sorted(first, key=lambda q: q.pose_index)
    # swapped order, moved a little: same ids by position
    p = t.update([pose_at(0.71), pose_at(0.31)], [], [], 0.1)
    assert {(q.pose_index, q.id) for q in p} == {(0, b.id), (1, a.id)}
    # a third person cannot join while both are in view
    assert len(t.update([pose_at(0.3), pose_at(0.7), pose_at(0.5, 0.7)], [], [], 0.2)) == 2
    # b gone for longer than keep_s: its slot goes to a newcomer with a new id
    t.update([pose_at(0.3)], [], [], 0.5)
    t.update([pose_at(0.3)], [], [], 1.5)
    newcomer = [q for q in t.update([pose_at(0.3), pose_at(0.9)], [], [], 2.0) if q.slot == 2]
    assert newcomer and newcomer[0].id not in (a.id, b.id)


def test_appearance_histogram_tells_people_apart():
    rng = np.random.default_rng(0)
    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 0] = 200 + rng.integers(0, 40, (64, 64))
    blue = red[..., ::-1].copy()
    box = np.array([0, 0, 1, 1.0])
    hr, hb = hue_histogram(red, box), hue_histogram(blue, box)
    assert np.isclose(hr.sum(), 1) and bhattacharyya(hr, hr) < 1e-6
    assert bhattacharyya(hr, hb) > 0.9
    assert hue_histogram(red, np.array([0.5, 0.5, 0.51, 0.51])) is None  # too small to say
