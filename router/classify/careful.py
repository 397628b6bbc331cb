"""The careful second stage: a sentence encoder and the fast model's scores, for the labels the fast model doubts."""

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from router.classify.labels import CAREFUL_STAGE, LABELS, Classification
from router.errors import ModelError
from router.settings import REPO_ROOT, get_settings

if TYPE_CHECKING:
    from router.classify.classifier import Classifier
    from router.classify.encoder import Encoder
    from router.rules.config import RoutingConfig

SHIPPED_CAREFUL_DIR = REPO_ROOT / "models" / "careful-classifier"
MANIFEST_FILE = "manifest.json"
WEIGHTS_FILE = "weights.npz"
# A fast probability is read as its logarithm, floored so that a zero does not make an infinite feature.
LOG_FLOOR = 1e-6


def takes_careful(classification: Classification, below: float | None) -> bool:
    """Whether a fast label goes to the careful stage: less confident than `below` (None: none does).

    A doubted label (a language the model does not know, no text to read) goes to triage whatever any
    stage says, so it does not take the slower stage.
    """
    return below is not None and classification.doubt is None and classification.confidence < below


def fast_features(fast: Sequence[Classification], labels: Sequence[str]) -> np.ndarray:
    """The fast model's log-probabilities, columns in the order of `labels` (a label it lacks scores the floor)."""
    scores = np.array([[c.scores.get(label, 0.0) for label in labels] for c in fast], dtype=np.float64)
    return np.log(np.maximum(scores.reshape(len(fast), len(labels)), LOG_FLOOR))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class CarefulModel:
    """A linear model over [sentence embedding, fast log-probabilities], temperature-calibrated."""

    def __init__(self, manifest: dict, coef: np.ndarray, intercept: np.ndarray) -> None:
        self.manifest = manifest
        self.version: str = manifest["version"]
        self.labels: tuple[str, ...] = tuple(manifest["labels"])
        self.fast_labels: tuple[str, ...] = tuple(manifest["fast_labels"])
        self.temperature = float(manifest.get("temperature", 1.0))
        self.coef, self.intercept = coef, intercept
        self._encoder: Encoder | None = None

    @classmethod
    def load(cls, directory: Path | None = None) -> "CarefulModel":
        """The model of an artifact directory (None: INBOX_CAREFUL_MODEL_DIR, else the shipped one); a ModelError
        says what is wrong with it."""
        path = directory or get_settings().careful_model_dir or SHIPPED_CAREFUL_DIR
        try:
            manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
            with np.load(path / WEIGHTS_FILE, allow_pickle=False) as arrays:
                coef, intercept = arrays["coef"], arrays["intercept"]
        except (OSError, ValueError, KeyError) as error:
            raise ModelError(f"cannot load the careful model at {path}: {error}") from None
        if not isinstance(manifest, dict) or not {"version", "labels", "fast_labels", "dimension"} <= set(manifest):
            raise ModelError(f"careful model at {path}: its manifest needs version, labels, fast_labels and dimension")
        unknown = set(manifest["labels"]) - set(LABELS)
        if unknown:
            raise ModelError(f"careful model at {path} predicts unknown labels: {sorted(unknown)}")
        expected = (len(manifest["labels"]), manifest["dimension"] + len(manifest["fast_labels"]))
        if coef.shape != expected or intercept.shape != expected[:1]:
            raise ModelError(f"careful model at {path}: weights of shape {coef.shape}, manifest says {expected}")
        return cls(manifest, coef, intercept)

    @property
    def encoder(self) -> "Encoder":
        if self._encoder is None:
            from router.classify import encoder

            self._encoder = encoder.shipped()
            if self._encoder.dimension != self.manifest["dimension"]:
                raise ModelError(f"careful model {self.version} expects {self.manifest['dimension']}-dimensional "
                                 f"sentence vectors; the encoder gives {self._encoder.dimension}")
        return self._encoder

    def probabilities(self, embeddings: np.ndarray, fast: Sequence[Classification]) -> np.ndarray:
        """Rows of probabilities over `labels`, from precomputed sentence vectors and the fast labels."""
        features = np.hstack([embeddings.astype(np.float64), fast_features(fast, self.fast_labels)])
        # Row by row: a matrix product's last bits change with the shape of the batch, and a row's must not.
        logits = np.array([self.coef @ row for row in features]).reshape(len(features), len(self.coef))
        return softmax(self.temperature * (logits + self.intercept))

    def classify(self, texts: Sequence[str], fast: Sequence[Classification]) -> list[Classification]:
        """One careful label per text; its language and doubt are the fast label's."""
        if len(texts) != len(fast):
            raise ValueError(f"{len(texts)} texts but {len(fast)} fast labels")
        if not texts:
            return []
        probabilities = self.probabilities(self.encoder.embed(texts), fast)
        labels = self.labels
        return [
            Classification(labels[int(np.argmax(row))], float(row.max()), dict(zip(labels, row.tolist())),
                           given.lang, given.doubt, CAREFUL_STAGE)
            for row, given in zip(probabilities, fast)
        ]


class Cascade:
    """The fast model for every text, then the careful model, in one batch, for those it labels with doubt."""

    def __init__(self, fast: "Classifier", careful: CarefulModel, below: float) -> None:
        self.fast, self.careful, self.below = fast, careful, below

    @property
    def version(self) -> str:
        return f"{self.fast.version}+{self.careful.version}"

    @property
    def threshold(self) -> float:
        return self.fast.threshold

    def classify(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Classification]:
        return self.stages(texts, langs)[1]

    def stages(self, texts: Sequence[str], langs: Sequence[str | None] | None = None
               ) -> tuple[list[Classification], list[Classification]]:
        """The fast labels, and the labels routing uses: the careful one where the fast one was unsure."""
        fast = self.fast.classify(texts, langs)
        labelled = list(fast)
        again = [i for i, c in enumerate(fast) if takes_careful(c, self.below)]
        if again:
            careful = self.careful.classify([texts[i] for i in again], [fast[i] for i in again])
            for i, label in zip(again, careful, strict=True):
                labelled[i] = label
        return fast, labelled


@cache
def shipped() -> CarefulModel:
    """The shipped careful model, loaded once per process and only when a config asks for it."""
    return CarefulModel.load()


def for_config(classifier: "Classifier", config: "RoutingConfig") -> "Classifier":
    """The cascade when the config sets careful_below, else the fast classifier (the fast path loads nothing).

    A cascade given for another config is taken apart first: its fast model goes with this config's setting.
    """
    fast = classifier.fast if isinstance(classifier, Cascade) else classifier
    if config.careful_below is None:
        return fast
    return Cascade(fast, shipped(), config.careful_below)
