"""Classification metrics shared by `avatar-bridge eval` and the model-card scripts in models/.

One report shape for every model: accuracy, macro-F1, per-class precision/recall/F1/support and
the confusion matrix (rows: true class, columns: predicted class).
"""
from __future__ import annotations

import json

import numpy as np


def classification_report(labels, preds, classes) -> dict:
    """labels, preds: class indices into `classes`. A class with no support still gets a row."""
    labels = np.asarray(labels, dtype=np.intp)
    preds = np.asarray(preds, dtype=np.intp)
    n = len(classes)
    cm = np.zeros((n, n), np.int64)
    np.add.at(cm, (labels, preds), 1)
    tp = np.diag(cm).astype(float)
    prec = tp / np.maximum(cm.sum(0), 1)
    rec = tp / np.maximum(cm.sum(1), 1)
    f1 = 2 * prec * rec / np.maximum(prec + rec, 1e-12)
    present = cm.sum(1) > 0
    per = {c: {"precision": round(float(prec[i]), 4), "recall": round(float(rec[i]), 4),
               "f1": round(float(f1[i]), 4), "support": int(cm[i].sum())} for i, c in enumerate(classes)}
    return {
        "n": int(len(labels)),
        "accuracy": round(float((labels == preds).mean()) if len(labels) else 0.0, 4),
        "macro_f1": round(float(f1[present].mean()) if present.any() else 0.0, 4),
        "per_class": per,
        "confusion_matrix": {"rows_true_cols_pred": list(classes), "matrix": cm.tolist()},
    }


def format_report(report: dict, title: str) -> str:
    """The report as text: a per-class table, then the confusion matrix with short column heads."""
    classes = report["confusion_matrix"]["rows_true_cols_pred"]
    cm = report["confusion_matrix"]["matrix"]
    w = max(8, *(len(c) for c in classes))
    lines = [title, f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}   n {report['n']}", "",
             f"{'class':<{w}}  precision  recall     f1  support"]
    for c in classes:
        p = report["per_class"][c]
        lines.append(f"{c:<{w}}  {p['precision']:9.3f}  {p['recall']:6.3f}  {p['f1']:5.3f}  {p['support']:7d}")
    short = [c[:6] for c in classes]
    lines += ["", "confusion matrix (rows: true, columns: predicted)",
              " " * w + "  " + " ".join(f"{s:>6}" for s in short)]
    lines += [f"{c:<{w}}  " + " ".join(f"{v:6d}" for v in row) for c, row in zip(classes, cm)]
    return "\n".join(lines)


def summary_json(kind: str, model: str, report: dict, **extra) -> str:
    """The machine-readable last line of `avatar-bridge eval`."""
    return json.dumps({"eval": kind, "model": model, "n": report["n"], "accuracy": report["accuracy"],
                       "macro_f1": report["macro_f1"],
                       "f1": {c: v["f1"] for c, v in report["per_class"].items()},
                       "confusion_matrix": report["confusion_matrix"]["matrix"], **extra}, separators=(",", ":"))
