"""Write models/README.md, the human-readable index of the model cards (`<name>.card.json`).

    python models/write_model_index.py

The cards are the source of truth (source, licence, sha256, inputs/outputs, measured figures);
tests/test_classify.py checks that this index matches them.
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _measured(card: dict) -> str:
    m = card.get("measured", {})
    if "publictest_accuracy" in m:
        return f"FER2013 PublicTest accuracy {m['publictest_accuracy']}, macro-F1 {m['publictest_macro_f1']}"
    if "cross_subject_accuracy_20_classes" in m:
        return f"MSR Action3D cross-subject accuracy {m['cross_subject_accuracy_20_classes']} (20 classes)"
    if "median_ms_per_frame" in m:
        return f"{m['median_ms_per_frame']} ms per frame (median)"
    return "see card"


def index_text() -> str:
    lines = ["# Models", "",
             "Every model file has its card beside it, `<name>.card.json`: source, licence, sha256, inputs and",
             "outputs with preprocessing, classes and measured figures (how they were measured is in the card).",
             "This index is generated from the cards by `write_model_index.py`; `docs/models.md` explains them.",
             "", "| file | card | licence | sha256 | measured | built by |", "|---|---|---|---|---|---|"]
    for c in sorted(HERE.glob("*.card.json")):
        d = json.loads(c.read_text())
        present = (HERE / d["file"]).is_file()
        lines.append(f"| `{d['file']}`{'' if present else ' (built on demand)'} | `{c.name}` | {d['licence']} | "
                     f"`{d['sha256'][:16]}...` | {_measured(d)} | `{d.get('build_script', '')}` |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    (HERE / "README.md").write_text(index_text())
    print(f"wrote {HERE / 'README.md'}")
