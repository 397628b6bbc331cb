"""A mention's language, and the doubts about a label that no confidence shows: an unknown language, no text."""

import re

import pycld2

# Reasons a label is not trusted whatever its confidence; the decision document names them.
UNSUPPORTED_LANGUAGE = "unsupported_language"
TOO_SHORT = "too_short"

# Platform codes that name no language: X/Twitter's "und" (undetermined), "zxx" (no linguistic content)
# and its q-codes (media, hashtags, mentions or cashtags only).
UNDETERMINED = frozenset({"", "und", "zxx", "mul", "mis", "art", "qme", "qht", "qam", "qct", "qst"})
# The detector reads this much of a text: a language shows in the first lines, and a long review costs no more.
DETECT_CHARACTERS = 2000
# Fewer letters than this, once links and @handles are taken out ("", "👍", "ok", "@brand ?"), is no text to read.
MIN_LETTERS = 3
# A language is detected from this many of the author's words or more; on fewer, detectors guess.
MIN_DETECT_WORDS = 3

_NOT_WORDS = ("@", "http://", "https://", "www.")  # handles and links: no words of the author's
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def primary(tag: str | None) -> str | None:
    """The primary subtag of a platform's language code, lower case ("en-GB" -> "en"); None if it names none."""
    if tag is None:
        return None
    code = tag.split("-", 1)[0].split("_", 1)[0].strip().lower()
    return None if code in UNDETERMINED else code


def detect(text: str) -> str | None:
    """The language of a text as an ISO 639-1 code when the detector is sure of it, else None.

    CLD2 (Google's compact language detector, through pycld2): about 20 µs for a tweet, where detectors
    built for the hardest short texts cost 10 to 50 times more than routing the mention. It answers
    "unknown" rather than guess on a few words ("ok", "merci!"), which is what a router wants.
    """
    sample = text[:DETECT_CHARACTERS]
    try:
        reliable, _, details = pycld2.detect(sample, isPlainText=True)
    except (pycld2.error, UnicodeError):  # control characters or lone surrogates: read the text without them
        try:
            reliable, _, details = pycld2.detect(_CONTROL.sub(" ", sample), isPlainText=True)
        except (pycld2.error, UnicodeError):
            return None
    code = details[0][1]
    return code if reliable and code != "un" else None


def own_words(text: str) -> list[str]:
    """The author's words: the text split on spaces, without @handles and links (a regex costs ten times more)."""
    return [word for word in text.split() if not word.startswith(_NOT_WORDS)]


def too_short(text: str) -> bool:
    """No text to read: fewer than MIN_LETTERS letters in the author's words."""
    letters = 0
    for word in text.split():  # stops within the first words of most mentions
        if word.startswith(_NOT_WORDS):
            continue
        for char in word:
            if char.isalpha():
                letters += 1
                if letters >= MIN_LETTERS:
                    return False
    return True


def assess(text: str, platform_lang: str | None, languages: frozenset[str] | None) -> tuple[str | None, str | None]:
    """(language, doubt): the platform's language or the detected one, and why the label cannot be trusted.

    `languages` are those the model was trained for; None (a model that does not say) checks no language.
    Detection reads the author's words only, and only MIN_DETECT_WORDS or more of them: a handle's letters
    made "@brand DM sent" Latin and "@brand done" Dutch.
    """
    if too_short(text):
        return primary(platform_lang), TOO_SHORT
    lang = primary(platform_lang)
    if lang is None:
        words = own_words(text)
        lang = detect(" ".join(words)) if len(words) >= MIN_DETECT_WORDS else None
    if languages is not None and lang is not None and lang not in languages:
        return lang, UNSUPPORTED_LANGUAGE
    return lang, None
