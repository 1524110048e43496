"""Progress lines on stderr, timestamped, so stdout carries only the results."""

from __future__ import annotations

import sys
import time


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
