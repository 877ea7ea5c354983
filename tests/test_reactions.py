"""[reactions]: config parsing with one-line errors, and how triggers become shapes and parameters."""
import pytest

from bridge.config import from_tables
from bridge.errors import ConfigError
from bridge.reactions import ReactionState
from conftest import cli


def _state(table):
    return ReactionState(from_tables({"reactions": table}).reactions)


def test_held_trigger_drives_shape_and_bool_while_on():
    r = _state({"expression": {"happy": {"blend": "Joy", "weight": 0.5, "vrchat": "Happy", "vrchat_float": "HappyP"}}})
    assert (r.blend_names, r.bool_names, r.float_names) == (("Joy",), ("Happy",), ("HappyP",))
    probs = {"expression": {"happy": 0.8}}
    b, on, f = r.update(0.0, probs, [])
    assert b[0] == 0 and not on[0] and f[0] == pytest.approx(0.8)  # probability flows, the trigger is off
    b, on, _ = r.update(0.1, probs, [{"type": "expression", "name": "happy", "state": "start", "value": 0.8}])
    assert b[0] == pytest.approx(0.4) and on[0]
    b, on, _ = r.update(5.0, {"expression": {"happy": 0.9}}, [])
    assert b[0] == pytest.approx(0.45) and on[0]  # held until the end event
    b, on, _ = r.update(5.1, probs, [{"type": "expression", "name": "happy", "state": "end", "value": 0.3}])
    assert b[0] == 0 and not on[0]


def test_one_shot_pulses_for_pulse_s():
    r = _state({"action": {"wave": {"blend": "Wave", "vrchat": "Wave", "pulse_s": 0.3}}})
    b, on, _ = r.update(1.0, {"action": {"wave": 0.7}}, [{"type": "action", "name": "wave", "value": 0.7}])
    assert on[0] and b[0] == pytest.approx(0.7)
    b, on, _ = r.update(1.2, {"action": {"wave": 0.1}}, [])
    assert on[0] and b[0] == pytest.approx(0.7)  # held at the value it fired with
    b, on, _ = r.update(1.31, {"action": {"wave": 0.1}}, [])
    assert not on[0] and b[0] == 0


def test_probability_mode_and_shared_shapes():
    r = _state({"expression": {"happy": {"blend": "Smile", "mode": "probability"}},
                "gesture": {"like": {"blend": "Smile", "mode": "probability"}}})
    b, _, _ = r.update(0.0, {"expression": {"happy": 0.3}, "gesture": {"like": 1.0}}, [])
    assert r.blend_names == ("Smile",) and b[0] == 1.0  # the largest wins
    b, _, _ = r.update(0.1, {"expression": {"happy": 0.3}}, [])
    assert b[0] == pytest.approx(0.3)


@pytest.mark.parametrize("table, words", [
    ({"expresion": {}}, ["unknown kind expresion", "expression"]),
    ({"expression": {"hapy": {"blend": "Joy"}}}, ["[reactions.expression] hapy", "happy"]),
    ({"gesture": {"like": {"blend": 3}}}, ["blend", "a string"]),
    ({"gesture": {"like": {}}}, ["at least one output"]),
    ({"gesture": {"like": {"vrchat": "x", "colour": "red"}}}, ["unknown key colour"]),
    ({"gesture": {"like": {"vrchat": "x", "mode": "sometimes"}}}, ["mode", "trigger"]),
    ({"action": {"moonwalk": {"vrchat": "x"}}}, ["unknown action moonwalk", "wave"]),
])
def test_bad_reactions_say_what_to_fix(table, words):
    with pytest.raises(ConfigError) as e:
        from_tables({"reactions": table})
    msg = str(e.value)
    assert "\n" not in msg and all(w in msg for w in words), msg


def test_custom_action_models_may_name_their_own_actions():
    cfg = from_tables({"classify": {"action_model": "action_custom", "action_model_dir": "/tmp/x"},
                       "reactions": {"action": {"dab": {"vrchat": "Dab"}}}})
    assert cfg.reactions[0].name == "dab"


def test_cli_reports_a_bad_reaction_in_one_line(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[reactions.expression]\nhappy = { blend = "Joy", wieght = 2 }\n')
    p = cli("run", "--config", str(f), "--source", "nothing.mp4", "-q")
    assert p.returncode == 2 and "wieght" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
