"""The n-gram counter and the sentiment lexicon as scikit-learn steps; the arithmetic is in ngrams.py and lexicon.py.

They stay at this path because saved artifacts name them.
"""

from importlib import resources

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from router.classify import lexicon
from router.classify.ngrams import char_ngrams, count_matrix, lookup_table, slots, word_ngrams
from router.classify.text import normalize


class NgramCounter(TransformerMixin, BaseEstimator):
    """Counts of word or character n-grams seen in at least `min_df` training documents.

    The fitted vocabulary is a sorted uint64 array of n-gram hashes (cheap to store and
    to load). Lookup goes through an open table indexed by hash bits, rebuilt from the
    vocabulary on first use and never persisted; n-grams that would share a slot are
    dropped from the vocabulary at fit time, so lookup needs no probing.
    """

    def __init__(self, kind: str = "char", ngram_range: tuple[int, int] = (2, 5), min_df: int = 2):
        self.kind = kind
        self.ngram_range = ngram_range
        self.min_df = min_df

    def _range(self) -> tuple[int, int]:
        low, high = self.ngram_range  # a list once scikit-learn has cloned the parameters
        return low, high

    def fit(self, X, y=None):  # noqa: N803 - scikit-learn's signature
        extract = char_ngrams if self.kind == "char" else word_ngrams
        docs, hashes = extract(list(X), self._range())
        pairs = np.unique(np.stack([hashes, docs.astype(np.uint64)]), axis=1)
        values, df = np.unique(pairs[0], return_counts=True)
        values = values[df >= self.min_df]
        # About 32 slots per n-gram: about 3% of n-grams collide and are dropped.
        self.table_bits_ = max(10, int(np.ceil(np.log2(max(len(values), 1) * 32))))
        taken = slots(values, self.table_bits_)
        _, first, counts = np.unique(taken, return_index=True, return_counts=True)
        self.vocabulary_ = np.sort(values[first[counts == 1]])
        self.__dict__.pop("_table", None)
        return self

    def _lookup_table(self) -> np.ndarray:
        table = self.__dict__.get("_table")
        if table is None:
            table = self._table = lookup_table(self.vocabulary_, self.table_bits_)
        return table

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_table", None)  # derived from the vocabulary; rebuilt on load
        return state

    def transform(self, X):  # noqa: N803
        return count_matrix(list(X), self.kind, self._range(), self.vocabulary_, self._lookup_table(),
                            self.table_bits_)

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"{self.kind}_{index}" for index in range(len(self.vocabulary_))], dtype=object)


class SentimentLexicon(TransformerMixin, BaseEstimator):
    """VADER's lexicon scores of normalised texts (see lexicon.py): four columns.

    Fitting reads the lexicon from the vaderSentiment package (MIT) and keeps it as arrays, so
    the fitted step, and the runtime arrays exported from it, need no package to run.
    """

    def fit(self, X=None, y=None):  # noqa: N803 - scikit-learn's signature
        words, valences = [], []
        text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
        for line in text.splitlines():
            word, valence = line.split("\t")[:2]
            words.append(normalize(word))
            valences.append(float(valence))
        hashes, kept = lexicon.word_hashes(words)
        # Entries that normalise alike ("naïve", "naive") keep the first valence.
        self.vocabulary_, first = np.unique(hashes, return_index=True)
        self.valences_ = np.asarray(valences, dtype=np.float64)[kept][first]
        return self

    def transform(self, X):  # noqa: N803
        return lexicon.scores(list(X), self.vocabulary_, self.valences_)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(["lexicon_negative", "lexicon_neutral", "lexicon_positive", "lexicon_compound"],
                          dtype=object)
