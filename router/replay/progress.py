"""A tiny progress line on stderr, drawn only when stderr is a terminal (never in CI logs or pipes)."""

import sys
import time
from typing import TextIO

WIDTH = 30
REDRAW_SECONDS = 0.2


class Progress:
    """Bytes of archive consumed out of the total, plus mentions seen and their rate."""

    def __init__(self, total_bytes: int, stream: TextIO | None = None, force: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.enabled = force or self.stream.isatty()
        self.total = max(total_bytes, 1)
        self.done = 0
        self.mentions = 0
        self.started = self._drawn = time.monotonic()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def bytes_read(self, done: int) -> None:
        self.done = done
        self._draw()

    def mention(self) -> None:
        self.mentions += 1

    def mentions_done(self, count: int) -> None:
        self.mentions += count

    def close(self) -> None:
        if self.enabled:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._drawn < REDRAW_SECONDS):
            return
        self._drawn = now
        fraction = min(self.done / self.total, 1.0)
        filled = int(fraction * WIDTH)
        rate = self.mentions / max(now - self.started, 1e-9)
        self.stream.write(f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {fraction:6.1%}  "
                          f"{self.mentions:,} mentions  {rate:,.0f}/s ")
        self.stream.flush()
