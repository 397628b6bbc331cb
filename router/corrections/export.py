"""Corrections joined with their decisions and their mentions' texts into labelled training examples; no I/O.

The decisions say what the model predicted, with what confidence, by which model; the mention's text is only
in the input topic, so the input is read too, and each wanted mention is kept by its id. The latest correction
of a mention (by `at`) wins: an agent may change their mind, or a colleague theirs.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

from router.classify.training.corpus import CORRECTION
from router.corrections.record import Correction, parse_correction
from router.errors import InvalidMention
from router.mentions import Mention, decode_record


@dataclass
class CorrectionsJoin:
    """Fed the corrections first, then the decisions and the input records, in any order within each."""

    corrections: dict[str, Correction] = field(default_factory=dict)  # by mention id, the latest
    malformed: int = 0
    decisions: dict[str, dict] = field(default_factory=dict)  # the `routing` of each corrected mention's decision
    mentions: dict[str, Mention] = field(default_factory=dict)

    def add_corrections(self, values: Iterable[bytes | None]) -> None:
        for value in values:
            try:
                correction = parse_correction(value)
            except ValueError:
                self.malformed += 1  # the worker dead-lettered it with the reason
                continue
            held = self.corrections.get(correction.mention_id)
            if held is None or correction.at >= held.at:
                self.corrections[correction.mention_id] = correction

    def add_decisions(self, values: Iterable[bytes | None]) -> None:
        """The decision of each corrected mention; one routed twice keeps the decision read last."""
        wanted = self.corrections
        for value in values:
            try:
                document = orjson.loads(value or b"")
            except orjson.JSONDecodeError:
                continue
            if isinstance(document, dict) and document.get("mention_id") in wanted:
                routing = document.get("routing")
                if isinstance(routing, dict):
                    self.decisions[document["mention_id"]] = routing

    def add_inputs(self, values: Iterable[bytes | None]) -> None:
        """The corrected mentions among the input records (a native payload may hold several)."""
        wanted = self.corrections
        for value in values:
            try:
                found = decode_record(value)
            except InvalidMention:
                continue  # dead-lettered when it was read: it never had a decision
            self.mentions.update((mention.id, mention) for mention in found if mention.id in wanted)

    def examples(self) -> list[dict]:
        """One labelled example per corrected mention with a decision and a text, oldest correction first."""
        joined = sorted((correction.at, mention_id) for mention_id, correction in self.corrections.items()
                        if mention_id in self.decisions and mention_id in self.mentions)
        return [example(self.corrections[mention_id], self.decisions[mention_id], self.mentions[mention_id])
                for _, mention_id in joined]

    def missing(self) -> dict[str, list[str]]:
        """The corrected mentions left out, by what they lack (the topics' retention may have dropped it)."""
        ids = sorted(self.corrections)
        return {"decision": [i for i in ids if i not in self.decisions],
                "text": [i for i in ids if i in self.decisions and i not in self.mentions]}


def example(correction: Correction, routing: dict, mention: Mention) -> dict:
    """The training format `train --data` reads (`text`, `label`, `lang`), with what evaluation needs beside it."""
    return {
        "mention_id": mention.id,
        "text": mention.text,
        "label": correction.label,
        "lang": routing.get("lang") or mention.lang,
        "provenance": CORRECTION,  # what `train --correction-weight` weighs
        "source": mention.source,
        "created_at": mention.created_at.isoformat(),
        "by": correction.by,
        "at": correction.at.isoformat(),
        "predicted_label": routing.get("label"),
        "confidence": routing.get("confidence"),
        "model_version": routing.get("model_version"),
    }
