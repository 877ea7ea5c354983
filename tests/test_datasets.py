"""bridge.datasets, the loaders behind `avatar-bridge eval`, called as a library on the real fixtures."""
import shutil

import numpy as np
import pytest

from bridge.classify.expression import CLASSES
from bridge.classify.gesture import GESTURES
from bridge.datasets import (gesture_photos, load_faces_npz, load_florence, load_kard, load_sbu, load_skeleton, msr_files,
                             read_action_toml, skeleton_files)
from bridge.errors import BridgeError
from conftest import FIXTURES

MSR = FIXTURES / "action" / "msr_action3d"


def test_faces_npz_maps_the_file_classes_onto_the_model_classes(tmp_path):
    d = np.load(FIXTURES / "expression" / "fer2013_publictest.npz")
    order = list(reversed(CLASSES))
    f = tmp_path / "faces.npz"
    np.savez(f, images=d["images"][:50] / 255.0, labels=[order.index(CLASSES[i]) for i in d["labels"][:50]],
             classes=order)
    images, labels = load_faces_npz(f, CLASSES)
    assert images.dtype == np.uint8 and images.shape == (50, 48, 48)
    assert (labels == d["labels"][:50]).all()
    assert np.abs(images.astype(int) - d["images"][:50]).max() <= 1


def test_action_toml_gives_classes_and_frame_rate(tmp_path):
    (tmp_path / "set.toml").write_text('fps = 30\n[classes]\na01 = "wave"\n10 = "clap"\n')
    assert read_action_toml(tmp_path) == ({1: "wave", 10: "clap"}, 30.0)
    (tmp_path / "set.toml").write_text('[classes]\n10 = "clap"\n')
    assert read_action_toml(tmp_path) == ({10: "clap"}, None)
    for f in MSR.glob("a10_s0[24]_*"):
        (tmp_path / f.name).symlink_to(f)
    files = msr_files(tmp_path, {10: "clap"}, {4})
    assert files and all(p.name.startswith("a10_s04_") and c == "clap" for p, c in files)
    with pytest.raises(BridgeError, match="not a folder"):
        read_action_toml(tmp_path / "missing")


def test_gesture_photos_accept_common_folder_names(tmp_path):
    (tmp_path / "thumbs_up").mkdir()
    shutil.copy(next((FIXTURES / "gesture" / "like").glob("*.jpg")), tmp_path / "thumbs_up" / "a.jpg")
    (tmp_path / "thumbs_up" / "notes.txt").write_text("not a photo")
    assert [(p.name, c) for p, c in gesture_photos(tmp_path, GESTURES)] == [("a.jpg", "like")]


@pytest.mark.parametrize("loader,path", [
    (load_kard, FIXTURES / "action" / "kard" / "a13_s01_e01_realworld.txt"),
    (load_florence, FIXTURES / "action" / "florence3d" / "a04_s1_id10.txt")])
def test_15_joint_sets_map_onto_the_action_joints(loader, path):
    """KARD and Florence 3D frames in the action model's Kinect frame: head highest, feet lowest, the
    subject's right shoulder on the +x side (KARD's own x runs the other way), a torso of 0.35-0.55 m."""
    from bridge.classify.action import J
    f = loader(path)[0]
    assert f[J["head"], 1] == f[:, 1].max()
    assert f[[J["left_foot"], J["right_foot"]], 1].max() < f[[J["left_knee"], J["right_knee"]], 1].min()
    assert f[J["right_shoulder"], 0] > f[J["left_shoulder"], 0]
    assert 0.35 < np.linalg.norm(f[J["neck"]] - f[J["hip_center"]]) < 0.55


def test_sbu_gives_two_people_in_metres():
    from bridge.classify.action import J
    a, b = load_sbu(FIXTURES / "action" / "sbu" / "s01s02" / "05" / "001" / "skeleton_pos.txt")  # shaking hands
    assert a.shape == b.shape and a.shape[1:] == (20, 3)
    for p in (a[0], b[0]):
        assert p[J["head"], 1] == p[:, 1].max()  # y up after undoing the image-like y
        assert 0.35 < np.linalg.norm(p[J["neck"]] - p[J["hip_center"]]) < 0.6
    gap = np.linalg.norm(a[:, J["spine"]] - b[:, J["spine"]], axis=-1)
    assert 0.3 < gap.min() < 1.5  # close enough to shake hands


def test_skeleton_files_list_each_set_and_reject_a_bad_file(tmp_path):
    files = skeleton_files(FIXTURES / "action" / "florence3d", {4: "clap"}, {2})
    assert files and all(p.name.startswith("a04_s2_") for p, _ in files)
    assert load_skeleton(files[0][0]).shape[1:] == (20, 3)
    bad = tmp_path / "a01_s01_e01_realworld.txt"
    bad.write_text("1 2 3\n4 5 6\n")
    with pytest.raises(ValueError, match="15 per frame"):
        load_skeleton(bad)
