"""Text normalisation and the vectorised n-gram counter."""

from collections import Counter

import numpy as np
import pytest

from router.classify.features import NgramCounter, char_ngrams, word_ngrams
from router.classify.normalize import normalize


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
