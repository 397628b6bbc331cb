"""Text normalisation shared by training and prediction: one pass, fast, bilingual."""

import re
import unicodedata
from collections.abc import Iterable

# Placeholders keep the fact that a URL, a handle or a number was there, not its value:
# a link or an amount is a signal, the exact one is noise that would not generalise.
_URL = re.compile(r"(?:https?://|www\.)\S+")
_HANDLE = re.compile(r"@\w+")
_NUMBER = re.compile(r"\d+(?:[.,:h]\d+)*")
_REPEAT = re.compile(r"(.)\1\1+")  # the same as (.)\1{2,}, and twice as fast


def _accent_table() -> dict[int, str]:
    """Latin letters with diacritics map to their base letter; emoji and other scripts are kept."""
    table = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFKD", chr(code)).encode("ascii", "ignore").decode()
        if base and base != chr(code):
            table[code] = base
    # Typographic apostrophes and quotes are common in French text typed on phones.
    table.update({0x2019: "'", 0x2018: "'", 0x00AB: '"', 0x00BB: '"', 0x201C: '"', 0x201D: '"'})
    table[0x0153] = "oe"
    table[0x00E6] = "ae"
    return table


_ACCENTS = _accent_table()


_ASCII = frozenset(map(chr, range(128)))
# What splits a batch into its texts: no pattern above matches across it, and no step makes one.
_SEPARATOR = "\n"


def normalize(text: str) -> str:
    """Lower-case, fold accents, replace URLs, handles and numbers with tokens, squeeze repeats."""
    return normalize_all([text])[0]


def normalize_all(texts: Iterable[str]) -> list[str]:
    """normalize() of each text, over the whole batch at once: a regex pass costs per call, not only per character."""
    texts = list(texts)
    if not texts:
        return []
    batch = _SEPARATOR.join(text.replace(_SEPARATOR, " ") for text in texts).lower()
    batch = _URL.sub(" httpurl ", batch)
    batch = _HANDLE.sub(" @user ", batch)
    batch = _NUMBER.sub("0", batch)
    if not batch.isascii():  # most English mentions are ASCII: skip the costly pass
        batch = _fold_accents(batch)
    # "sooooo baaad" and "so bad" should share n-grams; two letters keep the emphasis.
    batch = _REPEAT.sub(r"\1\1", batch)
    return [" ".join(text.split()) for text in batch.split(_SEPARATOR)]


def _fold_accents(text: str) -> str:
    """text.translate(_ACCENTS), in a few replace() calls: translate looks up every character, even ASCII ones."""
    for character in set(text) - _ASCII:
        base = _ACCENTS.get(ord(character))
        if base is not None:
            text = text.replace(character, base)
    return text
