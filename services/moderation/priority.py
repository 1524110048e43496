"""The queue's order: when a subject falls due.

A subject is due at its first report's time, brought forward by the severity of the
worst reason reported and by the number of distinct reporters. Age counts by itself:
of two subjects alike, the one reported first is due first, and as every subject ages
at the same rate, an order fixed when reports arrive stays right without being
recomputed, so the queue is one index range on (state, due_at, id).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

# Reason → severity (1 LOW … 4 CRITICAL).
SEVERITY = {
    "spam": 1,
    "other": 1,
    "harassment": 2,
    "hate_speech": 3,
    "violence": 3,
    "sexual_content": 3,
    "illegal": 4,
}
# How far each severity brings a subject forward: a critical report outranks a day-old
# low one.
SEVERITY_LEAD = {
    1: timedelta(0),
    2: timedelta(hours=12),
    3: timedelta(days=1),
    4: timedelta(days=3),
}
# Each doubling of the distinct reporters brings a subject forward this much.
REPORTERS_LEAD = timedelta(hours=4)


def severity(reason: str) -> int:
    return SEVERITY[reason]


def worse(current: str, reported: str) -> str:
    """The more severe of two reasons (the current one on a tie)."""
    return reported if SEVERITY[reported] > SEVERITY[current] else current


def due_at(first_reported_at: datetime, severity: int, reporters: int) -> datetime:
    lead = SEVERITY_LEAD[severity] + REPORTERS_LEAD * math.log2(max(reporters, 1))
    return first_reported_at - lead
