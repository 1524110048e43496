"""Stopping a child process politely, then firmly."""

from __future__ import annotations

import signal
import subprocess


def stop(
    process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30.0
) -> None:
    """Send `sig` and wait up to `timeout` seconds; kill it if it is still there."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
