"""Class probabilities -> avatar events, without flicker.

Per class (TriggerRule):
- hysteresis: a class turns on at `enter` and off only below `exit` (exit < enter);
- minimum hold (debounce on the way in): the probability must stay >= enter for `min_hold_s`
  before the start fires, so a one-frame spike fires nothing;
- release (debounce on the way out): it must stay below `exit` for `release_s` before the end;
- cooldown: after an end (or a one-shot event) no new start for `cooldown_s`;
- one-shot classes (most actions) emit one event without `state` when they turn on, and re-arm
  only after falling below `exit` (so a held gesture fires exactly once).

Events: {"type": "expression"|"action"|..., "name": str, "state": "start"|"end", "value": float};
one-shot events have no "state". `value` is the probability at that moment.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TriggerRule:
    enter: float = 0.6
    exit: float = 0.4
    min_hold_s: float = 0.15
    release_s: float = 0.1
    cooldown_s: float = 0.5
    one_shot: bool = False

    def __post_init__(self):
        if not 0.0 <= self.exit <= self.enter <= 1.0:
            raise ValueError(f"trigger thresholds need 0 <= exit ({self.exit}) <= enter ({self.enter}) <= 1")
        if min(self.min_hold_s, self.release_s, self.cooldown_s) < 0:
            raise ValueError("trigger times must be >= 0")


@dataclass
class _State:
    active: bool = False  # on (held classes) or fired-and-not-yet-re-armed (one-shot)
    above_since: float | None = None
    below_since: float | None = None
    last_off: float = -1e18


@dataclass
class TriggerLogic:
    """`update(t, probs) -> [events]` once per frame; t in seconds (monotonic).

    kind: the events' "type". rules: per-class TriggerRule; others use `default`. exclusive: one
    held class at a time, and it may start only while it is the most probable one (sensible for
    expressions)."""

    kind: str
    rules: dict[str, TriggerRule] = field(default_factory=dict)
    default: TriggerRule = field(default_factory=TriggerRule)
    exclusive: bool = False
    _states: dict[str, _State] = field(default_factory=dict, init=False, repr=False)

    def rule(self, name: str) -> TriggerRule:
        return self.rules.get(name, self.default)

    def active(self) -> list[str]:
        return [n for n, s in self._states.items() if s.active and not self.rule(n).one_shot]

    def update(self, t: float, probs: dict[str, float]) -> list[dict]:
        events: list[dict] = []
        top = max(probs, key=probs.get) if probs else None
        for name in list(dict.fromkeys([*probs, *self._states])):
            p = float(probs.get(name, 0.0))
            r = self.rule(name)
            s = self._states.setdefault(name, _State())
            if not s.active:
                blocked = self.exclusive and (name != top or any(
                    o.active and not self.rule(n).one_shot for n, o in self._states.items() if n != name))
                if p >= r.enter and not blocked:
                    if s.above_since is None:
                        s.above_since = t
                    if t - s.above_since >= r.min_hold_s - 1e-9 and t - s.last_off >= r.cooldown_s - 1e-9:
                        s.active, s.below_since = True, None
                        ev = {"type": self.kind, "name": name, "value": round(p, 4)}
                        if not r.one_shot:
                            ev["state"] = "start"
                        else:
                            s.last_off = t  # cooldown counts from the one-shot event
                        events.append(ev)
                else:
                    s.above_since = None
            else:
                if p < r.exit:
                    if s.below_since is None:
                        s.below_since = t
                    if t - s.below_since >= r.release_s - 1e-9:
                        s.active, s.above_since = False, None
                        if not r.one_shot:
                            s.last_off = t
                            events.append({"type": self.kind, "name": name, "state": "end", "value": round(p, 4)})
                else:
                    s.below_since = None
        return events

    def reset(self, t: float) -> list[dict]:
        """End everything that is on (e.g. when tracking is lost); returns the end events."""
        events = []
        for name, s in self._states.items():
            if s.active and not self.rule(name).one_shot:
                events.append({"type": self.kind, "name": name, "state": "end", "value": 0.0})
                s.last_off = t
            s.active, s.above_since, s.below_since = False, None, None
        return events
