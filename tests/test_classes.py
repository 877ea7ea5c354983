"""The shared class names match what the recognisers report."""
def test_class_names_are_the_recognisers_own():
    from bridge.classes import MODEL_ACTIONS
    from bridge.classify.action import AVATAR_FROM_MODEL
    assert tuple(AVATAR_FROM_MODEL) == MODEL_ACTIONS
