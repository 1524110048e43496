"""The providers' adapters in general, whichever the provider: its HTTP client against a
provider that does not answer. Each provider's own are in test_stripe, test_paypal and
test_fawry, against the local stand-in of its API (conftest)."""

from __future__ import annotations

import socket

import pytest

from services.payments.providers.http import Http
from shared.errors import Unavailable


async def test_a_provider_nobody_listens_for_is_unavailable_and_surely_not_reached() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http = Http(1.0)
    try:
        with pytest.raises(Unavailable) as caught:
            await http.call("stripe", "POST", f"http://127.0.0.1:{port}/v1/x", lambda b: "")
    finally:
        await http.close()
    assert caught.value.reason == "PROVIDER_UNAVAILABLE"
    assert "could not be reached" in caught.value.message
