"""Mood: face and body evidence fused at the decision level."""
import pytest

from bridge.classify.expression import CLASSES
from bridge.classify.mood import MoodFusion
from conftest import FIXTURES
from helpers import run_frames

NEUTRAL_FACE = {c: (0.7 if c == "neutral" else 0.05) for c in CLASSES}


def test_face_alone_is_the_mood():
    m = MoodFusion().update(0.0, {"expression": NEUTRAL_FACE})
    assert m == pytest.approx({c: v / sum(NEUTRAL_FACE.values()) for c, v in NEUTRAL_FACE.items()})


def test_a_clap_lifts_the_mood_for_a_while_then_fades():
    m = MoodFusion(body_weight=1.0, hold_s=1.0)
    base = m.update(0.0, {"expression": NEUTRAL_FACE})
    lifted = m.update(0.1, {"expression": NEUTRAL_FACE, "action": {"clap": 0.9}})
    assert lifted["happy"] > lifted["neutral"] > 0 and lifted["happy"] > 5 * base["happy"]
    later = m.update(1.1, {"expression": NEUTRAL_FACE, "action": {"clap": 0.0}})
    assert base["happy"] < later["happy"] < lifted["happy"]
    gone = m.update(6.0, {"expression": NEUTRAL_FACE})
    assert gone["happy"] == pytest.approx(base["happy"], abs=0.01)


def test_nothing_to_say_gives_no_mood():
    assert MoodFusion().update(0.0, {"action": {"clap": 0.0}}) == {}


def test_a_fist_makes_an_angry_mood_through_the_pipeline():
    """Hands only (no face): the fist photos give an angry mood and a mood trigger."""
    frames = run_frames(FIXTURES / "gesture" / "fist", None, {"face": {"enabled": False}, "hands": {"enabled": True}},
                        max_frames=12)
    people = [f.people[0] for f in frames]
    moods = [p.classes["mood"] for p in people if "mood" in p.classes]
    assert moods and max(moods[-1], key=moods[-1].get) == "angry"
    assert any(e["type"] == "mood" and e["name"] == "angry" and e.get("state") == "start" for p in people for e in p.events)
