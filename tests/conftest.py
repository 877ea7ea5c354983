import inspect
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", ROOT.parent / "shared" / "fixtures"))
FACE = FIXTURES / "face"
NO_FIXTURES = (f"needs the real test media, not found at {FIXTURES}: they are not in the repository "
               "(licences); point AVATAR_BRIDGE_FIXTURES at a copy (README, Test)")


def _is_media(value) -> bool:
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_is_media(v) for v in value)
    return isinstance(value, Path) and (value == FIXTURES or FIXTURES in value.parents)


def _code_uses_media(code: types.CodeType, env: dict, seen: set) -> bool:
    """Whether code names a media path (FACE, a module's VIDEO = FACE / ...) itself, in a nested
    function or lambda, or through a function of the test suite that it calls."""
    for name in code.co_names:
        value = env[name] if name in env else globals().get(name)  # also `from conftest import FACE` in a test
        if _is_media(value):
            return True
        if inspect.isfunction(value) and value not in seen and TESTS in Path(value.__code__.co_filename).parents:
            seen.add(value)
            if _code_uses_media(value.__code__, value.__globals__, seen):
                return True
    return any(isinstance(c, types.CodeType) and _code_uses_media(c, env, seen) for c in code.co_consts)


def _uses_media(item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and _is_media(list(callspec.params.values())):
        return True
    funcs = [item.function]
    for name in item.fixturenames:
        funcs += [d.func for d in item._fixtureinfo.name2fixturedefs.get(name, ())]
    seen: set = set()
    return any(_code_uses_media(f.__code__, f.__globals__, seen) for f in funcs if inspect.isfunction(f))


def pytest_collection_modifyitems(config, items):
    """Without the media every test that reads them is skipped, saying why; the rest still run."""
    if FACE.is_dir():
        return
    for item in items:
        if isinstance(item, pytest.Function) and _uses_media(item):
            item.add_marker(pytest.mark.skip(reason=NO_FIXTURES))


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
