"""Text normalisation as a scikit-learn step of the training pipeline; the folding itself is in text.py.

It stays at this path because saved artifacts name it.
"""

from sklearn.base import BaseEstimator, TransformerMixin

from router.classify.text import normalize, normalize_all

__all__ = ["TextNormalizer", "normalize"]


class TextNormalizer(TransformerMixin, BaseEstimator):
    """Stateless pipeline step applying normalize(), so a fitted pipeline carries its own preprocessing."""

    def fit(self, X, y=None):  # noqa: N803 - scikit-learn's signature
        return self

    def transform(self, X):  # noqa: N803
        return normalize_all(X)
