"""What recognised expressions, actions, gestures and moods make the avatar do: `[reactions]`.

Config (one inline table per class, every output optional):

    [reactions.expression]
    happy = { blend = "Joy", weight = 1.0, vrchat = "ABHappy" }
    [reactions.gesture]
    like = { vrchat = "ThumbsUp", vrchat_float = "ThumbsUpScore" }

- `blend`: an extra blendshape channel (a VRM expression preset such as Joy, or any custom shape)
  appended to the frame's shapes, so it reaches VMC receivers as `/VMC/Ext/Blend/Val` and
  WebSocket clients in the hello's names like any other shape. `mode = "trigger"` (default):
  weight x probability while the class's trigger is on, else 0; `mode = "probability"`:
  weight x probability all the time. Several classes on one shape: the largest wins.
- `vrchat`: a VRChat bool parameter (`/avatar/parameters/<name>`), true while the trigger is on;
  one-shot triggers (wave, clap, ...) hold it true for `pulse_s` (default 0.5 s) so that an
  animator sees it.
- `vrchat_float`: a VRChat float parameter with the class probability.
Trigger events themselves (WebSocket `events`, VMC `/VMC/Ext/Key`) are always sent.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ConfigError, show_key
from .frame import Parameters, Person

KINDS = ("expression", "action", "gesture", "mood", "activity", "pair_activity")
_FIELDS = {"blend": str, "weight": float, "mode": str, "vrchat": str, "vrchat_float": str, "pulse_s": float}
MODES = ("trigger", "probability")


@dataclass(frozen=True)
class Reaction:
    kind: str  # expression | action | gesture | mood | activity
    name: str  # the class, e.g. happy
    blend: str = ""
    weight: float = 1.0
    mode: str = "trigger"
    vrchat: str = ""
    vrchat_float: str = ""
    pulse_s: float = 0.5


def parse_reactions(where: str, table: object, known: dict[str, tuple[str, ...]]) -> tuple[Reaction, ...]:
    """The [reactions] table -> Reactions; `known`: class names per kind to check against (a kind
    missing from it, e.g. actions of a custom model, is not checked)."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of [reactions.<kind>] tables")
    out = []
    for kind, classes in table.items():
        if kind not in KINDS:
            raise ConfigError(f"{where}: unknown kind {show_key(kind)}; allowed: {', '.join(KINDS)}")
        if not isinstance(classes, dict):
            raise ConfigError(f"{where}: `{kind}` must be a table: [reactions.{kind}] then lines like "
                              "happy = { blend = \"Joy\" }")
        for name, spec in classes.items():
            w = f"{where[:-len('[reactions]')]}[reactions.{kind}] {show_key(name)}"
            if kind in known and name not in known[kind]:
                raise ConfigError(f"{w}: unknown {kind} {show_key(name)}; known: {', '.join(known[kind])}")
            if not isinstance(spec, dict):
                raise ConfigError(f"{w} must be a table, e.g. {{ blend = \"Joy\", vrchat = \"Happy\" }}")
            kwargs = {}
            for key, value in spec.items():
                typ = _FIELDS.get(key)
                if typ is None:
                    raise ConfigError(f"{w}: unknown key {show_key(key)}; allowed: {', '.join(_FIELDS)}")
                if typ is float and isinstance(value, (int, float)) and not isinstance(value, bool):
                    value = float(value)
                if not isinstance(value, typ):
                    raise ConfigError(f"{w} {key}: expected {'a number' if typ is float else 'a string'}")
                kwargs[key] = value
            r = Reaction(kind, name, **kwargs)
            if r.mode not in MODES:
                raise ConfigError(f"{w} mode: {r.mode!r} is not one of {', '.join(MODES)}")
            if not 0 <= r.weight <= 10 or not 0 <= r.pulse_s <= 10:
                raise ConfigError(f"{w}: weight and pulse_s must lie between 0 and 10")
            if not (r.blend or r.vrchat or r.vrchat_float):
                raise ConfigError(f"{w}: give at least one output (blend, vrchat or vrchat_float)")
            out.append(r)
    return tuple(out)


def _unique(names) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))


class ReactionState:
    """Per frame: `update(t, classes, events)` -> (blend values, VRChat bools, VRChat floats), in
    the orders of `blend_names`, `bool_names` and `float_names`."""

    def __init__(self, reactions: tuple[Reaction, ...]):
        self.reactions = reactions
        self.blend_names = _unique(r.blend for r in reactions)
        self.bool_names = _unique(r.vrchat for r in reactions)
        self.float_names = _unique(r.vrchat_float for r in reactions)
        # per reaction, resolved once: (kind, name), slot in blend/bools/floats (-1: none)
        self._slots = [((r.kind, r.name), self.blend_names.index(r.blend) if r.blend else -1,
                        self.bool_names.index(r.vrchat) if r.vrchat else -1,
                        self.float_names.index(r.vrchat_float) if r.vrchat_float else -1) for r in reactions]
        self._pulse = {}
        for r in reactions:
            self._pulse[(r.kind, r.name)] = max(self._pulse.get((r.kind, r.name), 0.0), r.pulse_s)
        # (kind, name) -> (on until this time, inf while held; probability when a one-shot fired)
        self._on: dict[tuple[str, str], tuple[float, float | None]] = {}
        self._names: tuple[str, ...] | None = None
        self._slots_in_names = np.zeros(0, np.intp)

    def update(self, t: float, classes: dict[str, dict[str, float]], events: list[dict]):
        for e in events:
            key = (e.get("type"), e.get("name"))
            state = e.get("state")
            if state == "end":
                self._on.pop(key, None)
            elif state == "start":
                self._on[key] = (np.inf, None)
            else:  # one-shot: held for its pulse at the probability it fired with
                self._on[key] = (t + self._pulse.get(key, 0.5), float(e.get("value", 1.0)))
        blend = np.zeros(len(self.blend_names), np.float32)
        bools = np.zeros(len(self.bool_names), bool)
        floats = np.zeros(len(self.float_names), np.float32)
        for r, (key, bi, oi, fi) in zip(self.reactions, self._slots):
            p = float(classes.get(r.kind, {}).get(r.name, 0.0))
            until, fired = self._on.get(key, (-np.inf, None))
            on = until >= t
            if bi >= 0:
                v = p if r.mode == "probability" else (fired if fired is not None else p) if on else 0.0
                blend[bi] = max(blend[bi], r.weight * v)
            if oi >= 0:
                bools[oi] |= on
            if fi >= 0:
                floats[fi] = max(floats[fi], p)
        for key in [k for k, (until, _) in self._on.items() if until < t]:
            del self._on[key]
        return blend, bools, floats

    def output_names(self, mapped: tuple[str, ...]) -> tuple[str, ...]:
        """The frame's shape names: the mapped ones, then the `blend` shapes the mapping lacks."""
        return mapped + tuple(n for n in self.blend_names if n not in mapped)

    def react(self, t: float, person: Person) -> None:
        """Raises the person's `blend` shapes to their reaction values and sets their VRChat parameters."""
        blend, bools, floats = self.update(t, person.classes, person.events)
        if person.blend_names is not self._names:
            self._names = person.blend_names
            self._slots_in_names = np.array([person.blend_names.index(n) for n in self.blend_names], np.intp)
        slots = self._slots_in_names
        person.blend_values[slots] = np.maximum(person.blend_values[slots], blend)
        person.parameters = Parameters(self.bool_names, bools, self.float_names, floats)
