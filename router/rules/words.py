"""Whole-word, case- and accent-insensitive word lookup in a mention's text."""

import re
import sys
import unicodedata
from functools import cache

# \w+ has no nested quantifier, so it scans in linear time whatever the text.
_WORD = re.compile(r"\w+")


@cache
def _combining_marks() -> dict[int, None]:
    """A str.translate table deleting every combining character; built on the first non-ASCII text."""
    return dict.fromkeys(code for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code)))


def fold(text: str) -> str:
    """Lower case without accents: "Remboursé" and "rembourse" compare equal."""
    if text.isascii():  # NFKD leaves ASCII as it is and no ASCII character combines
        return text.casefold()
    return unicodedata.normalize("NFKD", text).translate(_combining_marks()).casefold()


# Words are folded per whitespace-separated chunk, and a chunk seen before is not folded again: mentions share most
# of their vocabulary. Per chunk is exact: folding works character by character, whitespace folds to
# whitespace, so no word spans two chunks. Tuples of strings, unlike lists, drop out of the garbage collector's scans.
_CHUNK_WORDS_LIMIT = 1 << 16
_chunk_words: dict[str, tuple[str, ...]] = {}


def words_of(text: str) -> list[str]:
    """The text's words, folded, in order."""
    words: list[str] = []
    for chunk in text.split():
        found = _chunk_words.get(chunk)
        if found is None:
            if len(_chunk_words) >= _CHUNK_WORDS_LIMIT:
                _chunk_words.clear()
            found = _chunk_words[chunk] = tuple(_WORD.findall(fold(chunk)))
        words += found
    return words


def word_line(text: str) -> str:
    """The text's words, folded and space-separated with a space at each end.

    Searching " money back " in it finds the phrase only as whole words.
    """
    return " " + " ".join(words_of(text)) + " "


def phrase_key(phrase: str) -> str:
    """A listed word or phrase in the form that `word_line` output contains."""
    words = words_of(phrase)
    return " " + " ".join(words) + " " if words else ""
