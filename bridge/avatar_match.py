"""The mapping's outputs renamed to the expressions an avatar really has, and a report of the match.

Receivers match names exactly (EVMC4U, three-vrm, VRChat parameters), so an output called `aa` does
nothing on a VRM 0.x avatar whose vowel is `A`, and `eyeBlinkLeft` nothing on one that spells it
`EyeBlinkLeft`. Matching is exact, then case-insensitive, then across the VRM 0.x / 1.0 preset names.
"""
from __future__ import annotations

from dataclasses import dataclass

from .arkit import ARKIT_NAMES
from .mapping import MappingSpec
from .retarget.vrm_file import VrmAvatar

# VRM 1.0 preset -> VRM 0.x BlendShapePreset (as VMC spells it)
VRM1_TO_VRM0 = {"aa": "A", "ih": "I", "ou": "U", "ee": "E", "oh": "O", "blink": "Blink", "blinkLeft": "Blink_L",
                "blinkRight": "Blink_R", "happy": "Joy", "angry": "Angry", "sad": "Sorrow", "relaxed": "Fun",
                "lookUp": "LookUp", "lookDown": "LookDown", "lookLeft": "LookLeft", "lookRight": "LookRight",
                "neutral": "Neutral"}
_ALIAS = {k.lower(): v.lower() for k, v in VRM1_TO_VRM0.items()} | {v.lower(): k.lower() for k, v in VRM1_TO_VRM0.items()}


@dataclass(frozen=True)
class MatchReport:
    avatar: str
    matched: dict[str, str]  # mapping output -> the avatar's expression
    missing: tuple[str, ...]  # outputs the avatar has no expression for (sent, but nothing moves)
    undriven: tuple[str, ...]  # the avatar's expressions no output drives
    hint: str

    def lines(self) -> list[str]:
        out = [f"avatar {self.avatar}: {len(self.matched)} of {len(self.matched) + len(self.missing)} mapped shapes "
               f"match its expressions"]
        renamed = [f"{k} -> {v}" for k, v in self.matched.items() if k != v]
        if renamed:
            out.append("  renamed: " + ", ".join(renamed))
        if self.missing:
            out.append("  not on the avatar: " + ", ".join(self.missing))
        if self.undriven:
            out.append("  not driven: " + ", ".join(self.undriven))
        if self.hint:
            out.append("  " + self.hint)
        return out

    def as_dict(self) -> dict:
        return {"avatar": self.avatar, "matched": self.matched, "missing": list(self.missing),
                "undriven": list(self.undriven), "hint": self.hint}


def _find(name: str, exact: set[str], lower: dict[str, str]) -> str | None:
    if name in exact:
        return name
    key = name.lower()
    return lower.get(key) or lower.get(_ALIAS.get(key, ""))


def match(spec: MappingSpec, avatar: VrmAvatar, preset: str) -> tuple[MappingSpec, MatchReport]:
    """`spec` with every output that matches one of the avatar's expressions renamed to it."""
    exact = set(avatar.expressions)
    lower = {e.lower(): e for e in avatar.expressions}
    matched: dict[str, str] = {}
    outputs, tuning = {}, {}
    for name, mix in spec.outputs.items():
        target = _find(name, exact, lower)
        if target is not None and target not in outputs:
            matched[name] = target
        final = target if target is not None and target not in outputs else name
        outputs[final] = mix
        if name in spec.tuning:
            tuning[final] = spec.tuning[name]
    missing = tuple(n for n in spec.outputs if n not in matched)
    undriven = tuple(e for e in avatar.expressions if e not in outputs and e.lower() != "neutral")
    arkit_on_avatar = sum(_find(n, exact, lower) is not None for n in ARKIT_NAMES)
    hint = ""
    if preset == "arkit" and arkit_on_avatar < len(ARKIT_NAMES) // 2:
        hint = (f"it has only {arkit_on_avatar} ARKit shapes: try --preset {'vrm1' if avatar.spec == '1.0' else 'vrm0'} "
                "(or [mapping] preset) to drive its VRM expressions")
    elif preset != "arkit" and arkit_on_avatar == len(ARKIT_NAMES):
        hint = "it has all 52 ARKit shapes (perfect sync): --preset arkit drives each one"
    return MappingSpec(outputs, tuning), MatchReport(avatar.name, matched, missing, undriven, hint)
