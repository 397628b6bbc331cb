"""Scores of predictions against gold labels, restricted to the labels the gold data uses."""

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

from router.classify.labels import LABELS

FALLBACK = "other"


def gold_label_set(gold: Sequence[str]) -> list[str]:
    """The labels present in the gold data, in the canonical order."""
    present = set(gold)
    return [label for label in LABELS if label in present]


def project(predicted: Sequence[str], labels: Sequence[str]) -> list[str]:
    """A prediction outside the gold label set counts as `other`: in a complaint-vs-rest file, a sales lead is rest."""
    allowed = set(labels)
    return [label if label in allowed else FALLBACK for label in predicted]


def score(gold: Sequence[str], predicted: Sequence[str], scores: np.ndarray | None = None,
          score_labels: Sequence[str] = ()) -> dict:
    """n, accuracy, macro-F1 and per-label precision/recall/F1/support over the gold label set.

    With `scores` (probabilities, columns named by `score_labels`) and a two-label gold set,
    also the ROC AUC of the label that is not `other`.
    """
    labels = gold_label_set(gold)
    predicted = project(predicted, labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    result = {
        "n": len(gold),
        "labels": labels,
        "accuracy": float(np.mean([g == p for g, p in zip(gold, predicted)])) if len(gold) else 0.0,
        "macro_f1": float(np.mean(f1)) if len(labels) else 0.0,
        "per_label": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "confusion": _confusion(gold, predicted, labels),
    }
    auc = _binary_auc(gold, labels, scores, list(score_labels))
    if auc is not None:
        result["auc"] = auc
    return result


def _confusion(gold, predicted, labels) -> list[list[int]]:
    """Rows are gold labels, columns predictions, both in `labels` order."""
    if not labels:
        return []
    with warnings.catch_warnings():  # a one-label file is legitimate; its matrix is 1x1
        warnings.simplefilter("ignore", UserWarning)
        return confusion_matrix(gold, predicted, labels=labels).tolist()


def _binary_auc(gold, labels, scores, score_labels) -> float | None:
    if scores is None or len(labels) != 2 or FALLBACK not in labels:
        return None
    positive = next(label for label in labels if label != FALLBACK)
    if positive not in score_labels:
        return None
    truth = np.asarray([g == positive for g in gold])
    return float(roc_auc_score(truth, scores[:, score_labels.index(positive)]))


def format_table(result: dict) -> str:
    """The human-readable report printed by `inbox-router evaluate` without --json."""
    lines = [f"{'label':<12} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}"]
    for label, row in result["per_label"].items():
        lines.append(
            f"{label:<12} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>7.3f} {row['support']:>8d}"
        )
    lines.append("")
    lines.append(f"n={result['n']}  accuracy={result['accuracy']:.3f}  macro_f1={result['macro_f1']:.3f}")
    if "auc" in result:
        lines.append(f"auc={result['auc']:.3f}")
    return "\n".join(lines)
