"""A record of `routing.corrections`: an agent's label for a routed mention, checked as strictly as a claim."""

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from router.classify.labels import LABELS
from router.toolrecords import Someone, parse_tool_record

# A correction comes from an inbox tool: bounded like a claim, so that no tool can write large records.
MAX_CORRECTION_BYTES = 4096


class Correction(BaseModel):
    """`label` is what the mention should have been labelled, said by `by` at `at` (with its time zone)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    mention_id: str = Field(min_length=1, max_length=1000)
    label: str
    by: Someone
    at: AwareDatetime

    @field_validator("label")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in LABELS:
            raise ValueError(f"must be one of {', '.join(LABELS)}")
        return value


def parse_correction(value: bytes | None) -> Correction:
    """The correction a record holds; a ValueError says what is wrong, in words fit for the dead-letter topic."""
    return parse_tool_record(Correction, value, MAX_CORRECTION_BYTES)


def correction_problem(value: bytes | None) -> str | None:
    """Why a record is not a correction, or None when it is one."""
    try:
        parse_correction(value)
    except ValueError as error:
        return str(error)
    return None
