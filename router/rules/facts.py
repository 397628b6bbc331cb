"""What the matchers see of one mention: its fields, its classification and its business unit."""

from collections.abc import Callable
from typing import Any

from router.classify.labels import LABELS, Classification
from router.mentions.model import Mention
from router.rules.words import words_of


class Facts:
    """One mention being routed; its folded words are computed once, on first use."""

    __slots__ = ("mention", "classification", "low_confidence", "unit", "_word_list", "_words")

    def __init__(self, mention: Mention, classification: Classification, low_confidence: bool, unit: str | None):
        self.mention = mention
        self.classification = classification
        self.low_confidence = low_confidence
        self.unit = unit
        self._word_list: list[str] | None = None
        self._words: str | None = None

    @property
    def word_list(self) -> list[str]:
        """The folded words in order."""
        if self._word_list is None:
            self._word_list = words_of(self.mention.text or "")
        return self._word_list

    @property
    def words(self) -> str:
        """The folded words space-separated, with a space at each end (`word_line`), for phrases."""
        if self._words is None:
            self._words = " " + " ".join(self.word_list) + " "
        return self._words


def _author(name: str) -> Callable[[Facts], Any]:
    def get(facts: Facts) -> Any:
        author = facts.mention.author
        return getattr(author, name, None) if author is not None else None

    return get


def _score(label: str) -> Callable[[Facts], Any]:
    def get(facts: Facts) -> Any:
        return facts.classification.scores.get(label)

    return get


STRING_FIELDS: dict[str, Callable[[Facts], Any]] = {
    "label": lambda f: f.classification.label,
    "source": lambda f: f.mention.source,
    "lang": lambda f: f.mention.lang or f.classification.lang,  # the platform's, else the detected one
    "account": lambda f: f.mention.account,
    "business_unit": lambda f: f.unit,
    "text": lambda f: f.mention.text,
    "id": lambda f: f.mention.id,
    "thread_id": lambda f: f.mention.thread_id,
    "author.id": _author("id"),
    "author.handle": _author("handle"),
}
NUMBER_FIELDS: dict[str, Callable[[Facts], Any]] = {
    "confidence": lambda f: f.classification.confidence,
    "rating": lambda f: f.mention.rating,
    "author.followers": _author("followers"),
    **{f"score.{label}": _score(label) for label in LABELS},
}
BOOL_FIELDS: dict[str, Callable[[Facts], Any]] = {
    "author.verified": _author("verified"),
    "low_confidence": lambda f: f.low_confidence,
}
ALL_FIELDS = sorted([*STRING_FIELDS, *NUMBER_FIELDS, *BOOL_FIELDS, "words"])
