"""Labelled JSONL reading and the hash that identifies a training set."""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from router.classify.labels import LABELS
from router.classify.language import primary
from router.errors import InvalidMention
from router.mentions import decode_record

# What `corrections export` marks its records with.
CORRECTION = "correction"
# A correction is a real mention the model got wrong, and there are few: each counts as this many examples.
CORRECTION_WEIGHT = 5.0


@dataclass(frozen=True)
class Labelled:
    """Texts, their gold labels, training weights, languages and batches (None where a record gives none).

    A `batch` names the examples written together; calibration holds each batch out whole. `corrections` counts
    the records that are agents' corrections (`corrections export`).
    """

    texts: list[str]
    labels: list[str]
    weights: list[float] | None = None
    langs: list[str | None] | None = None
    groups: list[str | None] | None = None
    corrections: int = 0

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> dict[str, int]:
        return {label: self.labels.count(label) for label in LABELS if label in self.labels}

    def languages(self, minimum: int) -> list[str] | None:
        """The languages of at least `minimum` examples, those the model is trained for; None if no record says."""
        counts = Counter(primary(lang) for lang in self.langs or ())
        counts.pop(None, None)
        if not counts:
            return None
        return sorted(lang for lang, count in counts.items() if lang is not None and count >= minimum)

    def sha256(self) -> str:
        """Order-independent: the same examples in another order or split over other files hash the same."""
        digest = hashlib.sha256()
        weights = self.weights if self.weights is not None else [1.0] * len(self.texts)
        lines = (f"{label}\t{weight:g}\t{text}" for text, label, weight in zip(self.texts, self.labels, weights))
        for line in sorted(lines):
            digest.update(line.encode("utf-8") + b"\n")
        return digest.hexdigest()


def _text_of(record: dict, line: bytes) -> tuple[str, str | None]:
    """A labelled record is either a plain {"text", "label"} example or a mention payload with a label."""
    if isinstance(record.get("text"), str):
        lang = record.get("lang")
        return record["text"], lang if isinstance(lang, str) else None
    mentions = decode_record(line)
    return " ".join(mention.text for mention in mentions), mentions[0].lang if mentions else None


def read_labelled(paths: list[str | Path], correction_weight: float = CORRECTION_WEIGHT) -> Labelled:
    """Every record of every file; a malformed record or an unknown label stops with file and line.

    An agent's correction weighs `correction_weight` examples, unless it gives its own `weight`.
    """
    texts, labels, weights, langs, groups = [], [], [], [], []
    corrections = 0
    for path in paths:
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    record = json.loads(line)
                except ValueError as error:
                    raise InvalidMention(f"{where}: invalid JSON: {error}") from None
                if not isinstance(record, dict):
                    raise InvalidMention(f"{where}: expected a JSON object")
                label = record.get("label")
                if label not in LABELS:
                    raise InvalidMention(f"{where}: label {label!r} is not one of {', '.join(LABELS)}")
                try:
                    text, lang = _text_of(record, line)
                except InvalidMention as error:
                    raise InvalidMention(f"{where}: {error}") from None
                texts.append(text)
                langs.append(lang)
                labels.append(label)
                correction = record.get("provenance") == CORRECTION
                corrections += correction
                weights.append(_weight_of(record, where, correction_weight if correction else 1.0))
                groups.append(None if record.get("batch") is None else f"{path}:{record['batch']}")
    return Labelled(texts, labels, weights, langs, groups, corrections)


def _weight_of(record: dict, where: str, default: float) -> float:
    """An optional `weight` lets a converted public set count for less than social-media text."""
    weight = record.get("weight", default)
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight <= 100:
        raise InvalidMention(f"{where}: weight must be a number in (0, 100], got {weight!r}")
    return float(weight)
