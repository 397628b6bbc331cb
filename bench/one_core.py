"""The one-core figures, classification alone and the offline replay, taken from their own bench scripts."""

import importlib
import inspect
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

BENCH = Path(__file__).resolve().parent
_PRINTED_RATE = re.compile(r"([\d,]+(?:\.\d+)?) mentions/s")


def per_second(script: str, **options: object) -> float:
    """Calls the script's `measure` when it has one, else runs the script and reads the rate it prints.

    `measure` pins the calling process to one core, so call this after the Kafka figures. Options the
    function does not take are left out; the script gets them as `--name=value`.
    """
    measure = getattr(importlib.import_module(script), "measure", None)
    if callable(measure):
        taken = inspect.signature(measure).parameters
        return _rate(measure(**{name: value for name, value in options.items() if name in taken}))
    argv = [f"--{name}={value}" for name, value in options.items()]
    printed = subprocess.run([sys.executable, str(BENCH / f"{script}.py"), *argv], check=True, capture_output=True,
                             text=True).stdout
    rates = _PRINTED_RATE.findall(printed)
    if not rates:
        raise SystemExit(f"{script}.py printed no mentions/s figure:\n{printed}")
    return float(rates[-1].replace(",", ""))


def _rate(result: object) -> float:
    """A number, or the one `*per_s` entry of a mapping."""
    if isinstance(result, Mapping):
        rates = [value for key, value in result.items() if str(key).endswith("per_s")]
        if len(rates) != 1:
            raise SystemExit(f"cannot tell the per-second figure in {result!r}")
        result = rates[0]
    return float(result)
