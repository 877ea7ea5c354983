"""OSC encoding checked by two independent parsers: python-osc and liblo's oscdump."""
import socket

import numpy as np
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from bridge.arkit import ARKIT_NAMES
from bridge.protocols import osc, vmc, vrchat
from conftest import Oscdump, free_port

import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent / "vectors"))
from generate import golden_frame  # noqa: E402


def _messages(packets):
    out = []
    for p in packets:
        out.extend(OscBundle(p))
    return out


def test_message_encoding_matches_python_osc():
    m = OscMessage(osc.message("/a/bc", "sif", "name", -7, 0.5))
    assert m.address == "/a/bc" and m.params == ["name", -7, 0.5]
    assert len(osc.message("/abc", "")) % 4 == 0


def test_vmc_frame_order_and_contents():
    f = golden_frame().people[0]
    packets = vmc.encode_vmc(f, 12.5)
    assert all(len(p) <= 1472 for p in packets)
    msgs = _messages(packets)
    addrs = [m.address for m in msgs]
    assert msgs[0].address == "/VMC/Ext/Key" and msgs[0].params == [1, "expression:happy", 0]  # the trigger, first
    assert addrs[1:4] == ["/VMC/Ext/OK", "/VMC/Ext/T", "/VMC/Ext/Root/Pos"]
    assert addrs[-1] == "/VMC/Ext/Blend/Apply"
    blends = [m.params for m in msgs if m.address == "/VMC/Ext/Blend/Val"]
    assert [b[0] for b in blends] == list(ARKIT_NAMES)
    np.testing.assert_allclose([b[1] for b in blends], f.blend_values, atol=1e-6)
    head = next(m.params for m in msgs if m.address == "/VMC/Ext/Bone/Pos" and m.params[0] == "Head")
    np.testing.assert_allclose(head[4:], [0, np.sqrt(0.5), 0, np.sqrt(0.5)], atol=1e-6)


def test_pack_bundles_splits_at_limit():
    msgs = [osc.message("/x", "sf", f"name{i:03d}", 1.0) for i in range(200)]
    packets = osc.pack_bundles(msgs, 256)
    assert all(len(p) <= 256 for p in packets)
    assert [m.params[0] for m in _messages(packets)] == [f"name{i:03d}" for i in range(200)]


def test_vrchat_change_filter():
    cf = vrchat.ChangeFilter(epsilon=0.01, refresh_s=1.0)
    v = np.zeros(5)
    assert len(cf.select(v, 0.0)) == 5
    v2 = v.copy(); v2[2] = 0.5
    assert cf.select(v2, 0.1).tolist() == [2]
    assert len(cf.select(v2, 0.2)) == 0
    assert len(cf.select(v2, 1.3)) == 5


def test_oscdump_parses_vmc_over_udp():
    port = free_port()
    dump = Oscdump(port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for p in vmc.encode_vmc(golden_frame().people[0], 12.5):
        s.sendto(p, ("127.0.0.1", port))
    s.close()
    import time; time.sleep(0.3)
    lines = dump.stop()
    blend = [l for l in lines if " /VMC/Ext/Blend/Val sf " in l]
    assert len(blend) == 52
    assert any('/VMC/Ext/Bone/Pos sfffffff "Head" 0.000000 0.000000 0.000000 0.000000 0.707107 0.000000 0.707107' in l
               for l in lines)
    assert lines[-1].split()[1] == "/VMC/Ext/Blend/Apply"
