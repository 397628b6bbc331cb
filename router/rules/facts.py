"""What the matchers see of one mention: its fields, its classification, its business unit and its local time."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from router.classify.labels import LABELS, Classification
from router.mentions.model import Mention
from router.rules.businesshours import WEEKDAYS, Calendar
from router.rules.words import words_of


class Facts:
    """One mention being routed; its folded words are computed once, on first use."""

    __slots__ = ("mention", "classification", "low_confidence", "unit", "calendar", "_word_list", "_words", "_local",
                 "_local_known")

    def __init__(self, mention: Mention, classification: Classification, low_confidence: bool, unit: str | None,
                 calendar: Calendar | None = None):
        self.mention = mention
        self.classification = classification
        self.low_confidence = low_confidence
        self.unit = unit
        self.calendar = calendar
        self._word_list: list[str] | None = None
        self._words: str | None = None
        self._local: datetime | None = None
        self._local_known = False

    @property
    def local_time(self) -> datetime | None:
        """When the mention was made, on the calendar's clock (from its own created_at, never the wall clock)."""
        if not self._local_known:
            self._local = self.calendar.local(self.mention.created_at) if self.calendar is not None else None
            self._local_known = True
        return self._local

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


def _hour(facts: Facts) -> int | None:
    local = facts.local_time
    return local.hour if local is not None else None


def _weekday(facts: Facts) -> str | None:
    local = facts.local_time
    return WEEKDAYS[local.weekday()] if local is not None else None


def _business_hours(facts: Facts) -> bool:
    return facts.calendar is not None and facts.calendar.is_open(facts.mention.created_at)


# Read on the calendar's clock: a config uses them only when it declares a calendar.
LOCAL_TIME_FIELDS: dict[str, Callable[[Facts], Any]] = {
    "hour": _hour,
    "weekday": _weekday,
    "business_hours": _business_hours,
}
ALL_FIELDS = sorted([*STRING_FIELDS, *NUMBER_FIELDS, *BOOL_FIELDS, *LOCAL_TIME_FIELDS, "words"])
