"""Text normalisation shared by training and prediction: one pass, fast, bilingual."""

import re
import unicodedata

# Placeholders keep the fact that a URL, a handle or a number was there, not its value:
# a link or an amount is a signal, the exact one is noise that would not generalise.
_URL = re.compile(r"(?:https?://|www\.)\S+")
_HANDLE = re.compile(r"@\w+")
_NUMBER = re.compile(r"\d+(?:[.,:h]\d+)*")
_REPEAT = re.compile(r"(.)\1{2,}")


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


def normalize(text: str) -> str:
    """Lower-case, fold accents, replace URLs, handles and numbers with tokens, squeeze repeats."""
    text = text.lower()
    text = _URL.sub(" httpurl ", text)
    text = _HANDLE.sub(" @user ", text)
    text = _NUMBER.sub("0", text)
    if not text.isascii():  # most English mentions are ASCII: skip the costly pass
        text = text.translate(_ACCENTS)
    # "sooooo baaad" and "so bad" should share n-grams; two letters keep the emphasis.
    text = _REPEAT.sub(r"\1\1", text)
    return " ".join(text.split())
