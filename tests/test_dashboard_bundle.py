"""The dashboard's 3D avatar bundle as installed: `pip install` (setup.py) ran esbuild on web/ and
put static/avatar.js and the bundled packages' licences into bridge.dashboard; pages() serves
them and the avatar. Without the bundle (an install without Node.js) the page, in Chromium, asks
for no missing file and says how to get the 3D view."""
import json
from importlib import resources

from bridge import dashboard
from bridge.protocols import jsonframe
from conftest import ROOT
from browser_env import chrome_driver, severe_logs, wait_for

WEB = ROOT / "web"


def test_installed_package_holds_the_bundle_and_its_licences():
    static = resources.files("bridge.dashboard").joinpath("static")
    js = static.joinpath("avatar.js").read_text()
    assert len(js) > 300_000 and "VRMC_vrm" in js and "avatarProbe" in js, "not three + three-vrm + our code"
    assert "qmulInto" not in js and len(js) < 1_500_000, "not minified"  # our internal names are gone
    licences = static.joinpath("THIRD_PARTY_LICENSES.txt").read_text()
    for package in ("three", "@pixiv/three-vrm"):
        meta = json.loads((WEB / "node_modules" / package / "package.json").read_text())
        assert f"{package} {meta['version']} (MIT)" in licences
        assert (WEB / "node_modules" / package / "LICENSE").read_text().strip() in licences


def test_pages_serve_bundle_licences_and_avatar(tmp_path):
    pages = dashboard.pages()
    ctype, js = pages["/static/avatar.js"]
    assert ctype.startswith("text/javascript") and js == resources.files("bridge.dashboard").joinpath(
        "static/avatar.js").read_bytes()
    assert pages["/static/THIRD_PARTY_LICENSES.txt"][0].startswith("text/plain")
    assert b'<meta name="avatar-bundle" content="/static/avatar.js">' in pages["/"][1]
    assert pages["/avatar.vrm"] == ("model/gltf-binary", (ROOT / "bridge" / "assets" / "test_avatar.vrm").read_bytes())
    own = tmp_path / "mine.vrm"
    own.write_bytes(b"glTF my avatar")
    assert dashboard.pages(own)["/avatar.vrm"][1] == b"glTF my avatar"


def test_page_without_the_bundle_says_how_to_get_it(tmp_path):
    """The page as an install without Node.js serves it: no bundle, no request for one, a note."""
    from bridge.transports.websocket import WebSocketServer

    page = (ROOT / "bridge" / "dashboard" / "index.html").read_bytes()
    assert dashboard.BUNDLE_MARK in page
    hello = jsonframe.hello(("jawOpen",), ("Head",), mirror=True)
    server = WebSocketServer("127.0.0.1", 0, hello, lambda control, fut: fut.set_result((True, "ok")),
                             pages={"/": ("text/html; charset=utf-8", page)})
    server.start()
    driver = chrome_driver(tmp_path / "chrome", webgl=False)
    try:
        driver.get(f"http://127.0.0.1:{server.port}/")
        wait_for(lambda: driver.find_element("id", "conn").text == "connected", what="the page to connect")
        note = driver.find_element("id", "avatar-off")
        assert note.is_displayed() and "install Node.js" in note.text and "reinstall" in note.text
        assert not driver.find_element("id", "avatar").is_displayed()
        assert driver.execute_script("return window.AvatarView === undefined")
        assert not severe_logs(driver)  # nothing requested that is not there
        driver.get("about:blank")
        wait_for(lambda: server.client_count == 0, timeout=10, what="the page to disconnect")
        # Chromium keeps a speculative connection open; the server drops it at its handshake timeout.
        wait_for(lambda: not server._server.handler_tasks, timeout=15, what="idle connections to close")
    finally:
        driver.quit()
        server.stop()
