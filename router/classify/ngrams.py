"""Word and character n-gram counts computed with numpy over a whole batch at once.

scikit-learn's text vectorizers build every n-gram as a Python string, which caps a
classifier at about 10,000 tweets a second. Here a batch is joined into one byte
buffer and every n-gram is identified by a 64-bit polynomial hash of its bytes,
computed for all positions at once from prefix sums; a sorted array of the hashes
seen at training time (no Python dict) maps them to columns.
"""

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

_BASE = np.uint64(0x100000001B3)  # odd, so invertible modulo 2**64
_BASE_INV = np.uint64(pow(0x100000001B3, -1, 2**64))
_PAIR = np.uint64(0x9E3779B97F4A7C15)  # mixes two word hashes into one bigram hash
_SEP = 10  # "\n" separates documents; normalised text holds no newline

# Bytes that belong to a word: ASCII letters, digits, "_", "@" and every non-ASCII byte
# (accents are folded before this step, so what remains is emoji and other scripts).
_WORD_BYTE = np.zeros(256, dtype=bool)
for _chars in (b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"0123456789_@"):
    _WORD_BYTE[list(_chars)] = True
_WORD_BYTE[0x80:] = True


def _buffer(texts) -> tuple[np.ndarray, np.ndarray]:
    """The batch as one uint64 array padded with spaces, and the document index of each byte (-1 on separators)."""
    encoded = [f" {text} ".encode("utf-8") for text in texts]
    data = np.frombuffer(b"\n".join(encoded) + b"\n", dtype=np.uint8)
    lengths = np.fromiter((len(chunk) for chunk in encoded), dtype=np.int64, count=len(encoded))
    doc = np.repeat(np.arange(len(encoded), dtype=np.int64), lengths + 1)
    doc[data == _SEP] = -1
    return data, doc


def _prefix(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prefix hashes P (P[0] = 0) and powers of the base, so that hash(s, e) = P[e] - P[s] * B**(e - s)."""
    count = len(data) + 1
    powers = np.empty(count, dtype=np.uint64)
    powers[0] = 1
    powers[1:] = _BASE
    np.cumprod(powers, out=powers)  # wraps modulo 2**64, which is what the hash wants
    inverse = np.empty(count, dtype=np.uint64)
    inverse[0] = 1
    inverse[1:] = _BASE_INV
    np.cumprod(inverse, out=inverse)
    weighted = (data.astype(np.uint64) + np.uint64(1)) * inverse[1:]
    prefix = np.zeros(count, dtype=np.uint64)
    np.cumsum(weighted, out=prefix[1:])
    prefix[1:] *= powers[1:]
    return prefix, powers


def _span_hash(prefix, powers, start, end):
    return prefix[end] - prefix[start] * powers[end - start]


def char_ngrams(texts, sizes: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(document index, hash) of every character n-gram with sizes[0] <= n <= sizes[1]."""
    docs, hashes = zip(*((doc[inside], hashes[inside]) for doc, hashes, inside in _char_hashes(texts, sizes)))
    return np.concatenate(docs), np.concatenate(hashes)


def _char_hashes(texts, sizes: tuple[int, int]) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each size, at every position of the batch: its document, the n-gram's hash, and whether it is inside one.

    Slices of the prefix hashes, not gathers: the n-grams that cross a document's end are masked, not skipped.
    """
    data, doc = _buffer(texts)
    prefix, _ = _prefix(data)
    for size in range(sizes[0], sizes[1] + 1):
        count = max(len(data) - size + 1, 0)  # a batch of one empty text is shorter than a 5-gram
        first = doc[:count]
        with np.errstate(over="ignore"):
            hashes = prefix[size : size + count] - prefix[:count] * _power(size) + np.uint64(size)
        yield first, hashes, (first == doc[size - 1 : size - 1 + count]) & (first >= 0)


def _power(exponent: int) -> np.uint64:
    return np.uint64(pow(int(_BASE), exponent, 1 << 64))


def words(texts) -> tuple[np.ndarray, np.ndarray]:
    """(document index, hash) of every word, in order: the unigrams, which the lexicon scores read too."""
    data, doc = _buffer(texts)
    prefix, powers = _prefix(data)
    inside = _WORD_BYTE[data]
    edges = np.diff(np.concatenate(([False], inside, [False])).astype(np.int8))
    start, end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    with np.errstate(over="ignore"):
        return doc[start], _span_hash(prefix, powers, start, end)


def word_ngrams(texts, sizes: tuple[int, int],
                found: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(document index, hash) of every word unigram and, if sizes[1] == 2, bigram; `found`: words(texts) if known."""
    word_doc, words_ = found if found is not None else words(texts)
    with np.errstate(over="ignore"):
        docs, hashes = [], []
        if sizes[0] <= 1:
            docs.append(word_doc)
            hashes.append(words_)
        if sizes[1] >= 2 and len(words_) > 1:
            same = word_doc[:-1] == word_doc[1:]
            docs.append(word_doc[:-1][same])
            hashes.append(words_[:-1][same] * _PAIR + words_[1:][same])
    if not docs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    return np.concatenate(docs), np.concatenate(hashes)


def slots(hashes: np.ndarray, bits: int) -> np.ndarray:
    """Fibonacci hashing: the top `bits` bits of hash * golden ratio, spread evenly over the table."""
    with np.errstate(over="ignore"):
        return ((hashes * _PAIR) >> np.uint64(64 - bits)).astype(np.intp)


def lookup_table(vocabulary: np.ndarray, bits: int) -> np.ndarray:
    """Column of each vocabulary hash at its slot, -1 elsewhere; no two entries share a slot (see NgramCounter.fit)."""
    table = np.full(1 << bits, -1, dtype=np.int32)
    table[slots(vocabulary, bits)] = np.arange(len(vocabulary), dtype=np.int32)
    return table


def _columns(docs: np.ndarray, hashes: np.ndarray, inside: np.ndarray | None, vocabulary: np.ndarray,
             table: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(document index, vocabulary column) of the n-grams in the vocabulary, of those `inside` a document if given."""
    column = table[slots(hashes, bits)]
    # An empty slot holds -1, which reads the last vocabulary entry: the equality test
    # rejects it like any other mismatch, so one mask does both checks.
    known = vocabulary[column] == hashes
    if inside is not None:
        known &= inside
    return docs[known], column[known]


def count_matrix(texts: list[str], kind: str, ngram_range: tuple[int, int], vocabulary: np.ndarray,
                 table: np.ndarray, bits: int, found: tuple[np.ndarray, np.ndarray] | None = None) -> sp.csr_matrix:
    """Counts of the vocabulary's n-grams in each text, one row per text, one column per vocabulary entry.

    `found` is words(texts), when another block has computed it already.
    """
    if len(vocabulary) == 0:
        return sp.csr_matrix((len(texts), 0))
    if kind == "char":
        found_columns = [_columns(*spans, vocabulary, table, bits) for spans in _char_hashes(texts, ngram_range)]
        docs, columns = (np.concatenate(found) for found in zip(*found_columns))
    else:
        docs, columns = _columns(*word_ngrams(texts, ngram_range, found), None, vocabulary, table, bits)
    # One sort of (row, column) keys finds the repeated n-grams; scipy's duplicate summing cost four times more.
    keys, counts = np.unique(docs * len(vocabulary) + columns, return_counts=True)
    columns = keys % len(vocabulary)
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // len(vocabulary), minlength=len(texts)), out=indptr[1:])
    return sp.csr_matrix((counts.astype(np.float64), columns, indptr), shape=(len(texts), len(vocabulary)))
