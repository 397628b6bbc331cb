"""The shipped classifier: load once, classify batches of texts."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from router.classify import runtime
from router.classify.labels import LABELS, Classification
from router.classify.language import assess
from router.errors import ModelError
from router.settings import REPO_ROOT, get_settings

DEFAULT_THRESHOLD = 0.5
# Vectorising takes about 150 bytes per character of text: chunks this size keep a batch of the
# longest mentions within tens of megabytes, while a batch of tweets still goes in one call.
CHUNK_CHARACTERS = 128 * 1024
SHIPPED_MODEL_DIR = REPO_ROOT / "models" / "mention-classifier"


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """A model directory's files read into memory once, and a digest of them that names this very model."""

    directory: Path
    manifest: bytes
    runtime: bytes
    digest: str

    @classmethod
    def read(cls, directory: Path) -> "ModelFiles":
        """The files as they are now; a ModelError names what is missing or unreadable."""
        manifest = runtime.read_manifest_bytes(directory)
        data = runtime.read_runtime(directory)
        return cls(directory, manifest, data, runtime.sha256(manifest + b"\0" + data))

    def load(self) -> "Classifier":
        return Classifier.from_files(self)


def default_model_dir() -> Path:
    """The model shipped in the repo's models/ folder, unless INBOX_MODEL_DIR names another."""
    return get_settings().model_dir or SHIPPED_MODEL_DIR


class Classifier:
    """A fitted model with its manifest: label, confidence and every label's probability per text."""

    def __init__(self, model: runtime.LinearModel, manifest: dict):
        self.model = model
        self.manifest = manifest
        self.version: str = manifest.get("version", "unknown")
        self.threshold: float = float(manifest.get("threshold", DEFAULT_THRESHOLD))
        self.labels: tuple[str, ...] = model.labels
        # The languages it was trained for; a model whose manifest does not say is trusted in any language.
        languages = manifest.get("languages")
        self.languages: frozenset[str] | None = frozenset(languages) if languages is not None else None
        unknown = set(self.labels) - set(LABELS)
        if unknown:
            raise ModelError(f"model {self.version} predicts unknown labels: {sorted(unknown)}")

    @classmethod
    def load(cls, directory: str | Path | None = None) -> "Classifier":
        """Load and check an artifact directory; None means the shipped model."""
        path = Path(directory) if directory is not None else default_model_dir()
        manifest = runtime.read_manifest(path)
        return cls(runtime.load(path, manifest), manifest)

    @classmethod
    def from_files(cls, files: "ModelFiles") -> "Classifier":
        """The model of a directory read into memory: every process given these bytes runs the same model."""
        manifest = runtime.parse_manifest(files.manifest, files.directory / runtime.MANIFEST_FILE)
        return cls(runtime.from_bytes(files.runtime, files.directory / runtime.RUNTIME_FILE, manifest), manifest)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of probabilities, columns in the order of `labels`."""
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        return np.vstack([self.model.probabilities(chunk) for chunk in _chunks(texts, CHUNK_CHARACTERS)])

    def classify(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Classification]:
        """One Classification per text, in order; `langs` are the platform's languages, detected where None."""
        probabilities = self.probabilities(texts)
        best = probabilities.argmax(axis=1).tolist()
        labels, languages = self.labels, self.languages
        given = langs if langs is not None else [None] * len(texts)
        return [
            Classification(labels[index], row[index], dict(zip(labels, row)), *assess(text, lang, languages))
            for index, row, text, lang in zip(best, probabilities.tolist(), texts, given, strict=True)
        ]


def _chunks(texts: Sequence[str], budget: int) -> list[list[str]]:
    """Consecutive runs of texts of at most `budget` characters each (a longer text goes alone)."""
    chunks: list[list[str]] = [[]]
    size = 0
    for text in texts:
        if chunks[-1] and size + len(text) > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(text)
        size += len(text)
    return chunks
