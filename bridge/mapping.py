"""Blendshape mapping: ARKit's 52 values -> the shapes/parameters an avatar actually has.

A mapping is a list of outputs, each a weighted mix of ARKit inputs (a rename is a mix with one
weight of 1), followed by per-output tuning: dead zone, curve, gain, offset and clamp. It is
compiled once into a (n_outputs, 52) matrix, so applying it per frame is one mat-vec and a few
vector ops. A mix term may also be the larger of two inputs, `"max(a, b)" = weight`, which
VRCFaceTracking's combined shapes need (e.g. MouthSad = max(frown, stretch)); those add one
`np.maximum` and a second mat-vec.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from .arkit import ARKIT_NAMES, INDEX, N_SHAPES
from .errors import ConfigError, show_key

PRESETS = ("arkit", "vrm0", "vrm1", "none")
TUNING_KEYS = ("gain", "offset", "curve", "dead_zone", "min", "max")
_MAX_TERM = re.compile(r"max\(\s*(\w+)\s*,\s*(\w+)\s*\)")


def max_term(src: str) -> tuple[str, str] | None:
    """The two ARKit names of a `max(a, b)` mix term, or None for a plain name."""
    m = _MAX_TERM.fullmatch(src)
    return (m.group(1), m.group(2)) if m else None


@dataclass(frozen=True, slots=True)
class Tuning:
    """Applied to a mixed value y: sign(y) * (max(|y| - dead_zone, 0) / (1 - dead_zone)) ** curve * gain + offset, clamped."""

    gain: float = 1.0
    offset: float = 0.0
    curve: float = 1.0
    dead_zone: float = 0.0
    min: float = 0.0
    max: float = 1.0


@dataclass(frozen=True)
class MappingSpec:
    """What a config or preset file says; validated, not yet compiled."""

    outputs: dict[str, dict[str, float]] = field(default_factory=dict)
    tuning: dict[str, Tuning] = field(default_factory=dict)


def _check_mix(where: str, name: str, mix: object) -> dict[str, float]:
    if isinstance(mix, str):
        mix = {mix: 1.0}
    if not isinstance(mix, dict) or not mix:
        raise ConfigError(f"{where}: output {name!r} must be an ARKit name (a rename) or a table of "
                          "ARKit name = weight, e.g. {{ jawOpen = 1.0 }}")
    out = {}
    for src, w in mix.items():
        if not all(n in INDEX for n in max_term(src) or (src,)):
            raise ConfigError(f"{where}: output {name!r} mixes unknown shape {src!r}; inputs must be "
                              f"ARKit names such as jawOpen, eyeBlinkLeft, or max(a, b) of two (see docs/config.md)")
        if isinstance(w, bool) or not isinstance(w, (int, float)):
            raise ConfigError(f"{where}: weight of {src!r} in output {name!r} must be a number, got {w!r}")
        out[src] = float(w)
    return out


def _check_tuning(where: str, name: str, table: object) -> Tuning:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [shapes.{show_key(name)}] must be a table with keys {', '.join(TUNING_KEYS)}")
    unknown = set(table) - set(TUNING_KEYS)
    if unknown:
        raise ConfigError(f"{where}: [shapes.{show_key(name)}] has unknown key {sorted(unknown)[0]!r}; "
                          f"allowed: {', '.join(TUNING_KEYS)}")
    for k, v in table.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"{where}: [shapes.{show_key(name)}] {k} must be a number, got {v!r}")
    t = Tuning(**{k: float(v) for k, v in table.items()})
    if not 0 <= t.dead_zone < 1:
        raise ConfigError(f"{where}: [shapes.{show_key(name)}] dead_zone must be in [0, 1), got {t.dead_zone}")
    if t.curve <= 0:
        raise ConfigError(f"{where}: [shapes.{show_key(name)}] curve must be > 0, got {t.curve}")
    if t.min > t.max:
        raise ConfigError(f"{where}: [shapes.{show_key(name)}] min ({t.min}) is above max ({t.max})")
    return t


def parse_spec(where: str, table: dict) -> MappingSpec:
    """Validate an `outputs`/`shapes` table pair (from a preset or the user's [mapping])."""
    for key in ("outputs", "shapes"):
        if not isinstance(table.get(key, {}), dict):
            raise ConfigError(f"{where}: [mapping.{key}] must be a table, e.g. [mapping.{key}] on its own line")
    outputs = {n: _check_mix(where, n, m) for n, m in table.get("outputs", {}).items()}
    tuning = {n: _check_tuning(where, n, t) for n, t in table.get("shapes", {}).items()}
    return MappingSpec(outputs, tuning)


def load_preset(name: str) -> MappingSpec:
    if name == "none":
        return MappingSpec()
    if name == "arkit":
        return MappingSpec({n: {n: 1.0} for n in ARKIT_NAMES})
    if name not in PRESETS and not resources.files(__package__).joinpath(f"presets/{name}.toml").is_file():
        raise ConfigError(f"unknown mapping preset {name!r}; allowed: {', '.join(PRESETS)}")
    text = resources.files(__package__).joinpath(f"presets/{name}.toml").read_text()
    return parse_spec(f"preset {name}", tomllib.loads(text))


def merge(base: MappingSpec, user: MappingSpec, drop: tuple[str, ...] = ()) -> MappingSpec:
    outputs = {n: m for n, m in base.outputs.items() if n not in drop}
    outputs.update(user.outputs)
    tuning = dict(base.tuning)
    tuning.update(user.tuning)
    return MappingSpec(outputs, tuning)


class Mapper:
    """A compiled mapping. `apply` takes (52,) ARKit values and returns (n_outputs,) float32."""

    def __init__(self, spec: MappingSpec):
        unknown = set(spec.tuning) - set(spec.outputs)
        if unknown:
            raise ConfigError(f"[mapping.shapes.{sorted(unknown)[0]}] tunes a shape that is not an output; "
                              f"outputs are: {', '.join(list(spec.outputs)[:8])}...")
        self.names: tuple[str, ...] = tuple(spec.outputs)
        n = len(self.names)
        self.weights = np.zeros((n, N_SHAPES), np.float32)
        pairs: dict[tuple[str, str], int] = {}
        max_weights: list[tuple[int, int, float]] = []
        for i, name in enumerate(self.names):
            for src, w in spec.outputs[name].items():
                pair = max_term(src)
                if pair is None:
                    self.weights[i, INDEX[src]] = w
                else:
                    max_weights.append((i, pairs.setdefault(pair, len(pairs)), w))
        self._max_a = np.array([INDEX[a] for a, _ in pairs], np.intp)
        self._max_b = np.array([INDEX[b] for _, b in pairs], np.intp)
        self.max_weights = np.zeros((n, len(pairs)), np.float32)
        for i, j, w in max_weights:
            self.max_weights[i, j] = w
        tunings = [spec.tuning.get(name, Tuning()) for name in self.names]
        col = lambda attr: np.array([getattr(t, attr) for t in tunings], np.float32)  # noqa: E731
        self.gain, self.offset, self.curve = col("gain"), col("offset"), col("curve")
        self.dead_zone, self.lo, self.hi = col("dead_zone"), col("min"), col("max")
        self._plain = bool(np.all(self.curve == 1) and np.all(self.dead_zone == 0))

    def apply(self, values: np.ndarray) -> np.ndarray:
        x = values.astype(np.float32, copy=False)
        y = self.weights @ x
        if self._max_a.size:
            y += self.max_weights @ np.maximum(x[self._max_a], x[self._max_b])
        if not self._plain:
            mag = np.maximum(np.abs(y) - self.dead_zone, 0) / (1 - self.dead_zone)
            y = np.sign(y) * mag ** self.curve
        return np.clip(y * self.gain + self.offset, self.lo, self.hi)
