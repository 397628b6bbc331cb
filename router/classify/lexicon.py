"""Sentiment lexicon scores computed with numpy over a batch: VADER's word valences without its Python rules.

VADER (Hutto and Gilbert 2014, MIT) scores a text in about 80 µs, mostly Python rules
(boosters, capitals, "but", negation). Its lexicon alone, looked up by the same 64-bit
word hashes as the n-grams, gives four scores like VADER's (negative, neutral and
positive shares, a compound in -1..1) in a few µs a text; on the evaluation sets it
kept most of what the full scores added (see the model card). Negation was measured and
left out: it helped the review set and hurt cross-validation on the seed corpus.
"""

import numpy as np
import scipy.sparse as sp

from router.classify.ngrams import word_ngrams, words

SCORES = 4  # negative share, neutral share, positive share, compound
# VADER's normalisation of the compound score: sum / sqrt(sum**2 + ALPHA).
ALPHA = 15.0


def word_hashes(entries: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The hash of each entry that is one word once normalised, and the index of those entries."""
    docs, hashes = word_ngrams(entries, (1, 1))
    counts = np.bincount(docs, minlength=len(entries))
    single = np.flatnonzero(counts == 1)
    first = np.full(len(entries), -1, dtype=np.int64)
    first[docs[::-1]] = np.arange(len(docs))[::-1]
    return hashes[first[single]], single


def scores(texts: list[str], vocabulary: np.ndarray, valences: np.ndarray) -> sp.csr_matrix:
    """score_rows() as the sparse matrix the training pipeline stacks beside the n-grams."""
    return sp.csr_matrix(score_rows(texts, vocabulary, valences))


def score_rows(texts: list[str], vocabulary: np.ndarray, valences: np.ndarray,
               found: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Rows of the four scores for normalised texts; `vocabulary` is sorted word hashes, `valences` theirs.

    `found` is ngrams.words(texts), when the word n-grams have computed it already.
    """
    count = len(texts)
    if len(vocabulary) == 0 or count == 0:
        return np.zeros((count, SCORES))
    docs, hashes = found if found is not None else words(texts)
    at = np.minimum(np.searchsorted(vocabulary, hashes), len(vocabulary) - 1)
    known = vocabulary[at] == hashes
    valence = np.where(known, valences[at], 0.0)
    positive = np.bincount(docs, weights=np.maximum(valence, 0.0), minlength=count)
    negative = np.bincount(docs, weights=np.maximum(-valence, 0.0), minlength=count)
    neutral = np.bincount(docs, weights=(~known).astype(np.float64), minlength=count)
    total = positive + negative + neutral
    total[total == 0] = 1.0
    balance = positive - negative
    return np.column_stack([negative / total, neutral / total, positive / total,
                            balance / np.sqrt(balance * balance + ALPHA)])
