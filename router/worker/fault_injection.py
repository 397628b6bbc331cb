"""Test-only fault injection: make routing raise on chosen mentions, to prove one poison record loses nothing."""

from collections.abc import Sequence

from router.classify.classifier import Classifier
from router.classify.labels import Classification


class RaisingClassifier:
    """Classifies like the wrapped classifier, but raises on any text that contains `marker`."""

    def __init__(self, classifier: Classifier, marker: str):
        self._classifier, self._marker = classifier, marker
        self.threshold, self.version = classifier.threshold, classifier.version

    def classify(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Classification]:
        if any(self._marker in text for text in texts):
            raise RuntimeError(f"injected routing fault: a text contains {self._marker!r}")
        return self._classifier.classify(texts, langs)
