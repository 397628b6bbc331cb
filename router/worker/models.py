"""Hot reload of the model: a changed model directory replaces the running model only if it loads and classifies."""

import asyncio
from pathlib import Path

import structlog

from router.classify.model import ModelFiles
from router.classify.runtime import MANIFEST_FILE, RUNTIME_FILE, parse_manifest
from router.errors import ModelError
from router.filewatch import FileWatch
from router.metrics import MODEL_INFO, MODEL_RELOADS

log = structlog.get_logger("router.worker")

# A model is tried on these before it takes over: a file with arrays of the wrong shapes fails here.
PROBE = ["my order never arrived and nobody answers", "Avez-vous des postes ouverts ?", ""]


class ModelHolder:
    """Holds the files of the last good model, and swaps in a changed directory that loads cleanly.

    The routing processes load the model from these bytes, not from the directory, so that every one runs
    the model that was checked, even while the directory is being rewritten. Calls must not overlap: the
    worker polls from one timer.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.current = ModelFiles.read(directory)  # the routing processes load it and stop the worker if broken
        self._watch = FileWatch([directory / MANIFEST_FILE, directory / RUNTIME_FILE])
        self.version = str(parse_manifest(self.current.manifest, directory / MANIFEST_FILE).get("version", "unknown"))
        self._seen = self.current.digest  # the last version examined, good or bad

    async def reload(self) -> bool:
        """Read and try the directory in another thread, then swap; True when a new model took over."""
        candidate = await asyncio.to_thread(self.check)
        if candidate is not None:
            self.swap(*candidate)
        return candidate is not None

    def check(self) -> tuple[ModelFiles, str] | None:
        """The changed files and their model's version; None when unchanged or refused (then logged and counted)."""
        if not self._watch.changed(self._unreadable):
            return None
        try:
            files = ModelFiles.read(self.directory)
            if files.digest in (self._seen, self.current.digest):
                return None  # touched, or rewritten the same: nothing to do
            self._seen = files.digest
            classifier = files.load()
            classifier.classify(PROBE)
        except ModelError as error:
            self._refuse(str(error))
            return None
        except Exception as error:  # noqa: BLE001 - whatever a foreign file makes fail, the running model stays
            self._refuse(f"the model cannot classify: {type(error).__name__}: {error}")
            return None
        return files, classifier.version

    def swap(self, files: ModelFiles, version: str) -> None:
        old, self.current, self.version = self.version, files, version
        MODEL_RELOADS.labels(outcome="loaded").inc()
        MODEL_INFO.clear()
        MODEL_INFO.labels(version=version).set(1)
        log.info("model.reloaded", path=str(self.directory), old_version=old, new_version=version)

    def _unreadable(self, error: OSError) -> None:
        self._refuse(f"cannot read the model files: {error.strerror}: {error.filename}")

    def _refuse(self, reason: str) -> None:
        MODEL_RELOADS.labels(outcome="refused").inc()
        log.error("model.refused", path=str(self.directory), reason=reason, kept_version=self.version)

