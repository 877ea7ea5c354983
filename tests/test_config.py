"""Config validation, presets, flag overrides and hot reload."""
import time
from pathlib import Path

import numpy as np
import pytest

from bridge.config import Config, from_tables, load
from bridge.errors import ConfigError
from bridge.mapping import Mapper, load_preset, merge, parse_spec
from bridge.config_watch import ConfigWatcher
from bridge.outputs import avatar_mapper

EXAMPLE = Path(__file__).resolve().parent.parent / "bridge" / "assets" / "avatar-bridge.toml"


def test_example_config_is_valid_and_equals_defaults():
    assert load(EXAMPLE) == Config()


@pytest.mark.parametrize("tables, message", [
    ({"vmc": {"port": 70000}}, "[vmc] port = 70000: must be between 1 and 65535"),
    ({"vmc": {"port": "39539"}}, "expected an integer"),
    ({"source": {"mirror": "yes"}}, "expected true or false"),
    ({"vrchat": {"names": "arkit"}}, "allowed values are unified, mapping"),
    ({"mapping": {"outputs": {"Smile": {"mouthSmile": 1}}}}, "unknown shape 'mouthSmile'"),
    ({"mapping": {"shapes": {"jawOpen": {"gian": 2}}}}, "unknown key 'gian'"),
    ({"mapping": {"shapes": {"jawOpen": {"dead_zone": 1.0}}}}, "dead_zone must be in [0, 1)"),
    ({"websocket": {"host": "0.0.0.0"}}, "allow_remote"),
    ({"bogus": {}}, "unknown section [bogus]"),
])
def test_errors_name_key_and_allowed_values(tables, message):
    with pytest.raises(ConfigError) as e:
        from_tables(tables, "my.toml")
    assert message in str(e.value) and str(e.value).startswith("my.toml")


@pytest.mark.parametrize("vmc, slot", [({"ports": [39600, 39601], "names": {"alice": 39601}}, 2),
                                       ({"port": 39539, "names": {"bob": 39550, "alice": 39539}}, 1)])
def test_a_names_port_must_not_be_a_slots(vmc, slot):
    """Two people on one avatar: a name routed to a port that a slot (`ports`, or port + N - 1) sends to."""
    with pytest.raises(ConfigError) as e:
        from_tables({"tracking": {"people": 2}, "vmc": vmc}, "my.toml")
    port = vmc["names"]["alice"]
    assert str(e.value).startswith("my.toml: [vmc] names = ")
    assert f"alice's port {port} is also slot {slot}'s" in str(e.value) and "give alice a port no slot uses" in str(e.value)
    assert from_tables({"tracking": {"people": 2}, "vmc": {**vmc, "names": {"alice": 39700}}})
    assert from_tables({"vmc": vmc})  # one person: nobody else can drive that avatar


def test_tuning_of_unknown_output_is_rejected():
    cfg = from_tables({"mapping": {"preset": "vrm0", "shapes": {"jawOpen": {"gain": 2}}}})
    with pytest.raises(ConfigError, match="not an output"):
        avatar_mapper(cfg)


def test_mapping_mix_rename_and_tuning():
    spec = merge(load_preset("none"), parse_spec("t", {
        "outputs": {"MouthOpen": "jawOpen", "Smile": {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5}},
        "shapes": {"MouthOpen": {"gain": 2.0, "dead_zone": 0.1, "max": 1.0}, "Smile": {"curve": 2.0}},
    }))
    m = Mapper(spec)
    assert m.names == ("MouthOpen", "Smile")
    x = np.zeros(52, np.float32)
    from bridge.arkit import INDEX
    x[INDEX["jawOpen"]] = 0.05  # inside the dead zone
    x[INDEX["mouthSmileLeft"]] = 1.0
    x[INDEX["mouthSmileRight"]] = 0.0
    np.testing.assert_allclose(m.apply(x), [0.0, 0.25], atol=1e-6)
    x[INDEX["jawOpen"]] = 0.55
    assert m.apply(x)[0] == pytest.approx(1.0)  # (0.45 / 0.9) * 2 = 1.0


@pytest.mark.parametrize("preset", ["arkit", "vrm0", "vrm1", "vrchat_unified"])
def test_presets_compile_and_stay_in_range(preset):
    m = Mapper(load_preset(preset))
    rng = np.random.default_rng(0)
    for _ in range(50):
        y = m.apply(rng.random(52).astype(np.float32))
        assert np.all(y >= m.lo) and np.all(y <= m.hi)


def test_vrm_presets_have_the_standard_names():
    assert {"A", "I", "U", "E", "O", "Blink", "Blink_L", "Blink_R", "Joy", "Angry", "Sorrow", "Fun"} <= set(Mapper(load_preset("vrm0")).names)
    assert {"aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight", "happy", "angry", "sad", "relaxed",
            "surprised"} <= set(Mapper(load_preset("vrm1")).names)


def test_hot_reload_keeps_last_good_config(tmp_path, caplog):
    path = tmp_path / "c.toml"
    path.write_text('[mapping]\npreset = "vrm0"\n')
    got = []
    w = ConfigWatcher(path, lambda: {"vmc": {"port": 1234}}, got.append)
    path.write_text('[mapping]\npreset = "vrm1"\n')
    w.check()
    assert got[-1].mapping.preset == "vrm1" and got[-1].vmc.port == 1234  # flags still win
    time.sleep(0.01)
    path.write_text('[mapping]\npreset = "nope"\n')
    w.check()
    w.check()
    assert len(got) == 1
    assert sum("keeping the last good config" in r.message for r in caplog.records) == 1  # said once
    path.unlink()
    w.check()
    assert len(got) == 1
    path.write_text('[mapping]\npreset = "arkit"\n')
    w.check()
    assert got[-1].mapping.preset == "arkit"


@pytest.mark.parametrize("tables, message", [
    ({"vmc": {"host": "nosuchhost.invalid"}}, "[vmc] host = 'nosuchhost.invalid': cannot resolve"),
    ({"vrchat": {"enabled": True, "host": "300.1.1.1"}}, "[vrchat] host = '300.1.1.1': '300.1.1.1' is not a valid IP"),
    ({"websocket": {"host": "nosuchhost.invalid", "allow_remote": True, "token": "x" * 16}},
     "[websocket] host = 'nosuchhost.invalid': cannot resolve"),
    ({"pose": {"model": "heavy"}}, "[pose] model = 'heavy': allowed values are lite, full"),
])
def test_hosts_resolve_and_only_shipped_models_are_offered(tables, message):
    with pytest.raises(ConfigError) as e:
        from_tables(tables, "my.toml")
    assert str(e.value).startswith(f"my.toml: {message}")
    assert from_tables({"vmc": {"host": "nosuchhost.invalid", "enabled": False}})  # only used addresses matter


def test_errors_say_where_the_value_came_from(tmp_path):
    """A flag's value is named as typed, a file's by its key, a live edit (a WebSocket set_preset) by
    its key alone: never an internal origin such as "flags:"."""
    labels = {("websocket", "host"): "--ws 0.0.0.0:8765", ("websocket", "port"): "--ws 0.0.0.0:8765"}
    with pytest.raises(ConfigError) as e:
        load(None, {"websocket": {"host": "0.0.0.0", "port": 8765}}, labels)
    assert str(e.value).startswith("--ws 0.0.0.0:8765: this exposes the control socket") and "--ws-allow-remote" in str(e.value)
    path = tmp_path / "c.toml"
    path.write_text('[mapping]\npreset = "vrm0"\n[vmc]\nport = 0\n')
    with pytest.raises(ConfigError) as e:
        load(path, {"mapping": {"preset": "vrm1"}, "vmc": {"host": "127.0.0.2"}})
    assert str(e.value) == f"{path}: [vmc] port = 0: must be between 1 and 65535"  # the file's own mistake
    path.write_text('[mapping]\npreset = "vrm0"\n')
    with pytest.raises(ConfigError) as e:
        load(path, {"mapping": {"preset": "nope"}})
    assert str(e.value) == "[mapping] preset = 'nope': allowed values are arkit, vrm0, vrm1, none"
    with pytest.raises(ConfigError) as e:
        load(path, {"mapping": {"outputs": {"Smile": {"mouthSmile": 1}}}})
    assert str(e.value).startswith("[mapping]") and "unknown shape 'mouthSmile'" in str(e.value)
