"""Every user mistake gets one line that says what is wrong and how to fix it: no traceback."""
import hashlib
import json
import shutil
import socket

import pytest

from bridge.cli.run import demo_clip
from conftest import FACE, ROOT, cli

DEMO = str(demo_clip())  # ships with the package: these tests need no fixtures
REINSTALL = "pip install --force-reinstall avatar-bridge"


def _one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    errors = [l for l in proc.stderr.splitlines() if l.startswith("avatar-bridge: error:")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in errors[0], errors[0]
    return errors[0]


def _only_line(proc, *needles):
    """The error is all of stderr: no log line before it, no destructor noise after it."""
    line = _one_line_error(proc, *needles)
    assert proc.stderr.splitlines() == [line], proc.stderr
    return line


def test_missing_source():
    _one_line_error(cli("run", "--source", "/no/such/video.mp4", "--max-frames", "1"), "not found", "camera index")


def test_unreadable_video(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    _one_line_error(cli("run", "--source", str(bad), "--max-frames", "1"), "cannot read video")


def test_empty_image_folder(tmp_path):
    _one_line_error(cli("run", "--source", str(tmp_path), "--max-frames", "1"), "has no images")


def test_bad_config_key(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[vmc]\nprot = 9000\n")
    _one_line_error(cli("run", "--config", str(cfg), "--max-frames", "1"), "unknown key [vmc] prot", "allowed: enabled, host, port")


def test_bad_config_value(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[mapping]\npreset = "vrm3"\n')
    _one_line_error(cli("run", "--config", str(cfg), "--max-frames", "1"), "preset", "arkit, vrm0, vrm1")


def test_invalid_toml(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[vmc\nport = 1\n")
    _one_line_error(cli("run", "--config", str(cfg), "--max-frames", "1"), "invalid TOML")


def test_bad_flag_address():
    _one_line_error(cli("run", "--vmc", "localhost:notaport", "--max-frames", "1"), "--vmc", "HOST:PORT")


def test_websocket_port_in_use():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        _one_line_error(cli("run", "--source", str(FACE / "single_face.mp4"), "--ws", f"127.0.0.1:{port}",
                            "--max-frames", "1"), f"port {port}", "already in use", "--ws")
    finally:
        s.close()


@pytest.mark.parametrize("flag, address", [("--vmc", "nosuchhost.invalid:39539"), ("--vmc", "300.1.1.1:39539"),
                                           ("--vrchat", "nosuchhost.invalid:9000"), ("--vrchat", "300.1.1.1:9000")])
def test_bad_host_is_refused_before_any_model_loads(flag, address):
    line = _only_line(cli("run", "--source", DEMO, flag, address, "--max-frames", "1"), f"{flag} {address}:")
    assert "flags:" not in line
    assert ("cannot resolve" if "invalid" in address else "not a valid IP address") in line


def test_bad_host_in_the_config_file_names_the_key(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[vrchat]\nenabled = true\nhost = "nosuchhost.invalid"\n')
    _only_line(cli("run", "--source", DEMO, "--config", str(cfg), "--max-frames", "1"),
               f"{cfg}: [vrchat] host = 'nosuchhost.invalid': cannot resolve")


@pytest.fixture
def model_copy(tmp_path):
    d = tmp_path / "models"
    shutil.copytree(ROOT / "models", d, ignore=shutil.ignore_patterns("__pycache__"))
    return d


def _corrupt(path):
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF
    path.write_bytes(bytes(data))


def _tells_a_pip_user_what_to_do(line, model_copy):
    assert REINSTALL in line and "pip install ." in line, line
    assert f"$AVATAR_BRIDGE_MODELS ({model_copy})" in line, line  # and that the lookup was redirected
    assert "models/build" not in line and "python models/" not in line, line


def test_missing_model(model_copy):
    (model_copy / "face_landmarker.task").unlink()
    line = _only_line(cli("run", "--source", DEMO, "--max-frames", "1", env={"AVATAR_BRIDGE_MODELS": str(model_copy)}),
                      "face_landmarker.task is missing")
    _tells_a_pip_user_what_to_do(line, model_copy)


def test_corrupt_model(model_copy):
    _corrupt(model_copy / "face_landmarker.task")
    line = _only_line(cli("run", "--source", DEMO, "--max-frames", "1", env={"AVATAR_BRIDGE_MODELS": str(model_copy)}),
                      "corrupt", "sha256")
    _tells_a_pip_user_what_to_do(line, model_copy)


def test_model_mediapipe_cannot_load(model_copy):
    """A file that matches its card but is no model (e.g. a card edited by hand) fails in MediaPipe's
    loader: the same advice, and the half-made landmarker is closed, not left to its destructor."""
    task = model_copy / "hand_landmarker.task"
    task.write_bytes(b"not a task bundle" * 100)
    card = model_copy / "hand_landmarker.card.json"
    meta = json.loads(card.read_text())
    meta["sha256"] = hashlib.sha256(task.read_bytes()).hexdigest()
    card.write_text(json.dumps(meta))
    line = _only_line(cli("run", "--source", DEMO, "--hands", "--max-frames", "1",
                          env={"AVATAR_BRIDGE_MODELS": str(model_copy)}), "MediaPipe could not load")
    _tells_a_pip_user_what_to_do(line, model_copy)


def test_failure_after_the_landmarkers_loaded_is_one_line(model_copy):
    """The expression model loads after the face landmarker: the pipeline, failing half-built,
    closes what it made (MediaPipe's destructor at exit would print a TypeError traceback)."""
    _corrupt(model_copy / "expression_fusion.onnx")
    line = _only_line(cli("demo", "--pose", "--hands", "--max-frames", "1", "--no-vmc", "--no-ws",
                          env={"AVATAR_BRIDGE_MODELS": str(model_copy)}), "expression_fusion.onnx is corrupt")
    _tells_a_pip_user_what_to_do(line, model_copy)


def test_a_broken_classifier_model_with_several_people_fails_at_start(model_copy):
    """With --people the classifier models load at start too (once, for everyone), not on a thread
    when the first person arrives: one line, even from a source nobody walks into."""
    _corrupt(model_copy / "expression_fusion.onnx")
    line = _only_line(cli("run", "--source", str(FACE / "no_face.mp4"), "--people", "2", "--max-frames", "3",
                          "--no-vmc", "--no-ws", env={"AVATAR_BRIDGE_MODELS": str(model_copy)}),
                      "expression_fusion.onnx is corrupt")
    _tells_a_pip_user_what_to_do(line, model_copy)


def test_doctor_reports_without_traceback(model_copy):
    (model_copy / "face_landmarker.task").unlink()
    proc = cli("doctor", env={"AVATAR_BRIDGE_MODELS": str(model_copy)})
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "FAIL models" in proc.stdout and "ok   python" in proc.stdout and REINSTALL in proc.stdout
