"""The class names each recogniser reports: read by the classifiers, `[reactions]` and the config check."""
from __future__ import annotations

EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # FER2013 order
GESTURES = ("like", "dislike", "fist", "palm", "one", "peace", "ok", "rock", "l_sign")  # HaGRID names (l_sign: v2 thumb_index)
MODEL_ACTIONS = ("wave", "clap", "punch", "kick", "bow", "idle")  # what the shipped action model's classes map to
RULE_ACTIONS = ("raise_hand", "nod", "head_shake", "jump", "squat")
ACTIONS = MODEL_ACTIONS + RULE_ACTIONS
PERSON_ACTIVITIES = ("standing", "sitting", "walking", "sitting_down", "standing_up")  # activity_person_mlp's classes
RULE_ACTIVITIES = ("lying", "falling")
PAIR_ACTIVITIES = ("fighting", "friendly", "none")  # activity_pair_mlp: two people (with --people 2 or more)
ACTIVITIES = PERSON_ACTIVITIES + RULE_ACTIVITIES
