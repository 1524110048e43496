"""The one HTTP client the real providers share, and how their failures are answered.

Unreachable, too slow, rate-limiting or failing (5xx) is UNAVAILABLE: the caller may
retry. A request that may have reached the provider without its answer reaching us (a
timeout or a connection lost once it was sent) says so with the reason NO_ANSWER, since
the provider may have acted on it. A refusal (any other 4xx, or a refusal in the body) is
FAILED_PRECONDITION with the provider's own reason. No provider failure becomes UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from shared.errors import FailedPrecondition, Unavailable
from shared.logs import get_logger

log = get_logger("daira.payments.providers")

REASON_MAX = 300
NO_ANSWER = "PROVIDER_NO_ANSWER"


class Http:
    def __init__(self, timeout_seconds: float) -> None:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds), follow_redirects=False
        )

    async def call(
        self, provider: str, method: str, url: str, reason: Callable[[Any], str], **options: Any
    ) -> Any:
        """The JSON a provider answers with; `reason` finds the why in a refusal's body."""
        try:
            response = await self._client.request(method, url, **options)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise unavailable(provider, f"could not be reached ({type(exc).__name__})") from None
        except httpx.TimeoutException:
            raise unavailable(provider, "did not answer in time", NO_ANSWER) from None
        except httpx.HTTPError as exc:
            what = f"did not answer ({type(exc).__name__})"
            raise unavailable(provider, what, NO_ANSWER) from None
        body = _json(response)
        status = response.status_code
        if status == 429 or status >= 500 or status < 200 or 300 <= status < 400:
            log.warning("provider failed", provider=provider, status=status)
            raise unavailable(provider, f"answered HTTP {status}")
        if status >= 400:
            raise refused(provider, _reason(reason, body) or f"HTTP {status}", status)
        if body is None:
            raise unavailable(provider, "answered something other than JSON")
        return body

    async def close(self) -> None:
        await self._client.aclose()


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reason(reason: Callable[[Any], str], body: Any) -> str:
    try:
        return str(reason(body))[:REASON_MAX]
    except (KeyError, TypeError, IndexError, AttributeError):
        return ""


def unavailable(provider: str, what: str, reason: str = "PROVIDER_UNAVAILABLE") -> Unavailable:
    return Unavailable(
        f"the provider {provider.upper()} {what}; try again later",
        reason=reason,
        metadata={"provider": provider.upper()},
    )


def refused(provider: str, why: str, status: int = 200) -> FailedPrecondition:
    return FailedPrecondition(
        f"the provider {provider.upper()} refused: {why}",
        reason="PROVIDER_REFUSED",
        metadata={"provider": provider.upper(), "http_status": str(status)},
    )
