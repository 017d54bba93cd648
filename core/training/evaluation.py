"""Scoring a classifier on validation images: accuracy, confusion matrix, precision, recall.

Light module (numpy only), so the GUI can use the result types without TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Misclassified:
    path: Path
    true_label: str
    predicted_label: str
    probability: float  # of the predicted label

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "true": self.true_label,
            "predicted": self.predicted_label,
            "probability": round(self.probability, 4),
        }


@dataclass
class Evaluation:
    """How a classifier did on labelled images."""

    class_names: list[str]
    accuracy: float
    confusion: np.ndarray  # [true, predicted] counts
    precision: list[float | None]  # per class; None when the class was never predicted
    recall: list[float | None]  # per class; None when the class has no images
    misclassified: list[Misclassified] = field(default_factory=list)

    @property
    def count(self) -> int:
        return int(self.confusion.sum())

    def to_dict(self) -> dict:
        return {
            "accuracy": round(self.accuracy, 4),
            "images": self.count,
            "classes": list(self.class_names),
            "confusion": self.confusion.tolist(),
            "precision": dict(zip(self.class_names, _rounded(self.precision), strict=True)),
            "recall": dict(zip(self.class_names, _rounded(self.recall), strict=True)),
            "misclassified": [m.to_dict() for m in self.misclassified],
        }


def _rounded(values: list[float | None]) -> list[float | None]:
    return [None if v is None else round(v, 4) for v in values]


def _ratio(numerator: int, denominator: int) -> float | None:
    return float(numerator) / denominator if denominator else None


def evaluate(
    probabilities: np.ndarray,
    labels: np.ndarray,
    paths: list[Path],
    class_names: list[str],
) -> Evaluation:
    """Score (N, classes) probabilities against integer labels."""
    n_classes = len(class_names)
    labels = np.asarray(labels, dtype=np.int64)
    predicted = (np.argmax(probabilities, axis=1) if len(labels) else np.zeros(0, np.int64)).astype(
        np.int64
    )
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    diagonal = np.diag(confusion)
    precision = [_ratio(diagonal[i], confusion[:, i].sum()) for i in range(n_classes)]
    recall = [_ratio(diagonal[i], confusion[i, :].sum()) for i in range(n_classes)]
    wrong = [
        Misclassified(
            Path(paths[i]),
            class_names[labels[i]],
            class_names[predicted[i]],
            float(probabilities[i, predicted[i]]),
        )
        for i in np.flatnonzero(predicted != labels)
    ]
    # The most confident mistakes first: those are the ones worth looking at.
    wrong.sort(key=lambda m: -m.probability)
    accuracy = float(diagonal.sum() / len(labels)) if len(labels) else 0.0
    return Evaluation(list(class_names), accuracy, confusion, precision, recall, wrong)
