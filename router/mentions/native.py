"""Normalise each platform's native payload into canonical mention dicts."""

from datetime import datetime, timedelta, timezone
from typing import Any

from router.errors import DeadLetterKind as Kind
from router.errors import InvalidMention

Payload = dict[str, Any]


def normalise(payload: Payload) -> list[Payload]:
    """Canonical mention dicts for one decoded JSON object, whatever its platform shape."""
    if "source" in payload:  # canonical: each native shape below requires "source" to be absent
        return [payload]
    if _is_x_tweet(payload):
        return [_from_x_tweet(payload)]
    if _is_facebook_webhook(payload):
        return _from_facebook_webhook(payload)
    if _is_tripadvisor_review(payload):
        return [_from_tripadvisor_review(payload)]
    if _is_linkedin_comment(payload):
        return [_from_linkedin_comment(payload)]
    return [payload]


def _is_x_tweet(payload: Payload) -> bool:
    return isinstance(payload.get("data"), dict) and "source" not in payload


def _is_facebook_webhook(payload: Payload) -> bool:
    return isinstance(payload.get("entry"), list) and "source" not in payload


def _is_tripadvisor_review(payload: Payload) -> bool:
    return "location_id" in payload and "published_date" in payload and "source" not in payload


def _is_linkedin_comment(payload: Payload) -> bool:
    return "actor" in payload and "object" in payload and "message" in payload and "source" not in payload


def _from_x_tweet(payload: Payload) -> Payload:
    """X API v2: the tweet in `data`, its author in `includes.users`."""
    tweet = payload["data"]
    users = [u for u in _list(_dict(payload.get("includes")).get("users")) if isinstance(u, dict)]
    # Compared, not hashed: an id may be any JSON value, lists included.
    user = next((u for u in users if u.get("id") == tweet.get("author_id")), {})
    handle = user.get("username")
    mentioned = [m.get("username") for m in _list(_dict(tweet.get("entities")).get("mentions")) if isinstance(m, dict)]
    return _drop_none(
        {
            "id": tweet.get("id"),
            "source": "twitter",
            "text": tweet.get("text"),
            "created_at": tweet.get("created_at"),
            "lang": tweet.get("lang"),
            "account": mentioned[0] if mentioned else None,
            "thread_id": tweet.get("conversation_id"),
            "url": f"https://x.com/{handle}/status/{tweet.get('id')}" if handle else None,
            "author": _drop_none(
                {
                    "id": tweet.get("author_id"),
                    "handle": handle,
                    "followers": _dict(user.get("public_metrics")).get("followers_count"),
                    "verified": user.get("verified"),
                }
            ),
        }
    )


def _from_facebook_webhook(payload: Payload) -> list[Payload]:
    """Graph API page webhook: one mention per comment change; other changes carry no mention."""
    mentions = []
    for entry in payload["entry"]:
        for change in _list(entry.get("changes")) if isinstance(entry, dict) else []:
            value = _dict(change.get("value")) if isinstance(change, dict) else {}
            if value.get("item") == "comment" and value.get("verb", "add") == "add":
                mentions.append(_from_facebook_comment(entry.get("id"), value))
    return mentions


def _from_facebook_comment(page_id: Any, value: Payload) -> Payload:
    author = _dict(value.get("from"))
    return _drop_none(
        {
            "id": value.get("comment_id"),
            "source": "facebook",
            "text": value.get("message"),
            "created_at": _unix_to_rfc3339(value.get("created_time")),
            "account": _as_str(page_id),
            "thread_id": value.get("post_id"),
            "author": _drop_none({"id": author.get("id"), "handle": author.get("name")}),
        }
    )


def _from_tripadvisor_review(payload: Payload) -> Payload:
    """Content API review: the title leads the text, as readers see it.

    A review has no thread: the location it reviews is its account, not a conversation, and reviews of one
    place must not inherit each other's owner.
    """
    user = _dict(payload.get("user"))
    title, body = payload.get("title"), payload.get("text")
    text = f"{title}\n{body}" if isinstance(title, str) and isinstance(body, str) and title else body
    return _drop_none(
        {
            "id": _as_str(payload.get("id")),
            "source": "tripadvisor",
            "text": text,
            "created_at": payload.get("published_date"),
            "lang": payload.get("lang"),
            "account": _as_str(payload.get("location_id")),
            "rating": payload.get("rating"),
            "url": payload.get("url"),
            "author": _drop_none({"handle": user.get("username")}),
        }
    )


def _from_linkedin_comment(payload: Payload) -> Payload:
    """Community Management API comment: `actor` wrote `message.text` on the post `object` at `created.time`.

    LinkedIn nests replies one level deep: a reply's `parentComment` is the comment that opened its thread,
    so a comment and its replies share one thread. The post alone would lump together every member who
    commented on it (each candidate under a job post).
    """
    urn = next((payload[key] for key in ("commentUrn", "$URN", "id") if payload.get(key) is not None), None)
    parent, post = payload.get("parentComment"), payload.get("object")
    return _drop_none(
        {
            "id": _as_str(urn),
            "source": "linkedin",
            "text": _dict(payload.get("message")).get("text"),
            "created_at": _epoch_millis(_dict(payload.get("created")).get("time")),
            "thread_id": _as_str(urn if parent is None else parent),
            "url": f"https://www.linkedin.com/feed/update/{post}/" if _is_post_urn(post) else None,
            "author": _drop_none({"id": payload.get("actor")}),
        }
    )


def _is_post_urn(value: Any) -> bool:
    """A post URN fit to put in a link: a known kind and a numeric id, nothing a link could be bent with."""
    if not isinstance(value, str):
        return False
    kind, _, number = value.removeprefix("urn:li:").partition(":")
    return (value.startswith("urn:li:") and kind in ("activity", "share", "ugcPost")
            and number.isascii() and number.isdigit())


def _epoch_millis(value: Any) -> Any:
    """LinkedIn gives times as epoch milliseconds, and only so: any other value cannot be read with certainty."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return _unix_to_rfc3339(value, per_second=1000)
    raise InvalidMention.because(Kind.INVALID_MENTION, "created_at: created.time must be epoch milliseconds")


def _unix_to_rfc3339(value: Any, per_second: int = 1) -> Any:
    """Graph API webhooks send Unix seconds (LinkedIn milliseconds); anything else is left for validation to judge."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            seconds, fraction = divmod(value, per_second)
            moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
            return (moment + timedelta(microseconds=fraction * 1_000_000 // per_second)).isoformat()
        except (OverflowError, OSError, ValueError):
            # Not handed on as a number: pydantic would read a large one as milliseconds, another date.
            raise InvalidMention.because(Kind.INVALID_MENTION, "created_at: Unix time out of range") from None
    return value


def _as_str(value: Any) -> Any:
    """Platform ids are numbers in some payloads; the canonical schema keeps ids as strings."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _dict(value: Any) -> Payload:
    """A nested object, or an empty one when the payload holds anything else there: its fields count as absent."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _drop_none(fields: Payload) -> Payload:
    return {key: value for key, value in fields.items() if value is not None}
