"""What routing asks of a classifier, and the classifier that applies a label chosen by hand."""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from router.classify.labels import Classification
from router.classify.language import primary


class Classifier(Protocol):
    """Labels texts in batches; a label less confident than `threshold`, or doubted, is a guess: its mention is triaged.

    `langs` are the languages the platform gave, one per text (None where it gave none, or for all).
    """

    @property
    def version(self) -> str: ...

    @property
    def threshold(self) -> float: ...

    def classify(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Classification]: ...


class ForcedLabel:
    """Gives every text the same label (`explain --label`, a rule test's `label:`), judged as the model's would be.

    Its threshold is the model's, which is loaded only when asked: a config with its own threshold never asks.
    """

    version = "forced"

    def __init__(self, label: str, confidence: float, *, model: Callable[[], Classifier]) -> None:
        self.label, self.confidence = label, confidence
        self._model = model

    @property
    def threshold(self) -> float:
        return self._model().threshold

    def classify(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Classification]:
        given = langs if langs is not None else [None] * len(texts)
        return [Classification.forced(self.label, self.confidence, primary(lang)) for lang in given]


def load_model(directory: Path | None = None) -> Classifier:
    """The trained model, the shipped one by default; loaded only when asked, as a config may not need it."""
    from router.classify import model

    return model.Classifier.load(directory)
