"""What inbox tools write back (claims, corrections): small JSON objects, validated strictly, errors in words."""

from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, Field, ValidationError

from router.mentions.decode import describe_errors

M = TypeVar("M", bound=BaseModel)


def _names_someone(value: str) -> str:
    if not value.strip() or not value.isprintable():
        raise ValueError("must name someone, in printable characters")
    return value


# Who did it: an e-mail address, an employee id.
Someone = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_names_someone)]


def parse_tool_record(model: type[M], value: bytes | None, limit: int) -> M:
    """The record as `model`, at most `limit` bytes; a ValueError says what is wrong, fit for the dead-letter topic."""
    if value is None:
        raise ValueError("no value")
    if len(value) > limit:
        raise ValueError(f"{len(value)} bytes, limit {limit}")
    try:
        return model.model_validate_json(value)
    except ValidationError as error:
        raise ValueError(describe_errors(error, "value")) from None
