"""The shared class names match what the recognisers report."""
from bridge.classes import EXPRESSIONS, MODEL_ACTIONS
from bridge.classify.action import AVATAR_FROM_MODEL
from bridge.models import load_model


def test_class_names_are_the_recognisers_own():
    assert tuple(AVATAR_FROM_MODEL) == MODEL_ACTIONS
    assert tuple(load_model("expression_fusion").card["classes"]) == EXPRESSIONS
