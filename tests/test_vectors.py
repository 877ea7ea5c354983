"""The committed golden vectors are exactly what the encoders produce (Unity/Godot test against them)."""
import sys
from pathlib import Path

VECTORS = Path(__file__).parent / "vectors"
sys.path.insert(0, str(VECTORS))

import generate  # noqa: E402


def test_committed_vectors_match_encoders():
    expected = generate.write_all()
    for name, data in expected.items():
        assert (VECTORS / name).read_bytes() == data, f"{name} differs: run python tests/vectors/generate.py"
    committed = {p.name for p in VECTORS.glob("*.bin")} | {p.name for p in VECTORS.glob("*.json")}
    assert committed == set(expected)


def test_vmc_packets_fit_one_ethernet_frame():
    for p in VECTORS.glob("vmc_frame_*.bin"):
        assert len(p.read_bytes()) <= 1472


def test_websocket_vectors_follow_their_schema():
    """The schema 3 vectors validate against frame.schema.json; the two-person frame holds two people
    in slot order whose ids, slots and names all differ; the schema 2 ones lack exactly the v3 keys."""
    import json

    import jsonschema

    from bridge.protocols import jsonframe

    validator = jsonschema.Draft202012Validator(jsonframe.schema())
    read = {p.name: json.loads(p.read_text()) for p in VECTORS.glob("ws_*.json")}
    for name, msg in read.items():
        if not name.endswith("_v2.json"):
            assert msg["v"] == jsonframe.SCHEMA_VERSION == 3, name
            validator.validate(msg)
    people = read["ws_frame_people.json"]["people"]
    assert [(p["id"], p["slot"], p["name"]) for p in people] == [(7, 1, "A"), (3, 2, "B")]
    assert people[0]["blendshapes"] != people[1]["blendshapes"]
    assert read["ws_hello_people.json"]["people"]["max"] == 2
    one = read["ws_frame.json"]["people"]
    assert [(p["id"], p["slot"], p["name"], p["similarity"], p["box"]) for p in one] == [(0, 1, None, None, None)]
    v2 = read["ws_frame_v2.json"]
    assert v2["v"] == read["ws_hello_v2.json"]["v"] == 2
    assert set(one[0]) - set(v2["people"][0]) == set(generate.V3_PERSON_KEYS)


def test_a_frame_with_nobody_in_view_follows_the_schema():
    """With --people N nobody may be in view: the frame's people list is empty, and still valid."""
    import json

    import jsonschema

    from bridge.frame import AvatarFrame
    from bridge.protocols import jsonframe

    msg = json.loads(jsonframe.frame_message(AvatarFrame(seq=3, capture_time=1.0, source_time=0.1, people=[])))
    assert msg["people"] == []
    jsonschema.Draft202012Validator(jsonframe.schema()).validate(msg)
