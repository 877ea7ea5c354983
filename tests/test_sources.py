"""Video sources that fail rather than end: cut short, cut or deleted while read, gone when
--loop reopens them. Real files (copies of the fixtures, damaged on disk) decoded by OpenCV."""
import os
import shutil

import cv2

from bridge.errors import SourceError
from bridge.sources import COMPLETE, open_source
from conftest import FACE, ROOT

DEMO = ROOT / "bridge" / "assets" / "demo_face.mp4"  # its index (moov) comes first: a cut copy still opens
SHORT = FACE / "single_face.mp4"  # index last: read when opened, so cutting the file later leaves it known


def decodable(path) -> tuple[int, int]:
    """(frames OpenCV decodes, frames the container says it has): the reference the source is held to."""
    cap = cv2.VideoCapture(str(path))
    expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    n = 0
    while cap.grab():
        n += 1
    cap.release()
    return n, expected


def drain(source) -> tuple[int, SourceError | None]:
    """Read to the end; the frames handed over and the error that ended it, if any."""
    n = 0
    try:
        while source.read() is not None:
            n += 1
    except SourceError as e:
        return n, e
    finally:
        source.close()
    return n, None


def test_video_cut_short_fails_after_its_readable_frames(tmp_path):
    cut = tmp_path / "half.mp4"
    data = DEMO.read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    readable, expected = decodable(cut)
    assert 0 < readable < COMPLETE * expected
    n, err = drain(open_source(str(cut), fast=True))
    assert n == readable and err is not None
    msg = str(err)
    assert "\n" not in msg and "ended early" in msg and f"{readable} of its {expected} frames" in msg
    assert "truncated or damaged" in msg


def test_estimated_frame_count_is_not_a_failure():
    """no_face.mp4's container count is an estimate above what it holds: that is an end, not a fault."""
    video = FACE / "no_face.mp4"
    readable, expected = decodable(video)
    assert readable < expected
    assert drain(open_source(str(video), fast=True)) == (readable, None)


def test_video_cut_near_its_end_while_read(tmp_path):
    """Losing only the last frames is within an estimated count's slack; the file changing is what tells."""
    video = tmp_path / "short.mp4"
    shutil.copy(SHORT, video)
    readable, expected = decodable(video)
    src = open_source(str(video), fast=True)
    assert src.read() is not None
    os.truncate(video, int(video.stat().st_size * 0.95))  # its last 5 %: one frame's data and some audio
    n, err = drain(src)
    got = n + 1
    assert err is not None and COMPLETE * expected <= got < readable
    assert f"{got} of its {expected} frames" in str(err) and "changed while it was read" in str(err)


def test_video_deleted_while_read_ends_or_fails_with_loop(tmp_path):
    video = tmp_path / "short.mp4"
    shutil.copy(SHORT, video)
    readable, _ = decodable(video)
    src = open_source(str(video), fast=True)
    assert src.read() is not None
    video.unlink()  # the open file stays readable: every frame arrives, and that is an end
    assert drain(src) == (readable - 1, None)

    shutil.copy(SHORT, video)
    src = open_source(str(video), loop=True, fast=True)
    assert src.read() is not None
    video.unlink()  # reopening it for the second pass fails: a failure, not an end
    n, err = drain(src)
    assert n + 1 == readable and err is not None
    assert "\n" not in str(err) and "became unreadable" in str(err) and "--loop" in str(err)
