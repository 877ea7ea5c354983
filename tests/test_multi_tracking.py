"""The several-person landmarkers (bridge/tracking/multi.py) on real media, through the real models."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from bridge.errors import ConfigError
from bridge.tracking.face import FaceTracker
from bridge.tracking.multi import MultiFaceTracker, MultiPoseTracker, MultiTrackers, MultiTrackerSettings
from bridge.tracking.pose import PoseTracker
from conftest import FIXTURES
from multi_person_media import four_people, read_rgb


def rgb_of(path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def test_one_person_reads_the_same_as_the_single_person_trackers():
    """Same model, same mode: index 0 of the multi-person parse equals what face.py / pose.py read."""
    rgb = rgb_of(FIXTURES / "face" / "single_face.jpg")
    with FaceTracker(still_images=True) as one, MultiFaceTracker(1, still_images=True) as multi:
        a, (b,) = one.process(rgb, 0), multi.process(rgb, 0)
    np.testing.assert_allclose(b.landmarks, a.landmarks, atol=1e-6)
    np.testing.assert_allclose(b.blendshapes, a.blendshapes, atol=1e-6)
    np.testing.assert_allclose(b.matrix, a.matrix, atol=1e-5)
    with PoseTracker(still_images=True) as one, MultiPoseTracker(1, still_images=True) as multi:
        a, (b,) = one.process(rgb, 0), multi.process(rgb, 0)
    for field in ("landmarks", "world", "visibility", "presence"):
        np.testing.assert_allclose(getattr(b, field), getattr(a, field), atol=1e-6)


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    clip = four_people(FIXTURES, tmp_path_factory.mktemp("four"), seconds=1.0)
    return clip, read_rgb(clip.path)


def tiles_with_a_face(clip, faces) -> list[int]:
    """The tiles (0..3) whose span holds a face's centre, one entry per face."""
    centres = [float(f.landmarks[:, 0].mean()) for f in faces]
    return sorted(int(np.argmin(np.abs(clip.centre_x[0] - c))) for c in centres
                  if np.min(np.abs(clip.centre_x[0] - c)) < clip.tile_w / 2)


def test_up_to_n_people_are_tracked_each_in_their_own_place(four):
    clip, frames = four
    poses = {}
    for n in (1, 2, 4):
        with MultiTrackers(MultiTrackerSettings(people=n, hands=False)) as trackers:
            got = [trackers.process(f, int(k * 1000 / clip.fps)) for k, f in enumerate(frames)]
        assert all(len(o.faces) <= n and len(o.poses) <= n for o in got)
        # each face sits on a different person; with room for all four, all four are found
        for o in got:
            tiles = tiles_with_a_face(clip, o.faces)
            assert len(tiles) == len(set(tiles)) == len(o.faces)
        poses[n] = np.mean([len(o.poses) for o in got])
        if n == 4:
            assert np.mean([len(o.faces) == 4 for o in got]) >= 0.9
        else:
            assert np.mean([len(o.faces) == n for o in got]) >= 0.9
    # close-up heads with the shoulders out of frame: the pose finds fewer bodies than there are, but more with room
    assert poses[4] > poses[1]


def test_group_photo_finds_more_than_one_person():
    rgb = rgb_of(FIXTURES / "face" / "multi_face.jpg")
    with MultiTrackers(MultiTrackerSettings(people=1), still_images=True) as one:
        o1 = one.process(rgb, 0)
    with MultiTrackers(MultiTrackerSettings(people=4), still_images=True) as many:
        o4 = many.process(rgb, 0)
    assert len(o1.faces) <= 1 and len(o1.poses) == 1
    assert len(o4.faces) >= 2 and len(o4.poses) >= 2  # of five (the face detector misses the smaller faces)
    assert o4.hands_ran and {"face", "pose", "hands"} <= o4.timings_ms.keys()


@pytest.mark.parametrize("n", [0, 5, 2.5, True])
def test_people_out_of_range_is_one_clear_line(n):
    with pytest.raises(ConfigError) as e:
        MultiTrackers(MultiTrackerSettings(people=n))
    assert "\n" not in str(e.value) and "1 to 4" in str(e.value)
