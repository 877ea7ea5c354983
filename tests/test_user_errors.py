"""Every user mistake gets one line that says what is wrong and how to fix it: no traceback."""
import shutil
import socket

import pytest

from conftest import FACE, ROOT, cli


def _one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    errors = [l for l in proc.stderr.splitlines() if l.startswith("avatar-bridge: error:")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in errors[0], errors[0]


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


@pytest.fixture
def model_copy(tmp_path):
    d = tmp_path / "models"
    shutil.copytree(ROOT / "models", d, ignore=shutil.ignore_patterns("__pycache__"))
    return d


def test_missing_model(model_copy):
    (model_copy / "face_landmarker.task").unlink()
    _one_line_error(cli("run", "--source", str(FACE / "astronaut.png"), "--max-frames", "1",
                        env={"AVATAR_BRIDGE_MODELS": str(model_copy)}), "missing", "build_from_wheel.py face_landmarker")


def test_corrupt_model(model_copy):
    p = model_copy / "face_landmarker.task"
    data = bytearray(p.read_bytes())
    data[1000] ^= 0xFF
    p.write_bytes(bytes(data))
    _one_line_error(cli("run", "--source", str(FACE / "astronaut.png"), "--max-frames", "1",
                        env={"AVATAR_BRIDGE_MODELS": str(model_copy)}), "corrupt", "sha256")


def test_doctor_reports_without_traceback(model_copy):
    (model_copy / "face_landmarker.task").unlink()
    proc = cli("doctor", env={"AVATAR_BRIDGE_MODELS": str(model_copy)})
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "FAIL models" in proc.stdout and "ok   python" in proc.stdout
