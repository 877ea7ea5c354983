"""The class names each recogniser reports: read by the classifiers, `[reactions]` and the config check."""
from __future__ import annotations

EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # FER2013 order
GESTURES = ("like", "dislike", "fist", "palm", "one", "peace", "ok", "rock")  # HaGRID names
MODEL_ACTIONS = ("wave", "clap", "punch", "kick", "bow", "idle")  # what the shipped action model's classes map to
RULE_ACTIONS = ("raise_hand", "nod", "head_shake", "jump", "squat")
ACTIONS = MODEL_ACTIONS + RULE_ACTIONS
