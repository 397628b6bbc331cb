"""Text normalisation and the vectorised n-gram counter."""

import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.classify.features import NgramCounter, char_ngrams, word_ngrams
from router.classify.normalize import normalize
from router.classify.text import _ACCENTS, normalize_all


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@SkyLineAir Flight DELAYED https://t.co/xYz", "@user flight delayed httpurl"),
        ("Très déçue, l’hôtel était sale", "tres decue, l'hotel etait sale"),
        ("waited 3h30 for 12 $", "waited 0 for 0 $"),
        ("sooooo baaaad!!!!", "soo baad!!"),
        ("  two\n\tlines  ", "two lines"),
        ("😡 nul", "😡 nul"),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def _normalize_one(text: str) -> str:
    """The per-text algorithm normalize_all() must equal, pass for pass."""
    text = text.lower()
    text = re.sub(r"(?:https?://|www\.)\S+", " httpurl ", text)
    text = re.sub(r"@\w+", " @user ", text)
    text = re.sub(r"\d+(?:[.,:h]\d+)*", "0", text)
    text = text.translate(_ACCENTS)
    text = re.sub(r"(.)\1{2,}", r"\1\1", text)
    return " ".join(text.split())


# Pieces that meet every pass: separators and other whitespace, accents, ligatures, emoji, final sigma, dotted I.
_PIECES = ["\n", "\r\n", " ", "\t", "\u2028", "\u00a0", "a", "A", "aaa", "é", "É", "œ", "’", "«", "😡", "✈️",
           "ΟΔΟΣ", "İ", "3", "3h30", "1,5", "@x", "@", "http://t.co/a", "www.", "www.x", "!!!!", "ßs"]


@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join), max_size=8))
def test_normalising_a_batch_is_normalising_each_text(texts):
    assert normalize_all(texts) == [_normalize_one(text) for text in texts]


def _reference_chars(text: str, low: int, high: int) -> Counter:
    padded = f" {text} "
    return Counter(padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1))


def test_char_ngram_hashes_match_a_plain_count():
    texts = ["ab ab", "abc", "b"]
    docs, hashes = char_ngrams(texts, (2, 3))
    for index, text in enumerate(texts):
        ours = sorted(Counter(hashes[docs == index].tolist()).values())
        assert ours == sorted(_reference_chars(text, 2, 3).values())
    # The same n-gram hashes the same in every document: " a" and "ab" are shared.
    assert set(hashes[docs == 0].tolist()) & set(hashes[docs == 1].tolist())


def test_word_ngrams_stay_inside_a_document():
    docs, hashes = word_ngrams(["a b", "c"], (1, 2))
    assert np.bincount(docs).tolist() == [3, 1]  # a, b, "a b" | c


def test_counter_counts_known_ngrams_and_ignores_unknown():
    counter = NgramCounter(kind="word", ngram_range=(1, 1), min_df=1).fit(["late flight", "late bag"])
    assert len(counter.vocabulary_) == 3
    matrix = counter.transform(["late late refund", ""])
    assert matrix.shape == (2, 3)
    assert matrix.sum() == 2.0  # "late" twice; "refund" unseen
    assert matrix[0].max() == 2.0
    assert matrix[1].nnz == 0


def test_min_df_drops_rare_ngrams():
    counter = NgramCounter(kind="word", ngram_range=(1, 1), min_df=2).fit(["late flight", "late bag"])
    assert len(counter.vocabulary_) == 1


def test_lookup_table_is_not_persisted():
    counter = NgramCounter(kind="char", ngram_range=(2, 3)).fit(["hello there", "hello you"])
    counter.transform(["hello"])
    assert "_table" not in counter.__getstate__()
