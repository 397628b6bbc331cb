"""Whether watched files changed since the last look, from their inode, modification time and size."""

import os
from collections.abc import Callable, Sequence
from pathlib import Path

Stamp = tuple[tuple[int, int, int], ...]


class FileWatch:
    """Compares the files' stamps with the last look's; the inode catches files swapped in by rename or link.

    The first look is taken when the watch is made: it raises OSError when a file cannot be read.
    """

    def __init__(self, paths: Sequence[Path]):
        self._paths = tuple(paths)
        self._stamp: Stamp | None = self._take()

    def changed(self, unreadable: Callable[[OSError], object]) -> bool:
        """True when the files changed since the last look; when they can no longer be read, `unreadable` is told
        once, and it is False until they can be read again."""
        try:
            stamp = self._take()
        except OSError as error:
            if self._stamp is not None:
                self._stamp = None
                unreadable(error)
            return False
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        return True

    def forget(self) -> None:
        """The next look sees a change whatever the files are: they are read again."""
        self._stamp = ()

    def _take(self) -> Stamp:
        stats = [os.stat(path) for path in self._paths]
        return tuple((stat.st_ino, stat.st_mtime_ns, stat.st_size) for stat in stats)
