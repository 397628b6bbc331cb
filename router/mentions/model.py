"""The canonical mention every source is normalised into."""

from typing import Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Source = Literal["twitter", "tripadvisor", "facebook", "linkedin"]
SOURCES: tuple[str, ...] = get_args(Source)


class Author(BaseModel):
    """Who wrote the mention; platforms disclose different parts of it."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str | None = None
    handle: str | None = None
    followers: int | None = Field(default=None, ge=0)
    verified: bool | None = None


class Mention(BaseModel):
    """One post, review or comment addressed to or about the company.

    Unknown fields are kept, so that a producer's extra context survives routing.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(min_length=1)
    source: Source
    text: str
    created_at: AwareDatetime
    author: Author | None = None
    lang: str | None = None
    # A webhook copies its page id into each of its comments: bounded, so that one record of 64 KiB
    # cannot multiply into megabytes of deliveries.
    account: str | None = Field(default=None, max_length=1000)
    business_unit: str | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    thread_id: str | None = None
    url: str | None = None

    @property
    def partition_key(self) -> str:
        """Records of one thread share a key, so that one thread stays on one partition."""
        return self.thread_id or self.id
