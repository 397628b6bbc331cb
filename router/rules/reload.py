"""Hot reload: a changed config file replaces the running one only if it loads cleanly."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NamedTuple

import structlog

from router.errors import ConfigError
from router.filewatch import FileWatch
from router.metrics import CONFIG_RELOADS
from router.rules.config import RoutingConfig, compile_text, config_hash
from router.rules.yamltext import read_yaml_text

log = structlog.get_logger(__name__)


class Candidate(NamedTuple):
    """A changed file that compiled: ready to take over once what it needs exists."""

    config: RoutingConfig
    data: bytes


class ConfigHolder:
    """Holds the last good config and swaps in a changed file that loads cleanly.

    `check` does the slow part (read, parse, compile) and swaps nothing, so it may run in another
    thread; `swap` puts a checked candidate in place. `reload` does both, off the event loop.
    Calls must not overlap: the worker polls from one timer.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._watch = FileWatch([self.path])
        text = read_yaml_text(self.path)
        self.current: RoutingConfig = compile_text(text)
        self.current_data = text.data  # the bytes `current` was compiled from, for processes that compile their own
        self._seen_hash = self.current.hash  # the last version examined, good or bad

    async def reload(self, prepare: Callable[[RoutingConfig], Awaitable[object]]) -> bool:
        """Check the file in another thread, await `prepare` (its topics), then swap; True when it took over.

        The event loop keeps serving while a large file parses. A config whose preparation fails is not
        swapped in, and is tried again on the next call.
        """
        candidate = await asyncio.to_thread(self.check)
        if candidate is None:
            return False
        try:
            await prepare(candidate.config)
        except Exception as error:  # noqa: BLE001 - whatever failed, the running config stays and the timer lives
            self._seen_hash = self.current.hash  # so that the next call tries again
            self._watch.forget()
            self._refuse(f"{self.path}: cannot prepare the new config {candidate.config.hash}: {error!r}")
            return False
        self.swap(candidate)
        return True

    def reload_if_changed(self) -> bool:
        """`check` then `swap`, in this thread; True when a new config took over."""
        candidate = self.check()
        if candidate is not None:
            self.swap(candidate)
        return candidate is not None

    def check(self) -> Candidate | None:
        """The changed file, compiled; None when unchanged or broken (then logged, counted and ignored)."""
        if not self._watch.changed(self._unreadable):
            return None
        try:
            text = read_yaml_text(self.path)
        except ConfigError as error:
            self._refuse(str(error))
            return None
        digest = config_hash(text.data)
        if digest == self._seen_hash:
            return None  # touched, or saved unchanged: nothing to do
        self._seen_hash = digest
        if digest == self.current.hash:
            log.info("config.unchanged", path=str(self.path), hash=digest)
            return None
        try:
            return Candidate(compile_text(text), text.data)
        except ConfigError as error:
            self._refuse(str(error))
            return None

    def swap(self, candidate: Candidate) -> None:
        old, self.current, self.current_data = self.current.hash, candidate.config, candidate.data
        CONFIG_RELOADS.labels(outcome="loaded").inc()
        log.info("config.reloaded", path=str(self.path), old_hash=old, new_hash=self.current.hash)

    def _unreadable(self, error: OSError) -> None:
        self._refuse(f"{self.path}:0: cannot read the file: {error.strerror}")

    def _refuse(self, reason: str) -> None:
        CONFIG_RELOADS.labels(outcome="refused").inc()
        log.error("config.refused", path=str(self.path), reason=reason, kept_hash=self.current.hash)

