"""Counts per hop on event time, and what a scope's windows and its baseline hold; plain functions over a list.

A scope's counts are `[bucket, count]` pairs sorted by bucket, a bucket being `Unix seconds // hop`. The
window of a bucket is the `window // hop` buckets ending with it (hopping windows; tumbling when hop = window).
"""

from bisect import bisect_left

Buckets = list[list[int]]  # [[bucket, count], ...], sorted by bucket


def add(buckets: Buckets, bucket: int, keep_from: int) -> None:
    """One more mention in `bucket`; buckets before `keep_from` are dropped, as no window or baseline reads them."""
    if buckets and buckets[-1][0] == bucket:
        buckets[-1][1] += 1
    else:
        index = bisect_left(buckets, [bucket, 0])
        if index < len(buckets) and buckets[index][0] == bucket:
            buckets[index][1] += 1
        else:
            buckets.insert(index, [bucket, 1])
    drop = bisect_left(buckets, [keep_from, 0])
    if drop:
        del buckets[:drop]


def window_count(buckets: Buckets, last: int, size: int) -> int:
    """Mentions in the window of `size` buckets ending with bucket `last`."""
    total = 0
    for bucket, count in reversed(buckets):
        if bucket <= last - size:
            break
        if bucket <= last:
            total += count
    return total


def baseline(buckets: Buckets, last: int, size: int, span: int, quiet: tuple[int, int] | None) -> float:
    """The mean count per window over the `span` buckets before the window ending with `last`.

    The buckets of the scope's last incident (`quiet`, first and last bucket) are left out: a spike must
    not raise the bar of the next one. Before a scope has a history, its baseline is 0.
    """
    start = last - size + 1
    first = start - span
    total = sum(count for bucket, count in buckets if first <= bucket < start and not _within(bucket, quiet))
    counted = span - (_overlap(quiet, first, start - 1) if quiet else 0)
    return round(total * size / counted, 4) if counted > 0 else 0.0


def hot_until(buckets: Buckets, bucket: int, size: int, threshold: int) -> int:
    """The end (a bucket) of the last window holding `bucket` whose count reaches `threshold`; `bucket` if none."""
    last = bucket
    for end in range(bucket, bucket + size):
        if window_count(buckets, end, size) >= threshold:
            last = end
    return last


def _within(bucket: int, quiet: tuple[int, int] | None) -> bool:
    return quiet is not None and quiet[0] <= bucket <= quiet[1]


def _overlap(quiet: tuple[int, int], first: int, last: int) -> int:
    return max(0, min(quiet[1], last) - max(quiet[0], first) + 1)
