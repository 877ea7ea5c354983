"""bridge.datasets, the loaders behind `avatar-bridge eval`, called as a library on the real fixtures."""
import shutil

import numpy as np
import pytest

from bridge.classify.expression import CLASSES
from bridge.classify.gesture import GESTURES
from bridge.datasets import gesture_photos, load_faces_npz, msr_files, read_action_toml
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
