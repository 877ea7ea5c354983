"""`avatar-bridge doctor`: checks what commonly goes wrong and says how to fix each problem."""
from __future__ import annotations

import socket
import sys
from pathlib import Path

from .errors import BridgeError


def _check(name: str, fn) -> bool:
    try:
        detail = fn()
    except BridgeError as e:
        print(f"  FAIL {name}: {e}")
        return False
    except Exception as e:  # noqa: BLE001 - doctor reports everything it finds
        print(f"  FAIL {name}: {e.__class__.__name__}: {e}")
        return False
    print(f"  ok   {name}{': ' + detail if detail else ''}")
    return True


def _python() -> str:
    if sys.version_info < (3, 11):
        raise BridgeError(f"Python {sys.version.split()[0]} is too old: install Python 3.11 or newer")
    return sys.version.split()[0]


def _packages() -> str:
    import cv2
    import mediapipe
    import onnxruntime
    import websockets
    return (f"mediapipe {mediapipe.__version__}, onnxruntime {onnxruntime.__version__}, "
            f"opencv {cv2.__version__}, websockets {websockets.__version__}")


def _models() -> str:
    from .models import load_model
    m = load_model("face_landmarker")
    return f"{m.path} (sha256 ok)"


def _tracker() -> str:
    from .tracking.face import FaceTracker
    with FaceTracker():
        return "FaceLandmarker loads"


def _camera(index: str) -> str:
    import cv2

    from . import sources  # noqa: F401  (silences OpenCV's own logging)
    cap = cv2.VideoCapture(int(index))
    try:
        if not cap.isOpened():
            raise BridgeError(f"camera {index} cannot be opened: connect a webcam, close other apps using it, "
                              "or use --source VIDEO (no webcam is fine for `avatar-bridge demo`)")
        ok, frame = cap.read()
        if not ok:
            raise BridgeError(f"camera {index} opened but gave no image: another app may hold it")
        return f"{frame.shape[1]}x{frame.shape[0]}"
    finally:
        cap.release()


def _port_free(host: str, port: int, what: str, flag: str) -> str:
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
    except OSError:
        raise BridgeError(f"{what} port {host}:{port} is in use: stop the program using it or pass {flag}") from None
    finally:
        s.close()
    return f"{host}:{port} is free"


def run_checks(config_path: Path | None, camera: str) -> int:
    from .config import load
    print("avatar-bridge doctor")
    results = [_check("python", _python), _check("packages", _packages), _check("models", _models),
               _check("face tracker", _tracker)]
    cfg = None
    try:
        cfg = load(config_path)
        print(f"  ok   config: {config_path or 'defaults'}")
    except BridgeError as e:
        print(f"  FAIL config: {e}")
        results.append(False)
    if cfg is not None and cfg.websocket.enabled:
        results.append(_check("websocket port", lambda: _port_free(cfg.websocket.host, cfg.websocket.port,
                                                                     "WebSocket", "--ws HOST:PORT")))
    cam_ok = _check(f"camera {camera}", lambda: _camera(camera))
    if cam_ok:
        results.append(True)
    print("all checks passed" if all(results) and cam_ok else
          "some checks failed (a missing camera only matters for live tracking)")
    return 0 if all(results) else 1
