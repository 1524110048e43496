"""What the RPC being served knows about its caller, for the calls it makes in turn.

The pipeline records the inbound request id and deadline here at the start of every
RPC; `shared.clients` reads them to pass the request id on and to cap each
downstream timeout by the time the caller has left.
"""

from __future__ import annotations

import contextvars
import time
from typing import NamedTuple


class Inbound(NamedTuple):
    request_id: str
    # A time.monotonic() value; None when the caller set no deadline.
    deadline: float | None


inbound: contextvars.ContextVar[Inbound | None] = contextvars.ContextVar(
    "daira_inbound", default=None
)


def set_inbound(request_id: str, time_remaining: float | None) -> None:
    """Called by the pipeline with the request id and `context.time_remaining()`."""
    deadline = None if time_remaining is None else time.monotonic() + time_remaining
    inbound.set(Inbound(request_id, deadline))
