"""VRCFaceTracking's parameter forms, eyes and combined shapes, checked against values worked out by
hand from its definitions (github.com/benaclejames/VRCFaceTracking: BinaryBaseParameter.cs,
ParamContainers.cs, UnifiedExpressionsParameters.cs, UnifiedSimpleExpressions.cs)."""
import argparse

import numpy as np
import pytest

from bridge.arkit import INDEX, N_SHAPES
from bridge.cli.flags import add_transport_flags, overrides_from
from bridge.config import from_tables
from bridge.errors import ConfigError
from bridge.mapping import Mapper, load_preset, parse_spec
from bridge.protocols.vrchat_avatar import (Avatar, AvatarParameter, avatar_plan, encode, fallback_plan, parse_avatar,
                                            wire_values)

P = "/avatar/parameters/"


def avatar(*params: tuple[str, str]) -> Avatar:
    return Avatar("avtr_test", tuple(AvatarParameter(P + a, t) for a, t in params))


def sent(plan, values, found=True) -> dict[str, object]:
    """address -> float value or bool, for every slot of the plan."""
    w = wire_values(plan, np.asarray(values, np.float32), found, found)
    return {a: (float(w[i]) if plan.is_float[i] else bool(w[i] > 0.5)) for i, a in enumerate(plan.address)}


def test_parse_avatar_reads_nested_vrchat_tree():
    tree = {"FULL_PATH": "/avatar", "ACCESS": 0, "CONTENTS": {
        "change": {"FULL_PATH": "/avatar/change", "TYPE": "s", "ACCESS": 3, "VALUE": ["avtr_1234"]},
        "parameters": {"FULL_PATH": "/avatar/parameters", "ACCESS": 0, "CONTENTS": {
            "VRCEmote": {"FULL_PATH": P + "VRCEmote", "TYPE": "i", "ACCESS": 3, "VALUE": [0]},
            "FT": {"FULL_PATH": P + "FT", "ACCESS": 0, "CONTENTS": {"v2": {"FULL_PATH": P + "FT/v2", "ACCESS": 0, "CONTENTS": {
                "JawOpen": {"FULL_PATH": P + "FT/v2/JawOpen", "TYPE": "f", "ACCESS": 3, "VALUE": [0.0]},
                "EyeLid1": {"FULL_PATH": P + "FT/v2/EyeLid1", "TYPE": "T", "ACCESS": 3, "VALUE": [False]}}}}}}}}}
    a = parse_avatar(tree)
    assert a.id == "avtr_1234"
    assert {(p.address, p.type) for p in a.parameters} == {
        (P + "VRCEmote", "i"), (P + "FT/v2/JawOpen", "f"), (P + "FT/v2/EyeLid1", "T")}
    assert parse_avatar({"CONTENTS": {"avatar": tree}}) == a  # the root node works too
    with pytest.raises(ValueError, match="no /avatar/parameters"):
        parse_avatar({"FULL_PATH": "/avatar", "CONTENTS": {}})


def test_any_prefix_before_v2_but_not_a_version_segment():
    names = ("v2/JawOpen", "v2/MouthX")
    plan = avatar_plan(names, avatar(("FT/v2/JawOpen", "f"), ("Old/v1/v2/MouthX", "f"), ("v2/MouthXOther", "f")), "auto")
    assert plan.address == (P + "FT/v2/JawOpen",)
    assert plan.lacking == ("v2/MouthX",)
    assert set(plan.undriven) == {P + "Old/v1/v2/MouthX", P + "v2/MouthXOther"}


def test_float_int_and_type_matching():
    plan = avatar_plan(("v2/JawOpen",), avatar(("v2/JawOpen", "i")), "auto")
    assert plan.size == 0 and plan.lacking == ("v2/JawOpen",)  # an int is none of VRCFaceTracking's forms


def test_binary_bits_as_worked_out_by_hand():
    """3 bits: k = floor(|v| * 8); bit 2**i is bit i of k; all set above 0.99999; Negative = v < 0."""
    names = ("v2/SmileSadLeft",)
    plan = avatar_plan(names, avatar(*[(f"FT/v2/SmileSadLeft{n}", "T") for n in (1, 2, 4)],
                                     ("FT/v2/SmileSadLeftNegative", "T")), "auto")
    b = lambda v: [sent(plan, [v])[P + f"FT/v2/SmileSadLeft{n}"] for n in (1, 2, 4)]  # noqa: E731
    neg = lambda v: sent(plan, [v])[P + "FT/v2/SmileSadLeftNegative"]  # noqa: E731
    assert b(0.6) == [False, False, True] and not neg(0.6)  # floor(4.8) = 4 = 0b100
    assert b(0.4) == [True, True, False]  # floor(3.2) = 3 = 0b011
    assert b(0.124) == [False, False, False]  # floor(0.992) = 0
    assert b(0.875) == [True, True, True]  # 7
    assert b(1.0) == [True, True, True]
    assert b(-0.3) == [False, True, False] and neg(-0.3)  # floor(2.4) = 2
    unsigned = avatar_plan(names, avatar(*[(f"v2/SmileSadLeft{n}", "T") for n in (1, 2)]), "auto")
    assert [sent(unsigned, [v])[P + f"v2/SmileSadLeft{n}"] for v in (-0.9,) for n in (1, 2)] == [False, False]
    assert [sent(unsigned, [0.6])[P + f"v2/SmileSadLeft{n}"] for n in (1, 2)] == [False, True]  # floor(2.4) = 2
    # 3 is not a power of two: not a bit; bit count is what the avatar declares (here 2: 4 steps)
    odd = avatar_plan(names, avatar(("v2/SmileSadLeft1", "T"), ("v2/SmileSadLeft3", "T"), ("v2/SmileSadLeft2", "T")), "auto")
    assert set(odd.address) == {P + "v2/SmileSadLeft1", P + "v2/SmileSadLeft2"}


def test_bool_thresholds_as_vrcft():
    """bool = value < threshold: 0.5 for combined shapes, 0 for base ones (so those stay false)."""
    plan = avatar_plan(("v2/EyeLid", "v2/JawOpen"), avatar(("v2/EyeLid", "T"), ("v2/JawOpen", "T")), "auto")
    assert sent(plan, [0.3, 0.9]) == {P + "v2/EyeLid": True, P + "v2/JawOpen": False}
    assert sent(plan, [0.7, 0.0]) == {P + "v2/EyeLid": False, P + "v2/JawOpen": False}


def test_encode_types_on_the_wire():
    plan = avatar_plan(("v2/JawOpen", "v2/EyeLid"), avatar(("v2/JawOpen", "f"), ("v2/EyeLid", "T")), "auto")
    w = wire_values(plan, np.array([0.25, 0.1], np.float32), True, True)
    assert encode(plan, w, np.arange(plan.size)) == [
        b"/avatar/parameters/v2/JawOpen\x00\x00\x00,f\x00\x00>\x80\x00\x00",
        b"/avatar/parameters/v2/EyeLid\x00\x00\x00\x00,T\x00\x00"]


def test_tracking_status_only_when_declared_and_true_while_tracked():
    a = avatar(("EyeTrackingActive", "T"), ("FT/LipTrackingActive", "T"), ("ExpressionTrackingActive", "f"))
    plan = avatar_plan((), a, "auto")
    assert sent(plan, [], found=True) == {P + "EyeTrackingActive": True, P + "FT/LipTrackingActive": True}
    assert sent(plan, [], found=False) == {P + "EyeTrackingActive": False, P + "FT/LipTrackingActive": False}
    assert avatar_plan((), a, "off").address == (P + "FT/LipTrackingActive",)
    assert set(fallback_plan((), "auto").address) == {P + "EyeTrackingActive", P + "ExpressionTrackingActive",
                                                      P + "LipTrackingActive"}


def test_eyes_driven_once():
    names = ("v2/EyeLeftX", "v2/EyeLidLeft", "v2/JawOpen")
    gaze_only = avatar(("FT/v2/EyeLeftX", "f"), ("v2/JawOpen", "f"))
    lids_only = avatar(("v2/EyeLidLeft1", "T"), ("v2/EyeLidLeft2", "T"))
    neither = avatar(("v2/JawOpen", "f"))
    auto = [avatar_plan(names, a, "auto") for a in (gaze_only, lids_only, neither)]
    assert [(p.native_gaze, p.native_lid) for p in auto] == [(False, True), (True, False), (True, True)]
    native = avatar_plan(names, gaze_only, "native")
    assert (native.native_gaze, native.native_lid) == (True, True) and native.address == (P + "v2/JawOpen",)
    params = avatar_plan(names, gaze_only, "parameters")
    assert (params.native_gaze, params.native_lid) == (False, False) and P + "FT/v2/EyeLeftX" in params.address
    off = avatar_plan(names, gaze_only, "off")
    assert (off.native_gaze, off.native_lid) == (False, False) and off.address == (P + "v2/JawOpen",)
    # without avatar information: today's behaviour (every output, both native addresses)
    fb = fallback_plan(names, "auto")
    assert (fb.native_gaze, fb.native_lid) == (True, True)
    assert [a for a in fb.address if "/v2/" in a] == [P + n for n in names]
    assert [a for a in fallback_plan(names, "native").address if "/v2/" in a] == [P + "v2/JawOpen"]


def arkit(**kw) -> np.ndarray:
    x = np.zeros(N_SHAPES, np.float32)
    for k, v in kw.items():
        x[INDEX[k]] = v
    return x


def test_combined_shapes_match_hand_worked_values():
    m = Mapper(load_preset("vrchat_unified"))
    x = arkit(mouthSmileLeft=0.8, mouthFrownLeft=0.2, mouthStretchLeft=0.5, mouthSmileRight=0.3, mouthFrownRight=0.4,
              browInnerUp=0.4, browOuterUpLeft=0.6, browDownLeft=0.1, jawRight=0.3, jawLeft=0.1,
              eyeBlinkLeft=0.2, eyeBlinkRight=0.4, eyeWideLeft=0.1, eyeWideRight=0.3, mouthRight=0.25, mouthLeft=0.05,
              cheekSquintLeft=0.2, cheekSquintRight=0.6)
    y = dict(zip(m.names, m.apply(x).tolist()))
    expected = {
        "v2/MouthSadLeft": 0.5,  # max(frown 0.2, stretch 0.5)
        "v2/SmileSadLeft": 0.3,  # smile 0.8*0.8 + 0.2*0.8 = 0.8, minus sad 0.5
        "v2/SmileSadRight": -0.1,  # 0.3 - max(0.4, 0)
        "v2/SmileSad": 0.1,  # (0.8 + 0.3)/2 - (0.5 + 0.4)/2
        "v2/SmileFrownLeft": 0.6,  # 0.8 - 0.2
        "v2/SmileFrown": 0.25,  # 0.4 + 0.15 - 0.2 - 0.1
        "v2/MouthCornerYLeft": 0.6,  # slant 0.8 - frown 0.2
        "v2/BrowUpLeft": 0.52,  # 0.6 outer 0.6 + 0.4 inner 0.4
        "v2/BrowDownLeft": 0.1,  # 0.75 lowerer + 0.25 pinch, both 0.1
        "v2/BrowExpressionLeft": 0.4,  # min(1, 0.5*0.4 + 0.5*0.6) - 0.1
        "v2/BrowExpressionRight": 0.2,  # min(1, 0.5*0.4 + 0) - 0
        "v2/BrowExpression": 0.3,  # (0.5 - 0.1 + 0.2 - 0) / 2
        "v2/BrowUp": 0.34,  # (0.52 + (0.6*0 + 0.4*0.4)) / 2
        "v2/JawX": 0.2,  # right 0.3 - left 0.1
        "v2/MouthX": 0.2,  # (0.25 + 0.25)/2 - (0.05 + 0.05)/2
        "v2/EyeLid": 0.575,  # ((0.8 + 0.6)/2) * 0.75 + ((0.1 + 0.3)/2) * 0.25
        "v2/EyeLidLeft": 0.625,  # 0.8 * 0.75 + 0.1 * 0.25
        "v2/EyeWide": 0.3,  # the larger eye
        "v2/EyeOpenLeft": 0.8, "v2/EyeClosed": 0.3,
        "v2/CheekSquint": 0.4,
    }
    for name, value in expected.items():
        assert y[name] == pytest.approx(value, abs=1e-6), name


UNIFIED_MISSING = ("CheekSuckLeft", "CheekSuckRight", "MouthTightenerLeft", "MouthTightenerRight", "JawBackward")


def test_every_combined_shape_is_vrcft_formula_of_the_base_shapes():
    """Random faces: each combined output equals VRCFaceTracking's formula over our base outputs."""
    m = Mapper(load_preset("vrchat_unified"))
    rng = np.random.default_rng(7)
    simple = {"BrowUp{s}": lambda u, s: 0.6 * u[f"BrowOuterUp{s}"] + 0.4 * u[f"BrowInnerUp{s}"],
              "BrowDown{s}": lambda u, s: 0.75 * u[f"BrowLowerer{s}"] + 0.25 * u[f"BrowPinch{s}"],
              "MouthSmile{s}": lambda u, s: 0.8 * u[f"MouthCornerPull{s}"] + 0.2 * u[f"MouthCornerSlant{s}"],
              "MouthSad{s}": lambda u, s: max(u[f"MouthFrown{s}"], u[f"MouthStretch{s}"])}
    S = lambda name, u, s: simple[name + "{s}"](u, s)  # noqa: E731
    avg = lambda u, a: (u[a + "Left"] + u[a + "Right"]) / 2  # noqa: E731
    combined = {
        "EyeX": lambda u: (u["EyeLeftX"] + u["EyeRightX"]) / 2, "EyeY": lambda u: (u["EyeLeftY"] + u["EyeRightY"]) / 2,
        "EyeOpenLeft": lambda u: u["OpenLeft"], "EyeOpen": lambda u: (u["OpenLeft"] + u["OpenRight"]) / 2,
        "EyeClosedRight": lambda u: 1 - u["OpenRight"], "EyeClosed": lambda u: 1 - (u["OpenLeft"] + u["OpenRight"]) / 2,
        "EyeWide": lambda u: max(u["EyeWideLeft"], u["EyeWideRight"]),
        "EyeLid": lambda u: (u["OpenLeft"] + u["OpenRight"]) / 2 * .75 + avg(u, "EyeWide") * .25,
        "EyeSquint": lambda u: max(u["EyeSquintLeft"], u["EyeSquintRight"]),
        "BrowUp": lambda u: (S("BrowUp", u, "Right") + S("BrowUp", u, "Left")) * .5,
        "BrowDown": lambda u: (S("BrowDown", u, "Right") + S("BrowDown", u, "Left")) * .5,
        "BrowInnerUp": lambda u: avg(u, "BrowInnerUp"), "BrowOuterUp": lambda u: avg(u, "BrowOuterUp"),
        "BrowExpressionRight": lambda u: min(1, u["BrowInnerUpRight"] * .5 + u["BrowOuterUpRight"] * .5) - S("BrowDown", u, "Right"),
        "BrowExpression": lambda u: (min(1, (u["BrowInnerUpRight"] + u["BrowOuterUpRight"]) * .5) - S("BrowDown", u, "Right")
                                     + min(1, (u["BrowInnerUpLeft"] + u["BrowOuterUpLeft"]) * .5) - S("BrowDown", u, "Left")) * .5,
        "JawX": lambda u: u["JawRight"] - u["JawLeft"], "JawZ": lambda u: u["JawForward"] - u["JawBackward"],
        "CheekSquint": lambda u: avg(u, "CheekSquint"),
        "CheekPuffSuckLeft": lambda u: u["CheekPuffLeft"] - u["CheekSuckLeft"],
        "CheekPuffSuck": lambda u: avg(u, "CheekPuff") - avg(u, "CheekSuck"),
        "MouthUpperX": lambda u: u["MouthUpperRight"] - u["MouthUpperLeft"],
        "MouthX": lambda u: (u["MouthUpperRight"] + u["MouthLowerRight"]) / 2 - (u["MouthUpperLeft"] + u["MouthLowerLeft"]) / 2,
        "LipSuck": lambda u: (u["LipSuckUpperRight"] + u["LipSuckUpperLeft"] + u["LipSuckLowerRight"] + u["LipSuckLowerLeft"]) / 4,
        "LipFunnelUpper": lambda u: avg(u, "LipFunnelUpper"), "LipPuckerRight": lambda u: (u["LipPuckerUpperRight"] + u["LipPuckerLowerRight"]) / 2,
        "LipSuckFunnelLower": lambda u: avg(u, "LipSuckLower") - avg(u, "LipFunnelLower"),
        "LipSuckFunnelUpperLeft": lambda u: u["LipSuckUpperLeft"] - u["LipFunnelUpperLeft"],
        "MouthUpperUp": lambda u: avg(u, "MouthUpperUp"), "MouthLowerDown": lambda u: avg(u, "MouthLowerDown"),
        "MouthOpen": lambda u: (avg(u, "MouthUpperUp") + avg(u, "MouthLowerDown")) / 2,
        "MouthStretch": lambda u: avg(u, "MouthStretch"), "MouthPress": lambda u: avg(u, "MouthPress"),
        "MouthDimple": lambda u: avg(u, "MouthDimple"), "NoseSneer": lambda u: avg(u, "NoseSneer"),
        "MouthTightenerStretch": lambda u: avg(u, "MouthTightener") - avg(u, "MouthStretch"),
        "MouthTightenerStretchRight": lambda u: u["MouthTightenerRight"] - u["MouthStretchRight"],
        "MouthCornerYRight": lambda u: u["MouthCornerSlantRight"] - u["MouthFrownRight"],
        "MouthCornerY": lambda u: (u["MouthCornerSlantLeft"] - u["MouthFrownLeft"] + u["MouthCornerSlantRight"] - u["MouthFrownRight"]) * .5,
        "SmileFrownRight": lambda u: S("MouthSmile", u, "Right") - u["MouthFrownRight"],
        "SmileFrown": lambda u: (S("MouthSmile", u, "Right") + S("MouthSmile", u, "Left") - u["MouthFrownRight"] - u["MouthFrownLeft"]) * .5,
        "SmileSadLeft": lambda u: S("MouthSmile", u, "Left") - S("MouthSad", u, "Left"),
        "SmileSad": lambda u: (S("MouthSmile", u, "Left") + S("MouthSmile", u, "Right")) / 2
                              - (S("MouthSad", u, "Left") + S("MouthSad", u, "Right")) / 2,
        "MouthSadRight": lambda u: S("MouthSad", u, "Right"), "BrowUpLeft": lambda u: S("BrowUp", u, "Left"),
    }
    for _ in range(50):
        y = dict(zip(m.names, m.apply(rng.uniform(0, 1, N_SHAPES).astype(np.float32)).tolist()))
        u = {n[3:]: v for n, v in y.items()}
        u.update({n: 0.0 for n in UNIFIED_MISSING})
        u["OpenLeft"], u["OpenRight"] = 1 - y["v2/EyeClosedLeft"], 1 - y["v2/EyeClosedRight"]
        for name, formula in combined.items():
            assert y["v2/" + name] == pytest.approx(np.clip(formula(u), -1, 1), abs=1e-5), name


def test_max_term_in_a_mapping():
    spec = parse_spec("t", {"outputs": {"sad": {"max(mouthFrownLeft, mouthStretchLeft)": 1.0, "jawOpen": 0.5}}})
    assert Mapper(spec).apply(arkit(mouthFrownLeft=0.2, mouthStretchLeft=0.4, jawOpen=0.2)).tolist() == pytest.approx([0.5])
    with pytest.raises(ConfigError, match=r"unknown shape 'max\(mouthFrownLeft, sad\)'.*max\(a, b\)"):
        parse_spec("t", {"outputs": {"x": {"max(mouthFrownLeft, sad)": 1.0}}})


def test_eye_tracking_key_and_vrchat_flag():
    assert from_tables({"vrchat": {"eye_tracking": True}}).vrchat.eye_tracking == "auto"
    assert from_tables({"vrchat": {"eye_tracking": False}}).vrchat.eye_tracking == "parameters"
    assert from_tables({"vrchat": {"eye_tracking": "native"}}).vrchat.eye_tracking == "native"
    with pytest.raises(ConfigError, match="allowed values are auto, native, parameters, off"):
        from_tables({"vrchat": {"eye_tracking": "sideways"}})
    p = argparse.ArgumentParser()
    add_transport_flags(p)
    explicit, _ = overrides_from(p.parse_args(["--vrchat", "127.0.0.1:9100"]))
    assert explicit["vrchat"] == {"enabled": True, "host": "127.0.0.1", "port": 9100, "oscquery": False}
    bare, _ = overrides_from(p.parse_args(["--vrchat"]))
    assert bare["vrchat"] == {"enabled": True}
    assert from_tables({"vrchat": bare["vrchat"]}).vrchat.oscquery
