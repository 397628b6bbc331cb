"""The hostile corpus: committed records and generated big ones, each with what route_batch must make of it."""

import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
ROUTED = "routed"


@dataclass(frozen=True, slots=True)
class Hostile:
    """One hostile record; `expect` is "routed" or the prefix of the dead letter's reason."""

    name: str
    what: str
    expect: str
    mentions: int = 1
    file: str | None = None
    parts: tuple[tuple[str, int], ...] = ()

    @property
    def routed(self) -> bool:
        return self.expect == ROUTED

    def size(self) -> int:
        if self.file is not None:
            return (HERE / self.file).stat().st_size
        return sum(len(text.encode()) * times for text, times in self.parts)

    def value(self) -> bytes:
        """The record's bytes; generated ones are built on each call, so that none stays in memory."""
        if self.file is not None:
            return (HERE / self.file).read_bytes()
        return b"".join(text.encode() * times for text, times in self.parts)


def records() -> list[Hostile]:
    manifest = json.loads((HERE / "manifest.json").read_text())
    committed = [Hostile(entry["file"], entry["what"], entry["expect"], entry.get("mentions", 1), file=entry["file"])
                 for entry in manifest["records"]]
    generated = [Hostile(entry["name"], entry["what"], entry["expect"], entry.get("mentions", 1),
                         parts=tuple((text, times) for text, times in entry["parts"]))
                 for entry in manifest["generated"]]
    return committed + generated
