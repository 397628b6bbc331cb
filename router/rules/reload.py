"""Hot reload: a changed config file replaces the running one only if it loads cleanly."""

import os
from pathlib import Path

import structlog

from router.errors import ConfigError
from router.metrics import CONFIG_RELOADS
from router.rules.config import RoutingConfig, compile_text, config_hash
from router.rules.yamltext import YamlText, read_yaml_text

log = structlog.get_logger(__name__)

Stamp = tuple[int, int, int]


class ConfigHolder:
    """Holds the last good config; `reload_if_changed` is cheap enough to call on every batch."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._stamp: Stamp | None = _stamp(self.path)
        text = read_yaml_text(self.path)
        self.current: RoutingConfig = compile_text(text)
        self.current_data = text.data  # the bytes `current` was compiled from, for processes that compile their own
        self._seen_hash = self.current.hash  # the last version examined, good or bad

    def reload_if_changed(self) -> bool:
        """True when a new config took over; a broken file is logged, counted and ignored."""
        try:
            stamp = _stamp(self.path)
        except OSError as error:
            if self._stamp is None:
                return False  # still missing: reported once already
            self._stamp = None
            return self._refuse(f"{self.path}:0: cannot read the file: {error.strerror}")
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            data = self.path.read_bytes()
        except OSError as error:
            return self._refuse(f"{self.path}:0: cannot read the file: {error.strerror}")
        digest = config_hash(data)
        if digest == self._seen_hash:
            return False  # touched, or saved unchanged: nothing to do
        self._seen_hash = digest
        if digest == self.current.hash:
            log.info("config.unchanged", path=str(self.path), hash=digest)
            return False
        try:
            config = compile_text(YamlText(self.path, data))
        except ConfigError as error:
            return self._refuse(str(error))
        old, self.current, self.current_data = self.current.hash, config, data
        CONFIG_RELOADS.labels(outcome="loaded").inc()
        log.info("config.reloaded", path=str(self.path), old_hash=old, new_hash=config.hash)
        return True

    def _refuse(self, reason: str) -> bool:
        CONFIG_RELOADS.labels(outcome="refused").inc()
        log.error("config.refused", path=str(self.path), reason=reason,
                  kept_hash=self.current.hash)
        return False


def _stamp(path: Path) -> Stamp:
    # The inode catches editors and Kubernetes ConfigMaps that swap the file in by rename.
    stat = os.stat(path)
    return stat.st_ino, stat.st_mtime_ns, stat.st_size
