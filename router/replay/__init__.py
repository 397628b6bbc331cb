"""Offline replay of mention archives through the worker's own pipeline: summaries, diffs, reports, publishing."""
