"""The labels the careful lane gives a record, carried back to the worker in one header of the record itself."""

from collections.abc import Sequence
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from router.classify.labels import CAREFUL_STAGE, FAST_STAGE, LABELS, Classification
from router.mentions.decode import describe_errors

# The header's name: a record of the labelled topic carries it, and only there does the worker believe it.
HEADER = "inbox-router.careful"

Label = Literal[LABELS]  # type: ignore[valid-type]  # the five labels, whatever the tuple holds
_FRACTION = Field(ge=0.0, le=1.0)


class _Label(BaseModel):
    """One mention's classification, as `Classification` holds it."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    label: Label
    confidence: float = _FRACTION
    scores: dict[Label, float]
    lang: str | None = Field(max_length=35)
    doubt: str | None = Field(max_length=100)
    stage: Literal[FAST_STAGE, CAREFUL_STAGE]  # type: ignore[valid-type]


class Carried(BaseModel):
    """What the careful lane says of a record: the labels of its mentions in order, and the classifier that gave them.

    `threshold` is that classifier's own: routing judges the labels against it when the config sets none, as
    `replay` does with the same cascade.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    model_version: str = Field(min_length=1, max_length=500)
    threshold: float = _FRACTION
    classifications: list[_Label]

    def labels(self) -> list[Classification]:
        return [Classification(c.label, c.confidence, dict(c.scores), c.lang, c.doubt, c.stage)
                for c in self.classifications]


def encode(model_version: str, threshold: float, classifications: Sequence[Classification]) -> bytes:
    """The header's value: JSON, whose floats read back to the very same floats."""
    return orjson.dumps({
        "model_version": model_version,
        "threshold": threshold,
        # float(): a model may give numpy's floats, which orjson does not write.
        "classifications": [{"label": c.label, "confidence": float(c.confidence),
                             "scores": {label: float(score) for label, score in c.scores.items()},
                             "lang": c.lang, "doubt": c.doubt, "stage": c.stage} for c in classifications],
    })


def decode(headers: Sequence[tuple[str, bytes]]) -> Carried | str:
    """What the record's header says, or why it says nothing usable."""
    values = [value for name, value in headers if name == HEADER]
    if len(values) != 1:
        return f"the record has {len(values)} {HEADER} headers, not one"
    try:
        return Carried.model_validate_json(values[0])
    except ValidationError as error:
        return f"the {HEADER} header is refused: {describe_errors(error, 'header')}"


def with_header(headers: Sequence[tuple[str, bytes]], value: bytes) -> tuple[tuple[str, bytes], ...]:
    """The record's headers with ours set to `value`: one a producer wrote itself is replaced, never believed."""
    return (*[(name, old) for name, old in headers if name != HEADER], (HEADER, value))
