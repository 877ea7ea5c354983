import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", ROOT.parent / "shared" / "fixtures"))
FACE = FIXTURES / "face"


def pytest_configure(config):
    if not FACE.is_dir():
        raise pytest.UsageError(f"test fixtures not found at {FIXTURES}: set AVATAR_BRIDGE_FIXTURES")


def free_port(kind=socket.SOCK_DGRAM) -> int:
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="session")
def tracker():
    from bridge.tracking.face import FaceTracker
    t = FaceTracker()
    yield t
    t.close()


def cli(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed console script exactly as a user would."""
    exe = shutil.which("avatar-bridge") or sys.executable
    cmd = [exe, *args] if exe.endswith("avatar-bridge") else [exe, "-m", "bridge.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


class Oscdump:
    """liblo's oscdump, an independent OSC parser, listening on a UDP port."""

    def __init__(self, port: int):
        if shutil.which("oscdump") is None:
            pytest.fail("oscdump not found: install Debian's liblo-tools (.ci/run does)")
        # A file, not a pipe: an unread pipe fills up, blocks oscdump and UDP packets get dropped.
        self.out = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(["oscdump", "-L", str(port)], stdout=self.out, stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    def stop(self) -> list[str]:
        time.sleep(0.2)
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.out.seek(0)
        return self.out.read().splitlines()
