"""Whole-word, case- and accent-insensitive word lookup in a mention's text."""

import re
import unicodedata

# \w+ has no nested quantifier, so it scans in linear time whatever the text.
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower case without accents: "Remboursé" and "rembourse" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def word_line(text: str) -> str:
    """The text's words, folded and space-separated with a space at each end.

    Searching " money back " in it finds the phrase only as whole words.
    """
    return " " + " ".join(_WORD.findall(fold(text))) + " "


def phrase_key(phrase: str) -> str:
    """A listed word or phrase in the form that `word_line` output contains."""
    words = _WORD.findall(fold(phrase))
    return " " + " ".join(words) + " " if words else ""
